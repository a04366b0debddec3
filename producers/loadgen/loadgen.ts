import { sleep } from '../../runtime/retry.js';

/** Weighted traffic mix: `'METHOD /path'` → relative weight, e.g. `{ 'GET /api/users': 5, 'POST /api/orders': 2 }`. */
export type TrafficMix = Readonly<Record<string, number>>;

export interface LoadOptions {
  /** Base URL of the target, e.g. http://127.0.0.1:8080. */
  readonly baseUrl: string;
  /** Requests started per second (at most; fewer when `maxInFlight` is reached). */
  readonly ratePerSecond: number;
  /** How long to send, in ms; in-flight requests are awaited after that. */
  readonly durationMs: number;
  /**
   * Which requests, by weight. Path segments like `:id` get a value from `params` or a random
   * integer 1..5. POST/PUT/PATCH send `body(key)` as JSON (default `{}`).
   */
  readonly mix: TrafficMix;
  /** Cap on concurrent requests (default 64); a request due while at the cap is skipped, not queued. */
  readonly maxInFlight?: number;
  /** Per-request timeout in ms (default 10 000). */
  readonly timeoutMs?: number;
  /** Stops sending and aborts in-flight requests; the result covers what was sent until then. */
  readonly signal?: AbortSignal;
  /** Values for `:name` path segments. */
  readonly params?: Readonly<Record<string, () => string | number>>;
  /** JSON body per mix key for requests with a body. */
  readonly body?: (key: string) => unknown;
  /** Scheduler tick in ms (default 20): due requests are started on each tick. */
  readonly tickMs?: number;
  /** Source of randomness for path parameters (default Math.random). */
  readonly random?: () => number;
}

export interface RouteStats {
  sent: number;
  ok: number;
  errors: number;
  /** Responses by status code; `network` for failures without a response, `aborted` for aborted requests. */
  statuses: Record<string, number>;
}

export interface LoadResult {
  /** Requests started. */
  readonly sent: number;
  /** 2xx and 3xx responses. */
  readonly ok: number;
  /** Everything else: 4xx, 5xx, network errors, timeouts, aborts. */
  readonly errors: number;
  /** Requests that were due while `maxInFlight` requests were running (or far overdue), and so not sent. */
  readonly skipped: number;
  readonly byRoute: Readonly<Record<string, RouteStats>>;
  /** Latency of completed requests (with a response), in ms. */
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly p99: number; readonly max: number };
  /** From the first request to the last completion, in ms. */
  readonly elapsedMs: number;
}

/** A parsed mix entry. */
export interface MixEntry {
  readonly key: string;
  readonly method: string;
  readonly path: string;
  readonly weight: number;
}

const methods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Validates a mix; every problem is reported at once. */
export function parseMix(mix: TrafficMix): MixEntry[] {
  const problems: string[] = [];
  const entries: MixEntry[] = [];
  for (const [key, weight] of Object.entries(mix)) {
    const match = /^([A-Za-z]+)\s+(\/\S*)$/.exec(key.trim());
    if (!match) problems.push(`"${key}": expected "METHOD /path"`);
    else if (!methods.has((match[1] ?? '').toUpperCase())) problems.push(`"${key}": unknown method ${match[1]}`);
    if (!(typeof weight === 'number' && Number.isFinite(weight) && weight >= 0)) problems.push(`"${key}": weight must be a number >= 0`);
    if (match && problems.length === 0 && weight > 0) entries.push({ key, method: (match[1] ?? '').toUpperCase(), path: match[2] ?? '/', weight });
  }
  if (problems.length === 0 && entries.length === 0) problems.push('the mix needs at least one entry with a weight > 0');
  if (problems.length > 0) throw new Error(`traffic mix: ${problems.join('; ')}`);
  return entries;
}

/**
 * Smooth weighted round robin (as nginx balances upstreams): deterministic, and after any n
 * picks each entry's count is within 1 of n × its share, so even short runs follow the mix.
 */
export class WeightedPicker<T extends { readonly weight: number }> {
  readonly #entries: readonly T[];
  readonly #current: number[];
  readonly #total: number;

  constructor(entries: readonly T[]) {
    if (entries.length === 0) throw new Error('WeightedPicker needs at least one entry');
    this.#entries = entries;
    this.#current = entries.map(() => 0);
    this.#total = entries.reduce((sum, e) => sum + e.weight, 0);
  }

  next(): T {
    let best = 0;
    for (let i = 0; i < this.#entries.length; i++) {
      this.#current[i] = (this.#current[i] ?? 0) + (this.#entries[i]?.weight ?? 0);
      if ((this.#current[i] ?? 0) > (this.#current[best] ?? 0)) best = i;
    }
    this.#current[best] = (this.#current[best] ?? 0) - this.#total;
    return this.#entries[best] as T;
  }
}

/** How many requests are due `elapsedMs` after the start at `ratePerSecond`: one at once, then evenly spaced. */
export function dueRequests(elapsedMs: number, ratePerSecond: number, durationMs: number): number {
  const total = plannedRequests(ratePerSecond, durationMs);
  if (elapsedMs < 0) return 0;
  return Math.min(total, Math.floor((elapsedMs * ratePerSecond) / 1000) + 1);
}

/** Requests a run of `durationMs` at `ratePerSecond` sends when nothing is skipped. */
export function plannedRequests(ratePerSecond: number, durationMs: number): number {
  return Math.max(0, Math.ceil((ratePerSecond * durationMs) / 1000));
}

/** The q-quantile (0..1) of sorted values, nearest rank; 0 for none. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] ?? 0;
}

const maxLatencySamples = 100_000;

/**
 * Sends HTTP load with global fetch: `ratePerSecond` requests per second for `durationMs`,
 * picked from `mix` by weight. A tick scheduler starts the requests that are due on each tick, so
 * the rate is bounded (never more than rate × duration in all; a late tick skips what is more
 * than max(two ticks, 100 ms) overdue instead of catching up in a burst), and
 * at most `maxInFlight` run at once: a due request finding the cap reached is skipped and
 * counted, which keeps a slow target from piling up unbounded concurrency.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (!(options.ratePerSecond > 0 && Number.isFinite(options.ratePerSecond))) throw new Error('ratePerSecond must be a number > 0');
  if (!(options.durationMs >= 0 && Number.isFinite(options.durationMs))) throw new Error('durationMs must be a number >= 0');
  const maxInFlight = options.maxInFlight ?? 64;
  if (!(Number.isInteger(maxInFlight) && maxInFlight >= 1)) throw new Error('maxInFlight must be an integer >= 1');
  const picker = new WeightedPicker(parseMix(options.mix));
  const base = new URL(options.baseUrl);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const tickMs = options.tickMs ?? 20;
  const random = options.random ?? Math.random;
  const total = plannedRequests(options.ratePerSecond, options.durationMs);
  // Requests more than max(two ticks, 100 ms) overdue are skipped rather than sent in a burst.
  const burst = Math.max(2, Math.ceil((options.ratePerSecond * Math.max(2 * tickMs, 100)) / 1000));

  const byRoute: Record<string, RouteStats> = {};
  for (const key of Object.keys(options.mix)) byRoute[key] = { sent: 0, ok: 0, errors: 0, statuses: {} };
  const latencies: number[] = [];
  let latencyCount = 0;
  let sent = 0;
  let ok = 0;
  let errors = 0;
  let skipped = 0;
  let issued = 0;
  const inFlight = new Set<Promise<void>>();

  const recordLatency = (ms: number): void => {
    latencyCount++;
    if (latencies.length < maxLatencySamples) latencies.push(ms);
    else {
      // Reservoir sampling keeps the percentiles fair on very long runs.
      const slot = Math.floor(random() * latencyCount);
      if (slot < maxLatencySamples) latencies[slot] = ms;
    }
  };

  const send = async (entry: MixEntry): Promise<void> => {
    const stats = byRoute[entry.key] as RouteStats;
    const path = entry.path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_m, name: string) => encodeURIComponent(String(options.params?.[name]?.() ?? 1 + Math.floor(random() * 5))));
    const url = new URL(path, base);
    const hasBody = entry.method === 'POST' || entry.method === 'PUT' || entry.method === 'PATCH';
    const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])];
    const started = performance.now();
    let status: string;
    try {
      const response = await fetch(url, {
        method: entry.method,
        ...(hasBody ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(options.body?.(entry.key) ?? {}) } : {}),
        signal: AbortSignal.any(signals),
      });
      await response.arrayBuffer();
      recordLatency(performance.now() - started);
      status = String(response.status);
    } catch (error) {
      status = options.signal?.aborted ? 'aborted' : (error as Error).name === 'TimeoutError' ? 'timeout' : 'network';
    }
    const good = /^[23]\d\d$/.test(status);
    if (good) {
      stats.ok++;
      ok++;
    } else {
      stats.errors++;
      errors++;
    }
    stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;
  };

  const start = performance.now();
  while (issued < total && !options.signal?.aborted) {
    const due = dueRequests(performance.now() - start, options.ratePerSecond, options.durationMs);
    // A late tick (a blocked event loop) does not catch up in a burst.
    const late = due - issued - burst;
    if (late > 0) {
      skipped += late;
      issued += late;
    }
    while (issued < due) {
      issued++;
      if (inFlight.size >= maxInFlight) {
        skipped++;
        continue;
      }
      const entry = picker.next();
      sent++;
      (byRoute[entry.key] as RouteStats).sent++;
      const request = send(entry).finally(() => inFlight.delete(request));
      inFlight.add(request);
    }
    const nextDueAt = (issued * 1000) / options.ratePerSecond;
    await sleep(Math.max(1, Math.min(tickMs, nextDueAt - (performance.now() - start))), options.signal).catch(() => undefined);
  }
  await Promise.all(inFlight);
  const elapsedMs = performance.now() - start;
  const sorted = [...latencies].sort((a, b) => a - b);
  const round = (ms: number): number => Math.round(ms * 10) / 10;
  return {
    sent,
    ok,
    errors,
    skipped,
    byRoute,
    latencyMs: { p50: round(quantile(sorted, 0.5)), p95: round(quantile(sorted, 0.95)), p99: round(quantile(sorted, 0.99)), max: round(sorted[sorted.length - 1] ?? 0) },
    elapsedMs: Math.round(elapsedMs),
  };
}
