/**
 * Live false-alarm benchmark of the anomaly stage: the demo shop (its own process, Express with
 * the OpenTelemetry SDK) under steady load through the real pipeline on the local stack (SDK →
 * collector → otlp_metrics → ingest → signals → evaluate with the demo's detector settings →
 * anomalies), in real time. First BENCH_HEALTHY_MIN minutes (default 30) of healthy traffic:
 * every anomaly event opened for the shop then is a false alarm, and the target is none. Then
 * the demo's two faults, as `aiops demo` injects them: +900 ms on /api/users for 45 s, then every
 * /api/orders request failing for 45 s; each must open an event (p95 of /api/users, error ratio of
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
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { gzipSync } from 'node:zlib';
import { demoFaults } from '../cli/demo-command.js';
import { defaultRules, ingestFactory, parseIngestConfig } from '../processors/ingest/index.js';
import { clearFaults, setFault, startDemoApp } from '../producers/demo-app/index.js';
import { runLoad } from '../producers/loadgen/index.js';
import { runProcess } from '../runtime/process.js';
import type { RunningProcess } from '../runtime/process.js';
import { processKafka } from '../runtime/runner.js';
import { sleep } from '../runtime/retry.js';
import { endOffsets, kafkaClient, localEndpoints, readTopicToEnd } from '../stack/clients/index.js';
import { loadStackConfig } from '../stack/index.js';
import { BUCKET_MS, FAULTS, demoAnomalyConfig, judge, loadRecording, replayRecording, runEvents, startEvaluate } from './live-recording.js';
import type { Recording } from './live-recording.js';

const healthyMs = Number(process.env.BENCH_HEALTHY_MIN ?? 30) * 60_000;
const rate = Number(process.env.BENCH_RATE ?? 25);
/** The demo's traffic mix (cli/demo-command.ts). */
const MIX = { 'GET /api/users': 5, 'GET /api/users/:id': 2, 'POST /api/orders': 2, 'GET /api/checkout': 1 };
const FAULT_PHASE_MS = Math.max(...demoFaults.map((f) => f.until)) + 30_000;

const endpoints = localEndpoints(loadStackConfig());
const run = randomUUID().slice(0, 8);
const service = `bench-shop-${run}`;
const signalsTopic = `bench.signals.${run}`;
const anomaly = demoAnomalyConfig(`bench.anomalies.${run}`);

const brokers = endpoints.kafkaBrokers;
const kafka = kafkaClient(brokers, 'aiops-bench');
const replayFile = process.env.BENCH_REPLAY;

let rec: Recording;
let events;
if (replayFile) {
  rec = loadRecording(replayFile);
  const replay = await replayRecording(kafka, brokers, rec, `bench.replay-signals.${run}`, anomaly);
  events = replay.events;
  process.stderr.write(`replayed ${rec.records.length} signal records through evaluate in ${replay.ms} ms\n`);
} else {
  const processes: RunningProcess[] = [];
  const ingest = parseIngestConfig({ rules: defaultRules, bucketMs: BUCKET_MS, allowedLatenessMs: 2_000, idleTimeoutMs: 10_000, signalsTopic });
  processes.push(await runProcess({ name: `bench-ingest-${run}`, kafka: processKafka(brokers, 'bench-ingest'), inputTopic: 'otlp_metrics', outputTopics: [signalsTopic], factory: ingestFactory(ingest), idleTimeoutMs: 10_000, port: 0, fromBeginning: false }));
  processes.push(await startEvaluate(brokers, `bench-evaluate-${run}`, signalsTopic, anomaly));
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
  for (const p of processes) await p.stop();
  events = await runEvents(kafka, anomaly.topic, rec.service);
}
const verdict = judge(rec, events);
process.stdout.write(
  `${JSON.stringify({
    bench: 'anomaly-live',
    service: rec.service,
    mode: replayFile ? `replay of ${basename(replayFile)} through evaluate` : 'live',
    bucket_ms: BUCKET_MS,
    rate_per_s: rec.rate,
    healthy_minutes: verdict.healthy_minutes,
    healthy_buckets: verdict.healthy_buckets,
    requests: rec.requests,
    failed_requests: rec.failedRequests,
    detector: anomaly.detector.minHistory === 12 ? 'demo settings (evaluate.demo.yaml)' : 'custom',
    false_alarms: verdict.false_alarms,
    false_alarm_events: verdict.false_alarm_events,
    faults: verdict.faults,
    all_faults_within_two_buckets: verdict.all_faults_within_two_buckets,
    other_events_in_fault_phase: verdict.other_events_in_fault_phase,
  })}\n`,
);
process.exit(0);
