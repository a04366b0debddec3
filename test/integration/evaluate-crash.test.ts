/*
 * The kill test of evaluate: a recorded signals topic (ingest's output over a deterministic
 * workload with an error burst and a latency burst) is replayed through `aiops evaluate` child
 * processes with the anomaly and SLO stages, killed with SIGKILL at random points of their
 * progress and finished by a last child. Every output topic (signal values, anomaly events, SLO
 * events, measurements), read read_committed, must equal record for record the output of an
 * uninterrupted child over the same input, and the state each run left in its changelog must be
 * the same, entry for entry.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultRules, ingestFactory, parseIngestConfig } from '../../processors/ingest/index.js';
import { parseSloSources, sloIngestRules } from '../../processors/slo/index.js';
import { HttpWorkload, Prng, encodeWorkloadBatch } from '../../runtime/otlp/index.js';
import { runProcess } from '../../runtime/process.js';
import { processKafka } from '../../runtime/runner.js';
import { changelogTopic } from '../../runtime/state/changelog.js';
import { anomalySerde, signalSerde, signalValueSerde, sloEventSerde } from '../../schemas/index.js';
import { createTopics, endOffsets, kafkaClient, readTopicToEnd } from '../../stack/clients/index.js';
import type { CollectedMessage } from '../../stack/clients/index.js';
import { Children, committedTotal, idleSignals, killPoints, until } from '../helpers/crash.js';
import { stackEndpoints } from '../helpers/stack.js';

const PARTITIONS = 4;
const B = 10_000;
const START = Date.UTC(2026, 0, 1);
/** Clean intervals, then 5 of errors on one service and 6 of slow answers on another, then clean until both SLO windows cleared. */
const ERRORS_AT = 24;
const LATENCY_AT = 30;
const INTERVALS = 72;

/** Page and ticket rules on 5m/1h windows, so that an SLO fires and resolves within minutes of data. */
const windows = `apiVersion: sloth.slok.dev/v1
kind: AlertWindows
spec:
  sloPeriod: 30d
  page:
    quick: { errorBudgetPercent: 2, shortWindow: 5m, longWindow: 1h }
    slow: { errorBudgetPercent: 5, shortWindow: 5m, longWindow: 1h }
  ticket:
    quick: { errorBudgetPercent: 10, shortWindow: 5m, longWindow: 1h }
    slow: { errorBudgetPercent: 10, shortWindow: 5m, longWindow: 1h }
`;

const sloth = (service: string): string => `version: prometheus/v1
service: ${service}
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_server_request_duration_seconds_count{job="${service}",http_response_status_code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_server_request_duration_seconds_count{job="${service}"}[{{.window}}]))
`;

/** Detectors that may alert after 12 points (the default waits 48). */
const evaluateConfig = (topics: { anomalies: string; measurements: string }): string => `anomaly:
  topic: ${topics.anomalies}
  measurementsTopic: ${topics.measurements}
  detector: { minHistory: 12 }
`;

/**
 * Writes ingest's output again, each partition's records of the different sources interleaved by
 * the watermark they carry (each source's own order kept), in produce requests of 4 records.
 * Ingest replaying a recorded topic at full speed writes one source's hour before the next
 * source's first record; live, the sources advance together. Evaluate cannot wait for a source it
 * has not seen yet (its first buckets would be late), so the kill test reads the live order.
 */
async function rerecord(kafka: Kafka, records: readonly CollectedMessage[], topic: string): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  const partitions = [...new Set(records.map((r) => r.partition))];
  for (const partition of partitions) {
    const bySource = new Map<number, { record: CollectedMessage; watermarkMs: number }[]>();
    for (const r of records.filter((x) => x.partition === partition)) {
      const s = signalSerde.deserialize(r.value as Buffer);
      let list = bySource.get(s.sourcePartition);
      if (!list) bySource.set(s.sourcePartition, (list = []));
      list.push({ record: r, watermarkMs: s.watermarkMs });
    }
    const queues = [...bySource.entries()].sort((a, b) => a[0] - b[0]).map(([, list]) => list);
    const merged: CollectedMessage[] = [];
    for (;;) {
      let next: (typeof queues)[number] | undefined;
      for (const q of queues) if (q.length > 0 && (!next || (q[0]?.watermarkMs as number) < (next[0]?.watermarkMs as number))) next = q;
      if (!next) break;
      merged.push((next.shift() as { record: CollectedMessage }).record);
    }
    for (let i = 0; i < merged.length; i += 4) {
      await producer.send({ topic, messages: merged.slice(i, i + 4).map((r) => ({ partition, key: r.key, value: r.value })) });
    }
  }
  await producer.disconnect();
}

/**
 * Records by (partition, key), in order. Evaluate keeps every key of an output on one input
 * partition (a signal, an SLO), so the order per key is the order Kafka guarantees and two runs
 * must agree on it; records of different input partitions interleave by timing.
 */
function byKey(records: readonly CollectedMessage[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of records) (out[`${r.partition}/${r.key?.toString('hex') ?? '-'}`] ??= []).push((r.value as Buffer).toString('hex'));
  return out;
}

/** Where two runs' records by key differ: missing, extra and changed records per key (empty when equal). */
function differences(expected: Record<string, string[]>, actual: Record<string, string[]>): string[] {
  const out: string[] = [];
  for (const key of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
    const e = expected[key] ?? [];
    const a = actual[key] ?? [];
    const first = e.findIndex((v, i) => a[i] !== v);
    if (e.length !== a.length || first >= 0) {
      const [partition, hex] = key.split('/');
      out.push(`partition ${partition} key ${Buffer.from(hex ?? '', 'hex').toString('utf8')}: ${a.length} records, expected ${e.length}; first difference at #${first >= 0 ? first : Math.min(a.length, e.length)}`);
    }
  }
  return out;
}

/** The last value of every changelog key (what a restore ends with); deleted keys are absent. */
async function finalState(kafka: Kafka, topic: string): Promise<Record<string, string>> {
  const state: Record<string, string> = {};
  for (const r of await readTopicToEnd(kafka, topic)) {
    const key = `${r.partition}/${r.key?.toString('utf8') ?? ''}`;
    if (r.value === null) delete state[key];
    else state[key] = r.value.toString('hex');
  }
  return state;
}

describe('evaluate killed with SIGKILL while replaying a recorded signals topic', () => {
  const endpoints = stackEndpoints();
  const run = randomUUID().slice(0, 8);
  const children = new Children();
  const dir = mkdtempSync(join(tmpdir(), `aiops-evaluate-crash-${run}-`));

  afterAll(() => children.killAll());

  it('writes, record for record, the events, measurements and state of an uninterrupted run', { timeout: 600_000 }, async () => {
    const kafka = kafkaClient(endpoints.kafkaBrokers);
    const workload = new HttpWorkload({ services: 2, instancesPerService: 2, routesPerService: 2, startTimeMs: START, intervalMs: B, temporality: 'cumulative', seed: 23, errorRate: 0.0001 });
    const [errorsService, slowService] = workload.services as [string, string];
    const sloDir = join(dir, 'slo');
    mkdirSync(sloDir);
    writeFileSync(join(sloDir, 'windows.yaml'), windows);
    writeFileSync(join(sloDir, 'slos.sloth.yaml'), sloth(errorsService));
    const slos = parseSloSources([
      { file: 'windows.yaml', text: windows },
      { file: 'slos.sloth.yaml', text: sloth(errorsService) },
    ]);

    // The recorded input: ingest's signals over the workload. Event times of January 2026:
    // time-based retention would delete them, so every topic here keeps its records.
    const otlp = `test.evaluate-crash-otlp.${run}`;
    const rawSignals = `test.evaluate-crash-raw-signals.${run}`;
    const signals = `test.evaluate-crash-signals.${run}`;
    const topicsOf = (which: string): { values: string; anomalies: string; slo: string; measurements: string } => ({
      values: `test.evaluate-crash-${which}.signal-values.${run}`,
      anomalies: `test.evaluate-crash-${which}.anomalies.${run}`,
      slo: `test.evaluate-crash-${which}.slo.${run}`,
      measurements: `test.evaluate-crash-${which}.measurements.${run}`,
    });
    const ref = topicsOf('ref');
    const crash = topicsOf('kill');
    await createTopics(kafka, [otlp, rawSignals, signals, ...Object.values(ref), ...Object.values(crash)], PARTITIONS, { 'retention.ms': '-1' });
    const producer = kafka.producer();
    await producer.connect();
    let sloTotal = 0;
    for (let k = 0; k < INTERVALS; k++) {
      if (k === ERRORS_AT) workload.setErrorRate(errorsService, '*', 1);
      if (k === ERRORS_AT + 5) workload.setErrorRate(errorsService, '*', 0.0001);
      if (k === LATENCY_AT) workload.setLatencyFactor(slowService, '*', 30);
      if (k === LATENCY_AT + 6) workload.setLatencyFactor(slowService, '*', 1);
      await producer.send({ topic: otlp, messages: encodeWorkloadBatch(workload.next()) });
      for (const r of workload.lastTruth().routes) if (r.service === errorsService) sloTotal += r.requests;
    }
    await producer.disconnect();
    const otlpSources = (await endOffsets(kafka, otlp)).filter((e) => e.offset !== '0').map((e) => e.partition);
    const ingestConfig = parseIngestConfig({ rules: [...defaultRules, ...sloIngestRules(slos)], bucketMs: B, allowedLatenessMs: 0, idleTimeoutMs: 1_000, signalsTopic: rawSignals });
    const ingest = await runProcess({ name: `evaluate-crash-ingest-${run}`, kafka: processKafka(endpoints.kafkaBrokers, 'evaluate-crash-ingest'), inputTopic: otlp, outputTopics: [rawSignals], factory: ingestFactory(ingestConfig), idleTimeoutMs: 1_000, port: 0 });
    const raw = await until(() => idleSignals(kafka, rawSignals, otlpSources), 180_000);
    await ingest.stop();
    await rerecord(kafka, raw, signals);
    const ends = await endOffsets(kafka, signals);
    const total = ends.reduce((n, e) => n + Number(e.offset), 0);
    const endOf = new Map(ends.map((e) => [e.partition, Number(e.offset)]));
    expect(ends.filter((e) => e.offset !== '0').length).toBeGreaterThan(1);

    const start = (name: string, topics: typeof ref, commitIntervalMs: number): ChildProcess => {
      const config = join(dir, `${name}.yaml`);
      writeFileSync(config, evaluateConfig(topics));
      return children.start('evaluate', {
        AIOPS_KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
        AIOPS_EVALUATE_NAME: name,
        AIOPS_EVALUATE_TOPIC: signals,
        AIOPS_EVALUATE_CONFIG: config,
        AIOPS_EVALUATE_VALUES_TOPIC: topics.values,
        AIOPS_EVALUATE_SLO_TOPIC: topics.slo,
        AIOPS_EVALUATE_MEASUREMENTS_TOPIC: topics.measurements,
        AIOPS_SLO_PATHS: sloDir,
        AIOPS_EVALUATE_PORT: '0',
        AIOPS_EVALUATE_IDLE_MS: '1000',
        // Small fetches for the killed runs, so that batches (and transactions) end anywhere.
        ...(commitIntervalMs === 0 ? { AIOPS_EVALUATE_MAX_BATCH_BYTES: '1024' } : {}),
        AIOPS_KAFKA_COMMIT_INTERVAL_MS: String(commitIntervalMs),
        AIOPS_KAFKA_SESSION_TIMEOUT_MS: '6000',
      });
    };
    const admin = kafka.admin();
    await admin.connect();
    const beyond: string[] = [];
    const committed = (name: string): Promise<number> => committedTotal(admin, `aiops.${name}`, signals, endOf, beyond);
    const done = (name: string) => async (): Promise<true | undefined> => ((await committed(name)) >= total ? true : undefined);

    // The uninterrupted run (the default commit interval), alongside the killed ones (every batch).
    const refName = `evaluate-crash-ref-${run}`;
    const reference = start(refName, ref, 1_000);
    const name = `evaluate-crash-${run}`;
    const prng = new Prng(Number.parseInt(run.slice(0, 6), 16));
    const kills: number[] = [];
    const points = killPoints(total, [0.12, 0.28, 0.44, 0.6, 0.76].slice(0, Number(process.env.AIOPS_CRASH_KILLS ?? 5)), () => prng.next());
    for (const target of points) {
      // Each kill after the child moved on from where the last one struck.
      const at = Math.min(total - 1, Math.max(target, (kills.at(-1) ?? -1) + 1));
      const child = start(name, crash, 0);
      await until(async () => ((await committed(name)) >= at ? true : undefined), 120_000, 50);
      await Children.kill(child);
      kills.push(await committed(name));
    }
    const last = start(name, crash, 0);
    await until(done(name), 240_000);
    await until(done(refName), 240_000);
    last.kill('SIGTERM');
    reference.kill('SIGTERM');
    await admin.disconnect();

    if (process.env.AIOPS_CRASH_DUMP) writeFileSync(`${process.env.AIOPS_CRASH_DUMP}.kills.json`, JSON.stringify({ total, points, kills }));
    // Every kill struck mid-replay, later than the one before; nothing committed past the input.
    expect(beyond).toEqual([]);
    expect(kills.every((k, i) => k < total && (i === 0 || k > (kills[i - 1] as number))), `kills at ${kills.join(', ')} of ${total}`).toBe(true);
    for (const topic of ['values', 'anomalies', 'slo', 'measurements'] as const) {
      const expected = await readTopicToEnd(kafka, ref[topic]);
      const actual = await readTopicToEnd(kafka, crash[topic]);
      if (process.env.AIOPS_CRASH_DUMP) writeFileSync(`${process.env.AIOPS_CRASH_DUMP}.${topic}.json`, JSON.stringify({ expected: byKey(expected), actual: byKey(actual) }));
      expect(differences(byKey(expected), byKey(actual)), topic).toEqual([]);
      expect(actual.length, topic).toBe(expected.length);
      if (topic === 'values') {
        // Nothing was late in the reference either: the SLO's signal counted every request.
        const counted = expected.map((r) => signalValueSerde.deserialize(r.value as Buffer)).filter((v) => v.rule.startsWith('slo.')).reduce((n, v) => n + v.count, 0);
        expect(counted, 'requests of the SLO signal').toBe(sloTotal);
      }
      if (topic === 'anomalies') {
        const states = new Set(expected.map((r) => anomalySerde.deserialize(r.value as Buffer).state));
        expect([...states], 'an anomaly opened and resolved').toEqual(expect.arrayContaining(['OPEN', 'RESOLVED']));
      }
      if (topic === 'slo') {
        const states = new Set(expected.map((r) => sloEventSerde.deserialize(r.value as Buffer).state));
        expect([...states], 'an SLO tier fired and resolved').toEqual(expect.arrayContaining(['FIRING', 'RESOLVED']));
      }
    }
    // The state a restore ends with is the uninterrupted run's, entry for entry.
    const expectedState = await finalState(kafka, changelogTopic(refName));
    const actualState = await finalState(kafka, changelogTopic(name));
    expect(Object.keys(expectedState).length).toBeGreaterThan(0);
    const changed = Object.keys({ ...expectedState, ...actualState }).filter((k) => expectedState[k] !== actualState[k]);
    expect(changed.map((k) => `${k.replace('\u0000', ' ')}: ${k in actualState ? (k in expectedState ? 'differs' : 'extra') : 'missing'}`)).toEqual([]);
  });
});
