/**
 * Micro-benchmark of the OTLP metrics encoder on synthetic HTTP workload output. Prints one
 * JSON line; run with `npx tsx bench/otlp-encode.bench.ts` (BENCH_SECONDS to change the budget).
 * points_per_sec and mb_per_sec are for otlp_proto encoding alone, into a reused writer (a
 * producer loop's path); the allocating encodeMetricsRequest, otlp_json and the workload
 * generator itself (100 simulated requests per route and interval) are reported alongside. Each
 * point is an http.server.request.duration histogram point: 15 buckets, 3 attributes.
 */

import { HttpWorkload, ProtoWriter, encodeMetricsRequest, encodeMetricsRequestJson, writeMetricsRequest } from '../runtime/otlp/index.js';
import type { MetricsRequest } from '../runtime/otlp/index.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 2);
const intervals = 8;

function countPoints(requests: readonly MetricsRequest[]): number {
  let n = 0;
  for (const r of requests) for (const rm of r.resourceMetrics) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) n += m.points.length;
  return n;
}

/** Runs `round` until the time budget is spent; returns rounds per second. */
function measure(budgetSeconds: number, round: () => void): number {
  for (let i = 0; i < 3; i++) round();
  let rounds = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < budgetSeconds) {
    round();
    rounds++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  return rounds / elapsed;
}

const options = {
  services: 20,
  instancesPerService: 5,
  routesPerService: 10,
  startTimeMs: Date.UTC(2025, 0, 1),
  intervalMs: 10_000,
  temporality: 'cumulative' as const,
  seed: 1,
};

// One throw-away run warms the generator's code, so the timed run measures steady state.
const warm = new HttpWorkload({ ...options, seed: 2 });
for (let i = 0; i < intervals; i++) warm.next();
const generated: MetricsRequest[] = [];
const genStart = process.hrtime.bigint();
const workload = new HttpWorkload(options);
for (let i = 0; i < intervals; i++) generated.push(...workload.next());
const genSeconds = Number(process.hrtime.bigint() - genStart) / 1e9;
const points = countPoints(generated);

let bytes = 0;
for (const r of generated) bytes += encodeMetricsRequest(r).length;

// The reusable-writer path (what a producer loop would do) and the allocating convenience call.
const writer = new ProtoWriter(64 * 1024);
const protoRounds = measure(seconds, () => {
  for (const r of generated) {
    writer.reset();
    writeMetricsRequest(writer, r);
  }
});
const allocRounds = measure(seconds / 2, () => {
  for (const r of generated) encodeMetricsRequest(r);
});
let jsonChars = 0;
const jsonRounds = measure(seconds / 2, () => {
  jsonChars = 0;
  for (const r of generated) jsonChars += encodeMetricsRequestJson(r).length;
});

console.log(
  JSON.stringify({
    bench: 'otlp-encode',
    points_per_sec: Math.round(protoRounds * points),
    mb_per_sec: Math.round((protoRounds * bytes) / 1e4) / 100,
    points_per_sec_copying: Math.round(allocRounds * points),
    bytes_per_point: Math.round((bytes / points) * 10) / 10,
    json_points_per_sec: Math.round(jsonRounds * points),
    json_mb_per_sec: Math.round((jsonRounds * jsonChars) / 1e4) / 100,
    generate_points_per_sec: Math.round(points / genSeconds),
    points_per_round: points,
    messages_per_round: generated.length,
  }),
);
