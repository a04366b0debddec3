import type { Span } from '@opentelemetry/api';

/**
 * The HTTP server span of each request, keyed by the request object, as the HTTP
 * instrumentation's hook saw it. Express layer spans may be active in a handler; errors belong on
 * the server span, which is what the trace's root shows and what the metric describes.
 */
export const serverSpans = new WeakMap<object, Span>();

/**
 * The error message of each failed response, keyed by the response object. The HTTP
 * instrumentation sets the server span's status from the status code when the response ends,
 * dropping any description; its `applyCustomAttributesOnSpan` hook puts the message back.
 */
export const errorMessages = new WeakMap<object, string>();

/** Paths that are neither traced nor measured, nor faulted: probes and the admin API. */
export function isOperationalPath(url: string | undefined): boolean {
  const path = (url ?? '/').split('?')[0] ?? '/';
  return path === '/health' || path === '/ready' || path === '/admin' || path.startsWith('/admin/');
}
