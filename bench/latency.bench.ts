/**
 * Latency from the collector to evaluate's output, under steady traffic: OTLP/HTTP requests into
 * the stack's collector (which appends them to `otlp_metrics`), ingest and evaluate running as
 * processes do (runner, transactions), and for every input record the time from its append on
 * `otlp_metrics` (the record's Kafka timestamp) to the moment the signal values of its bucket are
 * visible to a read_committed consumer of the values topic (their transaction committed).
 *
 * Split of that time:
 * - **by design**: the wait for the bucket to end and for the allowed lateness to pass, i.e.
 *   until every `otlp_metrics` partition has a record appended whose event time is at least the
 *   bucket's end plus the lateness (the watermark that closes the bucket), and
 * - **processing + commit**: from that closing append to the values being visible (ingest's
 *   decode, commit interval and transaction, evaluate's fetch, merge and transaction).
 *
 * Traffic: BENCH_SERIES series (default 10,000) of `http.server.request.duration` (cumulative
 * histograms), 100 per service instance, one point each per BENCH_INTERVAL_MS (default 10 s),
 * the instances' requests spread evenly over the interval; BENCH_SECONDS (default 60) of it.
 * Ingest with 10 s buckets and 5 s allowed lateness (the defaults). Other traffic on the shared
 * `otlp_metrics` (demo apps) flows through too: it moves the watermarks as it would in production.
 *
 * Run: `npm run bench:latency` (the stack must be up: `node bin/aiops.js stack up`). Progress
 * goes to stderr; one JSON line to stdout.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { evaluateFactory } from '../processors/evaluate/index.js';
import { defaultRules, ingestFactory, parseIngestConfig } from '../processors/ingest/index.js';
import { OtlpMetricsDecoder, encodeMetricsRequest } from '../runtime/otlp/index.js';
import type { MetricsRequest, MetricsVisitor } from '../runtime/otlp/index.js';
import { createLogger } from '../runtime/logger.js';
import { runProcess } from '../runtime/process.js';
import type { RunningProcess } from '../runtime/process.js';
import { sleep } from '../runtime/retry.js';
import { processKafka } from '../runtime/runner.js';
import { signalSerde, signalValueSerde } from '../schemas/index.js';
import { endOffsets, kafkaClient, localEndpoints } from '../stack/clients/index.js';
import { loadStackConfig } from '../stack/index.js';

const SERIES = Number(process.env.BENCH_SERIES ?? 10_000);
const INTERVAL_MS = Number(process.env.BENCH_INTERVAL_MS ?? 10_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const PER_INSTANCE = 100;
const ROUTES = 25;
const STATUSES = [200, 201, 404, 500];
const BOUNDS = [0.01, 0.05, 0.1, 0.5, 1];

function progress(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

/** One instance's request: its 100 series (25 routes × 4 status codes), cumulative since `startMs`. */
function instanceRequest(service: string, instance: number, startMs: number, timeMs: number, n: number): Buffer {
  const points = [];
  for (let i = 0; i < PER_INSTANCE; i++) {
    const count = n * (1 + (i % 3));
    points.push({
      attributes: { 'http.route': `/r${i % ROUTES}`, 'http.request.method': 'GET', 'http.response.status_code': STATUSES[Math.floor(i / ROUTES) % STATUSES.length] as number },
      startTimeMs: startMs,
      timeMs,
      startTimeUnixNano: `${startMs}000000`,
      timeUnixNano: `${timeMs}000000`,
      flags: 0,
      count,
      sum: count * 0.05,
      min: undefined,
      max: undefined,
      bucketCounts: [count, 0, 0, 0, 0, 0],
      explicitBounds: BOUNDS,
    });
  }
  const request: MetricsRequest = {
    resourceMetrics: [
      {
        resource: { 'service.name': service, 'service.instance.id': `i-${instance}` },
        scopeMetrics: [{ scope: { name: 'latency-bench', version: '', attributes: {} }, metrics: [{ name: 'http.server.request.duration', description: '', unit: 's', kind: 'histogram', temporality: 2, points }] }],
      },
    ],
  };
  return Buffer.from(encodeMetricsRequest(request));
}

function quantiles(values: number[]): { p50: number; p99: number; max: number; n: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
  return { p50: Math.round(at(0.5)), p99: Math.round(at(0.99)), max: Math.round(sorted[sorted.length - 1] ?? Number.NaN), n: sorted.length };
}

/** Largest point time (ms) of an otlp_metrics record, and whether it is this run's. */
function inspect(decoder: OtlpMetricsDecoder, value: Buffer, service: string): { maxEventMs: number; ours: boolean } {
  let maxEventMs = -Infinity;
  let ours = false;
  const seen = (t: number): void => {
    if (t > maxEventMs) maxEventMs = t;
  };
  const visitor: MetricsVisitor = {
    onResource: (resource) => {
      if (resource.value(0) === service) ours = true;
      return true;
    },
    onMetric: () => true,
    onNumberPoint: (_a, _s, t) => seen(t),
    onHistogramPoint: (_a, _s, t) => seen(t),
    onExponentialHistogramPoint: (_a, _s, t) => seen(t),
    onSummaryPoint: (_a, _s, t) => seen(t),
  };
  try {
    decoder.decode(value, visitor);
  } catch {
    // Someone else's bad record: it moves no watermark.
  }
  return { maxEventMs, ours };
}

async function main(): Promise<void> {
  const endpoints = localEndpoints(loadStackConfig());
  const kafka = kafkaClient(endpoints.kafkaBrokers);
  const run = randomUUID().slice(0, 8);
  const service = `latency-${run}`;
  const signalsTopic = `bench.latency-signals.${run}`;
  const valuesTopic = `bench.latency-values.${run}`;
  const config = parseIngestConfig({ rules: defaultRules, signalsTopic });
  const { bucketMs, allowedLatenessMs } = config;
  const quiet = (name: string) => createLogger(name, { level: 'warn' });
  const processes: RunningProcess[] = [];
  processes.push(
    await runProcess({ name: `bench-ingest-${run}`, kafka: processKafka(endpoints.kafkaBrokers, 'bench-ingest', quiet('kafkajs')), log: quiet('ingest'), inputTopic: 'otlp_metrics', outputTopics: [signalsTopic], factory: ingestFactory(config), idleTimeoutMs: config.idleTimeoutMs, port: 0, fromBeginning: false }),
  );
  processes.push(
    await runProcess({ name: `bench-evaluate-${run}`, kafka: processKafka(endpoints.kafkaBrokers, 'bench-evaluate', quiet('kafkajs')), log: quiet('evaluate'), inputTopic: signalsTopic, outputTopics: [valuesTopic], factory: evaluateFactory({ valuesTopic }), idleTimeoutMs: 5_000, port: 0 }),
  );
  while (!(await Promise.all(processes.map((p) => p.runner.ready()))).every(Boolean)) await sleep(100);
  const start = await endOffsets(kafka, 'otlp_metrics');

  // When each bucket's values become visible to a read_committed consumer (receipt time).
  const visibleAt = new Map<number, number>();
  // And when ingest's partials of each bucket become visible on the signals topic (the split
  // of processing + commit between ingest and evaluate).
  const partialsAt = new Map<number, number>();
  const tails = [
    { topic: valuesTopic, at: visibleAt, bucketOf: (v: Buffer) => signalValueSerde.deserialize(v).bucketStartMs },
    { topic: signalsTopic, at: partialsAt, bucketOf: (v: Buffer) => signalSerde.deserialize(v).bucketStartMs },
  ].map(({ topic, at, bucketOf }) => {
    const tail = kafka.consumer({ groupId: `bench.latency-tail-${run}-${topic}`, maxWaitTimeInMs: 50 });
    return { tail, start: async () => {
      await tail.connect();
      await tail.subscribe({ topic, fromBeginning: true });
      void tail.run({
        eachBatch: async ({ batch }) => {
          const now = Date.now();
          for (const m of batch.messages) {
            if (!m.key?.toString().includes(service) || !m.value) continue;
            const bucket = bucketOf(m.value);
            at.set(bucket, Math.max(at.get(bucket) ?? 0, now));
          }
        },
      });
    } };
  });
  for (const t of tails) await t.start();

  const instances = Math.max(1, Math.round(SERIES / PER_INSTANCE));
  const startMs = Date.now();
  const sends: number[] = Array.from({ length: instances }, () => 0);
  progress(`${instances * PER_INSTANCE} series in ${instances} instances, one point each per ${INTERVAL_MS} ms, for ${SECONDS} s (bucket ${bucketMs} ms, lateness ${allowedLatenessMs} ms)`);
  let late = 0;
  let failed = 0;
  const step = INTERVAL_MS / instances;
  const endAt = startMs + SECONDS * 1000;
  for (let k = 0; ; k++) {
    const due = startMs + k * step;
    if (due >= endAt) break;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    else if (wait < -step) late++;
    const i = k % instances;
    sends[i] = (sends[i] ?? 0) + 1;
    const body = instanceRequest(service, i, startMs, Date.now(), sends[i] as number);
    void fetch(`${endpoints.otlpHttp}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body })
      .then((r) => {
        if (!r.ok) failed++;
      })
      .catch(() => void failed++);
  }
  const lastBucket = Math.floor((endAt - 1) / bucketMs) * bucketMs;
  progress('traffic sent; waiting for the last full bucket');
  // The last bucket closes once traffic (or idleness) moves the watermark past it.
  const deadline = Date.now() + bucketMs + allowedLatenessMs + 30_000;
  while (!visibleAt.has(lastBucket - bucketMs) && Date.now() < deadline) await sleep(200);
  for (const t of tails) await t.tail.disconnect();
  const transactions = await Promise.all(
    processes.map(async (p) => {
      const { counters } = await p.runner.stats();
      const commits = counters.commits ?? 0;
      return { commits, mean_ms: commits > 0 ? Math.round((counters.commit_ms ?? 0) / commits) : null, concurrent_transactions_retries: counters.concurrent_transactions_retries ?? 0 };
    }),
  );
  for (const p of processes) await p.stop();
  if (process.env.BENCH_KEEP_TOPICS !== '1') {
    const admin = kafka.admin();
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const topics = [signalsTopic, valuesTopic, `aiops.bench-ingest-${run}.state`, `aiops.bench-evaluate-${run}.state`].filter((t) => existing.has(t));
    await admin.deleteTopics({ topics }).catch((error: unknown) => progress(`could not delete the run's topics: ${(error as Error).message}`));
    await admin.disconnect();
  }

  // The input as appended: per partition, (append time, largest event time); ours by bucket.
  progress('reading otlp_metrics back');
  const decoder = new OtlpMetricsDecoder({ extractKeys: ['service.name'] });
  const byPartition = new Map<number, { ts: number; maxEventMs: number }[]>();
  const ours: { ts: number; bucket: number }[] = [];
  const ends = await endOffsets(kafka, 'otlp_metrics');
  const want = new Map(ends.map((e) => [e.partition, BigInt(e.offset)]));
  const reader = kafka.consumer({ groupId: `bench.latency-read-${run}`, maxBytesPerPartition: 4 * 1024 * 1024 });
  await reader.connect();
  await reader.subscribe({ topic: 'otlp_metrics', fromBeginning: true });
  const done = new Set<number>();
  for (const s of start) if (BigInt(s.offset) >= (want.get(s.partition) ?? 0n)) done.add(s.partition);
  await new Promise<void>((resolve) => {
    if (done.size === want.size) resolve();
    void reader.run({
      eachBatch: async ({ batch }) => {
        const from = BigInt(start.find((s) => s.partition === batch.partition)?.offset ?? '0');
        const list = byPartition.get(batch.partition) ?? [];
        byPartition.set(batch.partition, list);
        for (const m of batch.messages) {
          if (BigInt(m.offset) < from || BigInt(m.offset) >= (want.get(batch.partition) ?? 0n) || !m.value) continue;
          const info = inspect(decoder, m.value, service);
          list.push({ ts: Number(m.timestamp), maxEventMs: info.maxEventMs });
          if (info.ours) ours.push({ ts: Number(m.timestamp), bucket: Math.floor(info.maxEventMs / bucketMs) * bucketMs });
        }
        if (BigInt(batch.lastOffset()) + 1n >= (want.get(batch.partition) ?? 0n)) done.add(batch.partition);
        if (done.size === want.size) resolve();
      },
    });
  });
  await reader.disconnect();

  /** When every partition with input had a record appended whose event time closes `bucket`. */
  const closingAppend = (bucket: number): number | undefined => {
    let latest = -Infinity;
    for (const list of byPartition.values()) {
      if (list.length === 0) continue;
      const first = list.find((r) => r.maxEventMs >= bucket + bucketMs + allowedLatenessMs);
      if (!first) return undefined;
      latest = Math.max(latest, first.ts);
    }
    return latest;
  };

  // Full buckets only: the first and the last are partly outside the traffic.
  const firstBucket = Math.floor(startMs / bucketMs) * bucketMs + bucketMs;
  const total: number[] = [];
  const designWait: number[] = [];
  const processing: number[] = [];
  const measured = new Set<number>();
  for (const r of ours) {
    if (r.bucket < firstBucket || r.bucket >= lastBucket) continue;
    const visible = visibleAt.get(r.bucket);
    const closing = closingAppend(r.bucket);
    if (visible === undefined || closing === undefined) continue;
    total.push(visible - r.ts);
    designWait.push(closing - r.ts);
    measured.add(r.bucket);
  }
  const ingestPart: number[] = [];
  const evaluatePart: number[] = [];
  for (const bucket of measured) {
    const closing = closingAppend(bucket) as number;
    const values = visibleAt.get(bucket) as number;
    processing.push(values - closing);
    const partials = partialsAt.get(bucket);
    if (partials !== undefined) {
      ingestPart.push(partials - closing);
      evaluatePart.push(values - partials);
    }
  }
  const target = 250;
  const proc = quantiles(processing);
  process.stdout.write(
    `${JSON.stringify({
      bench: 'latency',
      node: process.version,
      loadavg_1m: Number(loadavg()[0]?.toFixed(2)),
      series: instances * PER_INSTANCE,
      interval_ms: INTERVAL_MS,
      points_per_sec: Math.round((instances * PER_INSTANCE * 1000) / INTERVAL_MS),
      seconds: SECONDS,
      bucket_ms: bucketMs,
      allowed_lateness_ms: allowedLatenessMs,
      requests_late: late,
      requests_failed: failed,
      records: ours.length,
      buckets: measured.size,
      append_to_values_visible_ms: quantiles(total),
      bucket_and_lateness_wait_ms: quantiles(designWait),
      processing_and_commit_ms: proc,
      processing_and_commit_p99_within_250ms: proc.p99 <= target,
      of_which_ingest_ms: quantiles(ingestPart),
      of_which_evaluate_ms: quantiles(evaluatePart),
      transactions: { ingest: transactions[0], evaluate: transactions[1] },
    })}\n`,
  );
}

await main();
process.exit(0);
