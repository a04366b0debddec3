import { parseArgs } from 'node:util';
import { aiopsError } from '../../runtime/errors.js';
import { parseMix, runLoad } from './loadgen.js';
import type { LoadResult, TrafficMix } from './loadgen.js';

/** The demo app's API, weighted like a shop: mostly browsing, some orders and checkouts. */
export const demoMix: TrafficMix = { 'GET /api/users': 5, 'GET /api/users/:id': 3, 'POST /api/orders': 2, 'GET /api/checkout': 1 };

export const loadgenUsage = `usage: aiops loadgen --url URL [options]

Sends HTTP load at a bounded rate with a weighted mix of requests, then prints a summary.

options (environment variable in brackets):
  --url URL             base URL of the target, e.g. http://127.0.0.1:8080 [AIOPS_LOADGEN_URL]
  --rate N              requests per second (default 10)
  --duration D          how long: 500ms, 30s, 5m or plain ms (default 60s)
  --mix SPEC            weighted requests, "METHOD /path=weight,..." (default: the demo app's
                        ${Object.entries(demoMix)
                          .map(([k, w]) => `${k}=${w}`)
                          .join(',')})
  --max-in-flight N     cap on concurrent requests; due requests over it are skipped (default 64)
  --timeout-ms N        per-request timeout (default 10000)
  --json                print the result as JSON
`;

/** Runs node:util parseArgs, turning its errors (unknown flag, missing value) into usage errors. */
function parseFlags<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw aiopsError('CLI_USAGE', [`loadgen: ${(error as Error).message}\n\n${loadgenUsage}`]);
  }
}

/** `500ms`, `30s`, `5m`, `1h` or a plain number of ms. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) return undefined;
  const factor = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(match[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(match[1]) * factor);
}

/** `"GET /api/users=5,POST /api/orders=2"` → `{ 'GET /api/users': 5, 'POST /api/orders': 2 }`. */
export function parseMixSpec(spec: string): TrafficMix {
  const mix: Record<string, number> = {};
  for (const part of spec.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.lastIndexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim();
    const weight = eq < 0 ? 1 : Number(part.slice(eq + 1));
    mix[key] = weight;
  }
  parseMix(mix);
  return mix;
}

/** A short human-readable summary of a run. */
export function formatLoadResult(result: LoadResult): string {
  const lines = [
    `sent ${result.sent} in ${(result.elapsedMs / 1000).toFixed(1)} s: ${result.ok} ok, ${result.errors} errors, ${result.skipped} skipped`,
    `latency p50 ${result.latencyMs.p50} ms, p95 ${result.latencyMs.p95} ms, p99 ${result.latencyMs.p99} ms, max ${result.latencyMs.max} ms`,
  ];
  for (const [key, stats] of Object.entries(result.byRoute)) {
    const statuses = Object.entries(stats.statuses)
      .map(([status, n]) => `${status}×${n}`)
      .join(' ');
    lines.push(`  ${key.padEnd(24)} sent ${String(stats.sent).padStart(6)}  ok ${String(stats.ok).padStart(6)}  errors ${String(stats.errors).padStart(6)}  ${statuses}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * `aiops loadgen --url URL [--rate N] [--duration D] [--mix SPEC]`: runs the load in the
 * foreground (Ctrl-C stops early and still prints what was sent) and prints the summary.
 */
export async function runLoadgen(argv: string[], options: { signal?: AbortSignal } = {}): Promise<number> {
  const { values } = parseFlags(() =>
    parseArgs({
      args: argv,
      options: {
        url: { type: 'string' },
        rate: { type: 'string' },
        duration: { type: 'string' },
        mix: { type: 'string' },
        'max-in-flight': { type: 'string' },
        'timeout-ms': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (values.help) {
    process.stdout.write(loadgenUsage);
    return 0;
  }
  const problems: string[] = [];
  const url = values.url ?? process.env.AIOPS_LOADGEN_URL;
  if (!url || !URL.canParse(url)) problems.push(`  - url: expected a base URL such as http://127.0.0.1:8080${url ? `, got "${url}"` : ''}`);
  const rate = Number(values.rate ?? 10);
  if (!(rate > 0 && Number.isFinite(rate))) problems.push(`  - rate: expected a number of requests per second > 0, got "${values.rate}"`);
  const durationMs = parseDuration(values.duration ?? '60s');
  if (durationMs === undefined) problems.push(`  - duration: expected e.g. 500ms, 30s, 5m, got "${values.duration}"`);
  const maxInFlight = Number(values['max-in-flight'] ?? 64);
  if (!(Number.isInteger(maxInFlight) && maxInFlight >= 1)) problems.push(`  - max-in-flight: expected an integer >= 1, got "${values['max-in-flight']}"`);
  const timeoutMs = Number(values['timeout-ms'] ?? 10_000);
  if (!(Number.isInteger(timeoutMs) && timeoutMs >= 1)) problems.push(`  - timeout-ms: expected an integer >= 1, got "${values['timeout-ms']}"`);
  let mix: TrafficMix = demoMix;
  if (values.mix !== undefined) {
    try {
      mix = parseMixSpec(values.mix);
    } catch (error) {
      problems.push(`  - mix: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) throw aiopsError('CLI_USAGE', [`loadgen:\n${problems.join('\n')}\n\n${loadgenUsage}`]);

  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  options.signal?.addEventListener('abort', onSignal, { once: true });
  try {
    const result = await runLoad({ baseUrl: url as string, ratePerSecond: rate, durationMs: durationMs as number, mix, maxInFlight, timeoutMs, signal: controller.signal });
    process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : formatLoadResult(result));
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    options.signal?.removeEventListener('abort', onSignal);
  }
}
