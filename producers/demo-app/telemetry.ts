import type { IncomingMessage, ServerResponse } from 'node:http';
import { SpanStatusCode, metrics, trace } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { ATTR_SERVICE_INSTANCE_ID, ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { registerProcessMetrics, runtimeInstrumentation } from '../../runtime/runtime-metrics.js';
import { errorMessages, isOperationalPath, serverSpans } from './server-spans.js';

export interface DemoTelemetryOptions {
  readonly serviceName: string;
  /** Collector OTLP/HTTP base URL, e.g. http://127.0.0.1:4318 (`/v1/traces` and `/v1/metrics` are appended). */
  readonly otlpHttpEndpoint: string;
  /** Metric export interval in ms. */
  readonly metricIntervalMs: number;
  /** Longest a finished span waits in the batch span processor before export, in ms. */
  readonly spanDelayMs: number;
  readonly serviceInstanceId?: string;
  readonly serviceVersion?: string;
  /**
   * Services this one calls, by `host:port`: an outgoing request to one of them gets
   * `peer.service` on its client span (the span metrics' edge of the service graph).
   */
  readonly peerServices?: ReadonlyMap<string, string>;
}

export interface DemoTelemetry {
  /** Flushes and stops tracing and metrics. */
  shutdown(): Promise<void>;
}

/** The demo app's version, reported as service.version. */
export const demoAppVersion = '0.1.0';

function isServerResponse(response: IncomingMessage | ServerResponse): response is ServerResponse {
  return typeof (response as ServerResponse).setHeader === 'function';
}

/**
 * Starts the OpenTelemetry Node SDK for the demo app: HTTP and Express auto-instrumentation,
 * the Node.js runtime and process metrics (runtime/runtime-metrics.ts), OTLP/HTTP export of
 * traces (batched) and metrics (every `metricIntervalMs`).
 *
 * Must run before `express` and `node:http` are loaded by the app, so that the instrumentations
 * patch them: the app module loads express with `require` (see app.ts) and is imported only after
 * this returned. The SDK registers global providers, so there is one per process.
 *
 * The HTTP server metric is the stable semantic-convention one, `http.server.request.duration`
 * in seconds with `http.request.method`, `http.response.status_code` and `http.route`. From
 * @opentelemetry/instrumentation-http 0.221 on that is the only behaviour; for older versions the
 * stable conventions needed `OTEL_SEMCONV_STABILITY_OPT_IN=http`, which is set here too (unless set).
 */
export function startDemoTelemetry(options: DemoTelemetryOptions): DemoTelemetry {
  process.env.OTEL_SEMCONV_STABILITY_OPT_IN ??= 'http';
  // The SDK's batch span processor reads its delay from the environment when a trace exporter is given.
  process.env.OTEL_BSP_SCHEDULE_DELAY = String(options.spanDelayMs);
  const base = options.otlpHttpEndpoint.replace(/\/+$/, '');
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.serviceName,
      [ATTR_SERVICE_VERSION]: options.serviceVersion ?? demoAppVersion,
      [ATTR_SERVICE_INSTANCE_ID]: options.serviceInstanceId ?? `${options.serviceName}-${process.pid}`,
    }),
    autoDetectResources: false,
    traceExporter: new OTLPTraceExporter({ url: `${base}/v1/traces` }),
    metricReaders: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: `${base}/v1/metrics` }),
        exportIntervalMillis: options.metricIntervalMs,
        exportTimeoutMillis: Math.min(options.metricIntervalMs, 30_000),
      }),
    ],
    // No logs are sent; without this the SDK would set up an OTLP log exporter from the environment.
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => isOperationalPath(request.url),
        startOutgoingSpanHook: (request) => {
          const peer = options.peerServices?.get(`${request.hostname ?? request.host ?? ''}:${request.port ?? ''}`);
          return peer ? { 'peer.service': peer } : {};
        },
        requestHook: (span, request) => {
          // Server side only: an outgoing request is a ClientRequest, which has setHeader.
          if (typeof (request as { setHeader?: unknown }).setHeader !== 'function') serverSpans.set(request, span);
        },
        responseHook: (span, response) => {
          if (!isServerResponse(response) || response.headersSent) return;
          const context = span.spanContext();
          if (!trace.isSpanContextValid(context)) return;
          // Lets a client find the trace of its request: x-trace-id and the W3C `traceresponse` header.
          response.setHeader('x-trace-id', context.traceId);
          response.setHeader('traceresponse', `00-${context.traceId}-${context.spanId}-${context.traceFlags.toString(16).padStart(2, '0')}`);
        },
        applyCustomAttributesOnSpan: (span, _request, response) => {
          const message = errorMessages.get(response);
          if (message !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message });
        },
      }),
      new ExpressInstrumentation(),
      runtimeInstrumentation(),
    ],
  });
  sdk.start();
  registerProcessMetrics(metrics.getMeter('aiops-demo-app.process'));
  return { shutdown: () => sdk.shutdown() };
}
