/**
 * The live false-alarm benchmark's recordings and verdict (bench/anomaly-live.bench.ts), shared
 * with the test that replays the committed recording (test/integration/anomaly-live-replay.test.ts).
 *
 * A recording holds every record ingest wrote to a run's signals topic (with its partition) and
 * the fault marks. Replaying writes those records into a fresh signals topic and runs evaluate
 * with the demo's anomaly settings over them, the same runner and stage as `aiops evaluate`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Kafka } from 'kafkajs';
import { parse } from 'yaml';
import { demoFaults } from '../cli/demo-command.js';
import { AnomalyStage, parseAnomalyStageConfig } from '../processors/anomaly/index.js';
import type { AnomalyStageConfig } from '../processors/anomaly/index.js';
import { evaluateFactory } from '../processors/evaluate/index.js';
import { runProcess } from '../runtime/process.js';
import type { RunningProcess } from '../runtime/process.js';
import { sleep } from '../runtime/retry.js';
import { aiopsError } from '../runtime/errors.js';
import { processKafka } from '../runtime/runner.js';
import { anomalySerde } from '../schemas/anomalies.js';
import type { AnomalyEvent } from '../schemas/anomalies.js';
import { createTopics, endOffsets, readTopicToEnd } from '../stack/clients/index.js';
import { projectRoot } from '../stack/index.js';

/** How long a replay may take before it fails (a 30-minute recording takes a few seconds). */
const REPLAY_TIMEOUT_MS = 150_000;

/** The demo's bucket length (ingest's `bucketMs` in `aiops demo`). */
export const BUCKET_MS = 5_000;

/** The demo's faults, at their times in the demo, after the healthy phase; a latency fault shows in the p95, an error fault in the error ratio. */
export const FAULTS = demoFaults.map((f) => ({ name: f.what, at: f.at, until: f.until, fault: f.fault, metric: f.fault.latencyMs > 0 ? 'http.p95' : 'http.errorRatio' }));

/** What a recorded run keeps: the run's facts and every record ingest wrote, with its partition. */
export interface Recording {
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

export function loadRecording(file: string): Recording {
  return JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as Recording;
}

/** The demo's anomaly settings (compose/aiops/evaluate.demo.yaml), writing to `topic`. */
export function demoAnomalyConfig(topic: string): AnomalyStageConfig {
  const demo = (parse(readFileSync(join(projectRoot, 'compose/aiops/evaluate.demo.yaml'), 'utf8')) as { anomaly?: Record<string, unknown> }).anomaly ?? {};
  return parseAnomalyStageConfig({ ...demo, topic, measurementsTopic: '', bands: [] });
}

/** Starts evaluate with the given anomaly settings on `input`. */
export async function startEvaluate(brokers: readonly string[], name: string, input: string, anomaly: AnomalyStageConfig): Promise<RunningProcess> {
  return runProcess({
    name,
    kafka: processKafka(brokers, 'bench-evaluate'),
    inputTopic: input,
    outputTopics: [anomaly.topic],
    factory: evaluateFactory({ emitValues: false, consumers: () => [new AnomalyStage(anomaly)] }),
    idleTimeoutMs: 3_000,
    port: 0,
  });
}

/**
 * Writes the recording's records into `input` (created with the recorded partition count), runs
 * evaluate over them until its group has committed every partition to its end, stops it, and
 * returns the run's anomaly events read from `anomaly.topic`.
 */
export async function replayRecording(kafka: Kafka, brokers: readonly string[], rec: Recording, input: string, anomaly: AnomalyStageConfig): Promise<{ events: AnomalyEvent[]; ms: number }> {
  await createTopics(kafka, [input, anomaly.topic], rec.partitions);
  const producer = kafka.producer();
  await producer.connect();
  try {
    for (let p = 0; p < rec.partitions; p++) {
      const messages = rec.records.filter((r) => r[0] === p).map(([partition, key, value]) => ({ partition, key: key === null ? null : Buffer.from(key, 'base64'), value: Buffer.from(value, 'base64') }));
      for (let i = 0; i < messages.length; i += 500) await producer.send({ topic: input, messages: messages.slice(i, i + 500) });
    }
  } finally {
    await producer.disconnect();
  }
  const started = Date.now();
  const evaluate = await startEvaluate(brokers, `replay-evaluate-${input.replace(/[^a-zA-Z0-9-]/g, '-')}`, input, anomaly);
  try {
    const ends = await endOffsets(kafka, input);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const deadline = Date.now() + REPLAY_TIMEOUT_MS;
      for (;;) {
        const committed = await admin.fetchOffsets({ groupId: evaluate.runner.groupId, topics: [input] });
        if (ends.every((e) => committed[0]?.partitions.find((c) => c.partition === e.partition)?.offset === e.offset)) break;
        if (Date.now() > deadline) throw aiopsError('TIMEOUT', [`evaluate committing ${input} to its end`, REPLAY_TIMEOUT_MS]);
        await sleep(500);
      }
    } finally {
      await admin.disconnect();
    }
  } finally {
    await evaluate.stop();
  }
  const ms = Date.now() - started;
  return { events: await runEvents(kafka, anomaly.topic, rec.service), ms };
}

/** The anomaly events of the run's shop on `topic`. */
export async function runEvents(kafka: Kafka, topic: string, service: string): Promise<AnomalyEvent[]> {
  return (await readTopicToEnd(kafka, topic)).map((m) => anomalySerde.deserialize(m.value as Buffer)).filter((e) => e.context.service === service);
}

const ORDER = ['info', 'warning', 'critical'];

/**
 * The verdict on a run's events: every event opened in a bucket that ends before the first fault
 * begins is a false alarm; each fault must open an event on its metric and route within two
 * buckets of the bucket it starts in.
 */
export function judge(rec: Recording, events: readonly AnomalyEvent[]) {
  const { started, faultPhase, marks } = rec;
  const opens = events.filter((e) => e.state === 'OPEN');
  const healthyEnd = Math.floor((faultPhase + (FAULTS[0]?.at ?? 0)) / BUCKET_MS) * BUCKET_MS;
  const falseAlarms = opens.filter((e) => e.timestamp + BUCKET_MS <= healthyEnd);
  const faults = FAULTS.map((f, i) => {
    const mark = marks.find((m) => m.name === f.name) ?? (marks[i] as { startMs: number; endMs: number });
    const faultBucket = Math.floor(mark.startMs / BUCKET_MS) * BUCKET_MS;
    const hit = opens.filter((e) => e.metric === f.metric && e.context.endpoint === f.fault.route && e.timestamp >= faultBucket && e.timestamp <= mark.endMs).sort((a, b) => a.timestamp - b.timestamp)[0];
    const delay = hit ? (hit.timestamp - faultBucket) / BUCKET_MS : Number.NaN;
    const peak = events.filter((e) => e.id === hit?.id).reduce((m, e) => (ORDER.indexOf(e.severity) > ORDER.indexOf(m) ? e.severity : m), 'info');
    return { fault: f.name, detected: hit !== undefined, delay_buckets: hit ? delay : null, within_two_buckets: hit !== undefined && delay <= 2, severity_at_open: hit?.severity ?? null, peak_severity: hit ? peak : null, detector: hit?.detector ?? null };
  });
  const otherFaultPhaseOpens = opens.filter((e) => e.timestamp + BUCKET_MS > healthyEnd && !FAULTS.some((f) => e.metric === f.metric && e.context.endpoint === f.fault.route));
  return {
    healthy_minutes: rec.healthyMs / 60_000,
    healthy_buckets: Math.round((healthyEnd - started) / BUCKET_MS),
    false_alarms: falseAlarms.length,
    false_alarm_events: falseAlarms.map((e) => ({ metric: e.metric, endpoint: e.context.endpoint, at_s: Math.round((e.timestamp - started) / 1000), actual: e.actual_value, expected: e.expected_value, severity: e.severity, detector: e.detector, mode: e.mode })),
    faults,
    all_faults_within_two_buckets: faults.every((f) => f.within_two_buckets),
    other_events_in_fault_phase: otherFaultPhaseOpens.map((e) => ({ metric: e.metric, endpoint: e.context.endpoint, severity: e.severity })),
  };
}
