/**
 * Live false-alarm benchmark of the anomaly stage: the demo shop (its own process, Express with
 * the OpenTelemetry SDK) under steady load through the real pipeline on the local stack (SDK →
 * collector → otlp_metrics → ingest → signals → evaluate with the demo's detector settings →
 * anomalies), in real time. First BENCH_HEALTHY_MIN minutes (default 30) of healthy traffic:
 * every anomaly event opened for the shop then is a false alarm, and the target is none. Then
 * the demo's two faults, as `aiops demo` injects them: +900 ms on /api/users for 45 s, then 60 %
 * errors on /api/orders for 45 s; each must open an event (p95 of /api/users, error ratio of
 * /api/orders) within two buckets of its start.
 *
 * Ingest and evaluate run in this process (the same runner and processors as `aiops ingest` and
 * `aiops evaluate`) on this run's own topics and consumer groups; the shop's service name is
 * unique to the run, so traffic of other services on the shared otlp_metrics topic is left out.
 * Needs the local stack (`node bin/aiops.js stack up`). Prints one JSON line.
 *
 * Record and replay. `BENCH_RECORD=file.json.gz` also writes what ingest produced in the run (every
 * record of the run's signals topic with its partition, and the fault marks) to a file.
 * `BENCH_REPLAY=file.json.gz` runs no shop and no ingest: it writes the recorded records into a
 * fresh signals topic and runs evaluate over them as fast as it reads, so the detector's verdict
 * on the same traffic is reproducible and independent of the machine's momentary load (a live
 * run's latencies are the machine's: a saturated core shows in every p95).
 *
 * Run: `npx tsx bench/anomaly-live.bench.ts` (BENCH_HEALTHY_MIN, BENCH_RATE requests/s, default 25;
 * BENCH_RECORD, BENCH_REPLAY as above).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { demoFaults } from '../cli/demo-command.js';
import { AnomalyStage, parseAnomalyStageConfig } from '../processors/anomaly/index.js';
import { evaluateFactory } from '../processors/evaluate/index.js';
import { defaultRules, ingestFactory, parseIngestConfig } from '../processors/ingest/index.js';
import { clearFaults, setFault, startDemoApp } from '../producers/demo-app/index.js';
import { runLoad } from '../producers/loadgen/index.js';
import { runProcess } from '../runtime/process.js';
import type { RunningProcess } from '../runtime/process.js';
import { processKafka } from '../runtime/runner.js';
import { sleep } from '../runtime/retry.js';
import { anomalySerde } from '../schemas/anomalies.js';
import { createTopics, endOffsets, kafkaClient, localEndpoints, readTopicToEnd } from '../stack/clients/index.js';
import { loadStackConfig, projectRoot } from '../stack/index.js';

const BUCKET_MS = 5_000;
const healthyMs = Number(process.env.BENCH_HEALTHY_MIN ?? 30) * 60_000;
const rate = Number(process.env.BENCH_RATE ?? 25);
/** The demo's traffic mix and faults (cli/demo-command.ts), relative to the end of the healthy phase. */
const MIX = { 'GET /api/users': 5, 'GET /api/users/:id': 2, 'POST /api/orders': 2, 'GET /api/checkout': 1 };
/** The demo's faults, at their times in the demo, after the healthy phase; a latency fault shows in the p95, an error fault in the error ratio. */
const FAULTS = demoFaults.map((f) => ({ name: f.what, at: f.at, until: f.until, fault: f.fault, metric: f.fault.latencyMs > 0 ? 'http.p95' : 'http.errorRatio' }));
const FAULT_PHASE_MS = Math.max(...demoFaults.map((f) => f.until)) + 30_000;

const endpoints = localEndpoints(loadStackConfig());
const run = randomUUID().slice(0, 8);
const service = `bench-shop-${run}`;
const signalsTopic = `bench.signals.${run}`;
const anomaliesTopic = `bench.anomalies.${run}`;
const demo = (parse(readFileSync(join(projectRoot, 'compose/aiops/evaluate.demo.yaml'), 'utf8')) as { anomaly?: Record<string, unknown> }).anomaly ?? {};
const anomaly = parseAnomalyStageConfig({ ...demo, topic: anomaliesTopic, measurementsTopic: '', bands: [] });

/** What a recorded run keeps: the run's facts and every record ingest wrote, with its partition. */
interface Recording {
  service: string;
  started: number;
  faultPhase: number;
  rate: number;
  healthyMs: number;
  requests: number;
  failedRequests: number;
  marks: { name: string; startMs: number; endMs: number }[];
  partitions: number;
  records: [partition: number, key: string | null, value: string][];
}

const brokers = endpoints.kafkaBrokers;
const kafka = kafkaClient(brokers, 'aiops-bench');
const replayFile = process.env.BENCH_REPLAY;
const processes: RunningProcess[] = [];

/** Starts evaluate (the demo's anomaly settings) on `input`, writing to this run's anomalies topic. */
async function startEvaluate(input: string): Promise<RunningProcess> {
  return runProcess({
    name: `bench-evaluate-${run}`,
    kafka: processKafka(brokers, 'bench-evaluate'),
    inputTopic: input,
    outputTopics: [anomaliesTopic],
    factory: evaluateFactory({ emitValues: false, consumers: () => [new AnomalyStage(anomaly)] }),
    idleTimeoutMs: 3_000,
    port: 0,
  });
}

let rec: Recording;
if (replayFile) {
  rec = JSON.parse(gunzipSync(readFileSync(replayFile)).toString('utf8')) as Recording;
  const input = `bench.replay-signals.${run}`;
  await createTopics(kafka, [input, anomaliesTopic], rec.partitions);
  const producer = kafka.producer();
  await producer.connect();
  for (let p = 0; p < rec.partitions; p++) {
    const messages = rec.records.filter((r) => r[0] === p).map(([partition, key, value]) => ({ partition, key: key === null ? null : Buffer.from(key, 'base64'), value: Buffer.from(value, 'base64') }));
    for (let i = 0; i < messages.length; i += 500) await producer.send({ topic: input, messages: messages.slice(i, i + 500) });
  }
  await producer.disconnect();
  const replayStarted = Date.now();
  const evaluate = await startEvaluate(input);
  processes.push(evaluate);
  // Done when evaluate's group has committed every partition to its end.
  const ends = await endOffsets(kafka, input);
  const admin = kafka.admin();
  await admin.connect();
  for (;;) {
    const committed = await admin.fetchOffsets({ groupId: evaluate.runner.groupId, topics: [input] });
    const done = ends.every((e) => committed[0]?.partitions.find((c) => c.partition === e.partition)?.offset === e.offset);
    if (done) break;
    await sleep(500);
  }
  await admin.disconnect();
  process.stderr.write(`replayed ${rec.records.length} signal records through evaluate in ${Date.now() - replayStarted} ms\n`);
} else {
  const ingest = parseIngestConfig({ rules: defaultRules, bucketMs: BUCKET_MS, allowedLatenessMs: 2_000, idleTimeoutMs: 3_000, signalsTopic });
  processes.push(await runProcess({ name: `bench-ingest-${run}`, kafka: processKafka(brokers, 'bench-ingest'), inputTopic: 'otlp_metrics', outputTopics: [signalsTopic], factory: ingestFactory(ingest), idleTimeoutMs: 3_000, port: 0, fromBeginning: false }));
  processes.push(await startEvaluate(signalsTopic));
  for (let i = 0; i < 120 && !(await Promise.all(processes.map((p) => p.runner.ready()))).every(Boolean); i++) await sleep(500);

  const app = await startDemoApp({ port: 0, serviceName: service, otlpHttpEndpoint: endpoints.otlpHttp, metricIntervalMs: 2_000 });
  const started = Date.now();
  const load = runLoad({ baseUrl: app.url, ratePerSecond: rate, durationMs: healthyMs + FAULT_PHASE_MS, mix: MIX });
  const faultPhase = started + healthyMs;
  const marks: { name: string; startMs: number; endMs: number }[] = [];
  await sleep(healthyMs);
  for (const f of FAULTS) {
    await sleep(Math.max(0, faultPhase + f.at - Date.now()));
    await setFault(app.url, f.fault);
    const startMs = Date.now();
    await sleep(Math.max(0, faultPhase + f.until - Date.now()));
    await clearFaults(app.url);
    marks.push({ name: f.name, startMs, endMs: Date.now() });
  }
  const summary = await load;
  // Let the last buckets close and their events arrive; the shop keeps running meanwhile.
  await sleep(4 * BUCKET_MS);
  await app.stop();
  const signals = await readTopicToEnd(kafka, signalsTopic);
  rec = {
    service, started, faultPhase, rate, healthyMs, requests: summary.sent, failedRequests: summary.errors, marks,
    partitions: (await endOffsets(kafka, signalsTopic)).length,
    records: signals.filter((m) => m.value !== null).map((m) => [m.partition, m.key === null ? null : m.key.toString('base64'), (m.value as Buffer).toString('base64')]),
  };
  if (process.env.BENCH_RECORD) writeFileSync(process.env.BENCH_RECORD, gzipSync(JSON.stringify(rec)));
}
for (const p of processes) await p.stop();
const events = (await readTopicToEnd(kafka, anomaliesTopic)).map((m) => anomalySerde.deserialize(m.value as Buffer)).filter((e) => e.context.service === rec.service);
const { started, faultPhase, marks } = rec;

const opens = events.filter((e) => e.state === 'OPEN');
// Healthy phase: every bucket that ends before the first fault begins (data after the load starts).
const healthyEnd = Math.floor((faultPhase + (FAULTS[0]?.at ?? 0)) / BUCKET_MS) * BUCKET_MS;
const falseAlarms = opens.filter((e) => e.timestamp + BUCKET_MS <= healthyEnd);
const faults = FAULTS.map((f, i) => {
  const mark = marks.find((m) => m.name === f.name) ?? (marks[i] as { startMs: number; endMs: number });
  const faultBucket = Math.floor(mark.startMs / BUCKET_MS) * BUCKET_MS;
  const hit = opens.filter((e) => e.metric === f.metric && e.context.endpoint === f.fault.route && e.timestamp >= faultBucket && e.timestamp <= mark.endMs).sort((a, b) => a.timestamp - b.timestamp)[0];
  const delay = hit ? (hit.timestamp - faultBucket) / BUCKET_MS : Number.NaN;
  const order = ['info', 'warning', 'critical'];
  const peak = events.filter((e) => e.id === hit?.id).reduce((m, e) => (order.indexOf(e.severity) > order.indexOf(m) ? e.severity : m), 'info');
  return { fault: f.name, detected: hit !== undefined, delay_buckets: hit ? delay : null, within_two_buckets: hit !== undefined && delay <= 2, severity_at_open: hit?.severity ?? null, peak_severity: hit ? peak : null, detector: hit?.detector ?? null };
});
const otherFaultPhaseOpens = opens.filter((e) => e.timestamp + BUCKET_MS > healthyEnd && !FAULTS.some((f) => e.metric === f.metric && e.context.endpoint === f.fault.route));
process.stdout.write(
  `${JSON.stringify({
    bench: 'anomaly-live',
    service: rec.service,
    mode: replayFile ? `replay of ${basename(replayFile)} through evaluate` : 'live',
    bucket_ms: BUCKET_MS,
    rate_per_s: rec.rate,
    healthy_minutes: rec.healthyMs / 60_000,
    healthy_buckets: Math.round((healthyEnd - started) / BUCKET_MS),
    requests: rec.requests,
    failed_requests: rec.failedRequests,
    detector: anomaly.detector.minHistory === 12 ? 'demo settings (evaluate.demo.yaml)' : 'custom',
    false_alarms: falseAlarms.length,
    false_alarm_events: falseAlarms.map((e) => ({ metric: e.metric, endpoint: e.context.endpoint, at_s: Math.round((e.timestamp - started) / 1000), actual: e.actual_value, expected: e.expected_value, severity: e.severity, detector: e.detector, mode: e.mode })),
    faults,
    all_faults_within_two_buckets: faults.every((f) => f.within_two_buckets),
    other_events_in_fault_phase: otherFaultPhaseOpens.map((e) => ({ metric: e.metric, endpoint: e.context.endpoint, severity: e.severity })),
  })}\n`,
);
process.exit(0);
