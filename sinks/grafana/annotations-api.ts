import { authHeader } from '../credentials.js';
import type { Credentials } from '../credentials.js';

/*
 * Grafana's Annotations HTTP API, as this sink relies on it (Grafana docs "Annotations HTTP API",
 * https://grafana.com/docs/grafana/latest/developers/http_api/annotations/ and the same page in the
 * grafana/grafana repository, docs/sources/developers/http_api/annotations.md; handlers in
 * pkg/api/annotations.go):
 * - `POST /api/annotations` takes JSON `{ dashboardUID?, panelId?, time, timeEnd?, tags, text }`;
 *   only `text` is required (an empty one is refused with 400). `time` and `timeEnd` are epoch
 *   milliseconds; a `timeEnd` makes it a region. Without dashboardUID/panelId the annotation is an
 *   organization annotation, shown on any dashboard whose annotation query filters by its tags.
 *   The answer is `{ "message": "Annotation added", "id": <number> }`.
 * - `PATCH /api/annotations/:id` changes only what it is given, of `text`, `tags`, `time` and
 *   `timeEnd` (an empty text or a zero time leaves the stored one); the answer is
 *   `{ "message": "Annotation patched" }`. An id Grafana does not know is a 404 ("Annotation not
 *   found", "Could not find annotation to update" in older releases; releases before 7 answered 500
 *   with the latter message, which is read as a 404 here).
 * - `GET /api/annotations?tags=<tag>&type=annotation&limit=<n>` lists the annotations carrying
 *   every given tag (repeat `tags` for more; `type=annotation` leaves out alert annotations) as a
 *   JSON array of `{ id, dashboardUID, panelId, time, timeEnd, tags, text, ... }`, newest first;
 *   `timeEnd` equals `time` for a point annotation. It needs annotations:read.
 * - Errors come as JSON `{ "message": ... }`: 400 for a body it cannot bind, 401 without valid
 *   credentials, 403 without the annotations:create/write permission.
 * - Authentication (Grafana docs "Authentication options for the HTTP API"): a service-account
 *   token as `Authorization: Bearer <token>`, or basic auth when enabled. Bodies are sent as
 *   `Content-Type: application/json`.
 * - Tags of the form `key:value` are stored as a key and a value of at most 100 characters each
 *   (the `tag` table), so the value part of a tag is cut at 100 characters.
 */

/** Grafana's answer to one request, as the sink acts on it. */
export type Answer = { readonly kind: 'ok'; readonly body: Record<string, unknown> } | { readonly kind: 'not-found' | 'rejected'; readonly status: number; readonly message: string };

/** What a lookup by tag gave: the annotations, or Grafana's refusal (status and the start of its answer). */
export type Listing = { readonly kind: 'list'; readonly annotations: readonly Record<string, unknown>[] } | { readonly kind: 'refused'; readonly status: number; readonly answer: string };

function reason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

/** The requests the Grafana sink makes, with Grafana's answers sorted into what the sink acts on. */
export class AnnotationsApi {
  private readonly base: string;

  constructor(
    url: string,
    private readonly credentials: Credentials | undefined,
    private readonly timeoutMs = 10_000,
  ) {
    const parsed = new URL(url);
    this.base = `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
  }

  /** One request; throws when a retry may help (network, 5xx, 429, 401, 403). */
  async send(method: 'POST' | 'PATCH', path: string, body: Record<string, unknown>): Promise<Answer> {
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers: { 'content-type': 'application/json', accept: 'application/json', ...authHeader(this.credentials) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new Error(`Grafana not reachable (${method} ${path}): ${reason(error)}`, { cause: error });
    }
    let raw: string;
    try {
      raw = await response.text();
    } catch (error) {
      throw new Error(`Grafana's answer to ${method} ${path} was cut off: ${reason(error)}`, { cause: error });
    }
    let parsed: Record<string, unknown> = {};
    try {
      const value: unknown = raw === '' ? {} : JSON.parse(raw);
      if (value && typeof value === 'object' && !Array.isArray(value)) parsed = value as Record<string, unknown>;
    } catch {
      // Not JSON (a proxy's error page): the status says enough, the start of the text says the rest.
    }
    const status = response.status;
    const message = typeof parsed.message === 'string' ? parsed.message : raw.replace(/\s+/g, ' ').slice(0, 200);
    if (response.ok) return { kind: 'ok', body: parsed };
    const notFound = method === 'PATCH' && (status === 404 || (status === 500 && /could not find annotation/i.test(message)));
    if (notFound) return { kind: 'not-found', status, message };
    if (status === 401 || status === 403) throw new Error(`Grafana refused the sink's credentials (${status} to ${method} ${path}: ${message}); check AIOPS_GRAFANA_TOKEN or AIOPS_GRAFANA_USER/_PASSWORD and the service account's annotation permissions`);
    if (status === 429 || status >= 500) throw new Error(`Grafana answered ${status} to ${method} ${path}: ${message}`);
    return { kind: 'rejected', status, message };
  }

  /**
   * The annotations carrying a tag (`GET /api/annotations?tags=<tag>&type=annotation`). Throws when
   * a retry may help (network, 5xx, 429, 401); any other refusal is returned as such.
   */
  async listByTag(tag: string): Promise<Listing> {
    const path = `/api/annotations?${new URLSearchParams({ tags: tag, type: 'annotation', limit: '10' }).toString()}`;
    let response: Response;
    let raw: string;
    try {
      response = await fetch(`${this.base}${path}`, {
        headers: { accept: 'application/json', ...authHeader(this.credentials) },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      raw = await response.text();
    } catch (error) {
      throw new Error(`Grafana not reachable (GET /api/annotations): ${reason(error)}`, { cause: error });
    }
    const status = response.status;
    if (status === 401) throw new Error(`Grafana refused the sink's credentials (401 to GET /api/annotations); check AIOPS_GRAFANA_TOKEN or AIOPS_GRAFANA_USER/_PASSWORD`);
    if (status === 429 || status >= 500) throw new Error(`Grafana answered ${status} to GET /api/annotations`);
    let list: unknown;
    try {
      list = response.ok ? JSON.parse(raw) : undefined;
    } catch {
      list = undefined;
    }
    if (!Array.isArray(list)) return { kind: 'refused', status, answer: raw.replace(/\s+/g, ' ').slice(0, 200) };
    return { kind: 'list', annotations: list as Record<string, unknown>[] };
  }
}
