/**
 * Ingest through the real Kafka: points per second from `otlp_metrics`-shaped records on a
 * topic to committed signals, against the raw kafkajs consume rate of the same topic measured in
 * the same run (the ceiling: fetching and nothing else), and the processor alone on the same
 * records in memory (no Kafka: decoding, deltas, buckets, changelog encoding).
 *
 * The input is the synthetic HTTP workload: 200 service instances, 30 routes each, cumulative
 * latency histograms (15 buckets) per route and status class, one record per instance and
 * 10 s interval, as the collector writes them (partitioned by resource). It is produced once,
 * untimed, to a fresh 4-partition topic.
 *
 * Run: `npm run bench:ingest` (starts Kafka when it is not running). BENCH_POINTS sets the input
 * size (default 1,000,000 points, about 400 MB: a histogram point with 15 buckets and its
 * attributes is about 400 bytes of OTLP). Progress goes to stderr; one JSON line to stdout.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import type { Kafka } from 'kafkajs';
import { defaultRules, ingestFactory, parseIngestConfig } from '../processors/ingest/index.js';
import { HttpWorkload, OtlpMetricsDecoder, encodeWorkloadBatch } from '../runtime/otlp/index.js';
import type { MetricsVisitor } from '../runtime/otlp/index.js';
import { createLogger } from '../runtime/logger.js';
import { sleep } from '../runtime/retry.js';
import { ProcessorRunner, processKafka } from '../runtime/runner.js';
import { TopologyTestDriver } from '../runtime/testing/topology-test-driver.js';
import { createTopics, kafkaClient, localEndpoints } from '../stack/clients/index.js';
import { loadStackConfig, stackUp } from '../stack/index.js';

const TARGET_POINTS = Number(process.env.BENCH_POINTS ?? 1_000_000);
/** Which measurements run (comma list of raw, ingest, memory; default all): one alone for a profile. */
const ONLY = new Set((process.env.BENCH_ONLY ?? 'raw,ingest,memory').split(',').map((s) => s.trim()));
const PARTITIONS = 4;
const MAX_BYTES_PER_PARTITION = 4 * 1024 * 1024;

interface Input {
  readonly records: { key: Buffer; value: Buffer; timestamp: string }[];
  readonly points: number;
  readonly bytes: number;
}

/**
 * Runs `work` under the V8 CPU profiler when BENCH_CPU_PROFILE names a file (one
 * measurement's profile, without the input's generation), written there as a .cpuprofile.
 */
async function profiled<T>(what: string, work: () => Promise<T>): Promise<T> {
  const file = process.env.BENCH_CPU_PROFILE;
  if (!file) return work();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file.replace(/(\.cpuprofile)?$/, `.${what}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}

/** Topics this run created, deleted at the end (the input alone is 400 MB by default). */
const created: string[] = [];

async function deleteCreated(kafka: Kafka): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const topics = created.filter((t) => existing.has(t));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

function progress(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

function countPoints(values: readonly Buffer[]): number {
  let points = 0;
  const visitor: MetricsVisitor = {
    onResource: () => true,
    onMetric: () => true,
    onNumberPoint: () => void points++,
    onHistogramPoint: () => void points++,
    onExponentialHistogramPoint: () => void points++,
    onSummaryPoint: () => void points++,
  };
  const decoder = new OtlpMetricsDecoder({ extractKeys: [] });
  for (const v of values) decoder.decode(v, visitor);
  return points;
}

function makeInput(): Input {
  const workload = new HttpWorkload({
    services: 10,
    instancesPerService: 20,
    routesPerService: 30,
    startTimeMs: Date.UTC(2026, 0, 1),
    intervalMs: 10_000,
    temporality: 'cumulative',
    seed: 5,
    requestsPerIntervalPerRoute: 5,
  });
  const records: Input['records'] = [];
  let points = 0;
  let bytes = 0;
  while (points < TARGET_POINTS) {
    const batch = encodeWorkloadBatch(workload.next()).map((r) => ({ key: r.key as Buffer, value: r.value as Buffer, timestamp: r.timestamp as string }));
    points += countPoints(batch.map((r) => r.value));
    for (const r of batch) bytes += r.value.length;
    records.push(...batch);
  }
  return { records, points, bytes };
}

async function produce(kafka: Kafka, topic: string, input: Input): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  // Requests of at most ~512 KB: the broker takes record batches up to 1 MB.
  let batch: Input['records'] = [];
  let size = 0;
  for (const record of input.records) {
    if (size + record.value.length > 512 * 1024 && batch.length > 0) {
      await producer.send({ topic, messages: batch });
      batch = [];
      size = 0;
    }
    batch.push(record);
    size += record.value.length;
  }
  if (batch.length > 0) await producer.send({ topic, messages: batch });
  await producer.disconnect();
}

async function committedTotal(kafka: Kafka, groupId: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (offsets?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

/** The ceiling: a read_committed consumer group that fetches every record and does nothing. */
async function rawConsume(kafka: Kafka, topic: string, total: number): Promise<number> {
  const consumer = kafka.consumer({ groupId: `bench.raw-${randomUUID()}`, readUncommitted: false, maxBytesPerPartition: MAX_BYTES_PER_PARTITION, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let first = 0;
  let last = 0;
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: PARTITIONS,
      eachBatch: async ({ batch }) => {
        if (first === 0) first = performance.now();
        seen += batch.messages.length;
        if (seen >= total) {
          last = performance.now();
          resolve();
        }
      },
    });
  });
  await done;
  await consumer.disconnect();
  return (last - first) / 1000;
}

/** Ingest as a platform process runs it: the runner, transactions, changelog, outputs. */
async function ingestThroughKafka(brokers: readonly string[], topic: string, total: number): Promise<{ seconds: number; commits: number; commitSeconds: number; outputs: number; changelog: number }> {
  const name = `bench-ingest-${randomUUID().slice(0, 8)}`;
  const signalsTopic = `bench.signals.${name}`;
  created.push(signalsTopic, `aiops.${name}.state`);
  const config = parseIngestConfig({ rules: defaultRules, signalsTopic, idleTimeoutMs: 600_000 });
  const kafka = processKafka(brokers, name, createLogger('kafkajs', { level: 'error' }));
  const runner = new ProcessorRunner({
    name,
    kafka,
    inputTopic: topic,
    outputTopics: [signalsTopic],
    factory: ingestFactory(config),
    idleTimeoutMs: 600_000,
    maxBytesPerPartition: MAX_BYTES_PER_PARTITION,
    ...(process.env.BENCH_COMMIT_MS ? { commitIntervalMs: Number(process.env.BENCH_COMMIT_MS) } : {}),
    log: createLogger(name, { level: 'warn' }),
  });
  await runner.start();
  let first = 0;
  while (first === 0) {
    if (((await runner.stats()).counters.records ?? 0) > 0) first = performance.now();
    else await sleep(5);
  }
  while ((await committedTotal(kafka, runner.groupId, topic)) < total) await sleep(25);
  const seconds = (performance.now() - first) / 1000;
  const { counters } = await runner.stats();
  await runner.stop();
  return { seconds, commits: counters.commits ?? 0, commitSeconds: (counters.commit_ms ?? 0) / 1000, outputs: counters.output_records ?? 0, changelog: counters.changelog_records ?? 0 };
}

/**
 * Scale-out: ingest as `n` platform processes (`aiops ingest`, one consumer group) on the
 * topic's partitions, with `aiops evaluate` beside them on their signals, from the first
 * committed input until every offset is committed.
 */
async function ingestAsProcesses(kafka: Kafka, brokers: readonly string[], topic: string, total: number, n: number): Promise<{ seconds: number }> {
  const name = `bench-ingest-x${n}-${randomUUID().slice(0, 8)}`;
  const signalsTopic = `bench.signals.${name}`;
  created.push(signalsTopic, `aiops.${name}.state`, `bench.values.${name}`, `aiops.${name}-evaluate.state`);
  const base = { ...process.env, AIOPS_KAFKA_BROKERS: brokers.join(','), AIOPS_LOG_LEVEL: 'warn' };
  const start = (args: string[], env: Record<string, string>): ChildProcess => spawn(process.execPath, ['bin/aiops.js', ...args], { env: { ...base, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  const children: ChildProcess[] = [];
  for (let i = 0; i < n; i++) {
    children.push(
      start(['ingest'], {
        AIOPS_INGEST_NAME: name,
        AIOPS_INGEST_TOPIC: topic,
        AIOPS_INGEST_SIGNALS_TOPIC: signalsTopic,
        AIOPS_INGEST_IDLE_MS: '600000',
        AIOPS_INGEST_PORT: '0',
        AIOPS_INGEST_MAX_BATCH_BYTES: String(MAX_BYTES_PER_PARTITION),
      }),
    );
  }
  children.push(start(['evaluate'], { AIOPS_EVALUATE_NAME: `${name}-evaluate`, AIOPS_EVALUATE_TOPIC: signalsTopic, AIOPS_EVALUATE_VALUES_TOPIC: `bench.values.${name}`, AIOPS_EVALUATE_PORT: '0' }));
  try {
    const groupId = `aiops.${name}`;
    let first = 0;
    for (;;) {
      const done = await committedTotal(kafka, groupId, topic).catch(() => 0);
      if (done > 0 && first === 0) first = performance.now();
      if (done >= total) break;
      await sleep(first === 0 ? 5 : 25);
    }
    return { seconds: (performance.now() - first) / 1000 };
  } finally {
    for (const child of children) child.kill('SIGTERM');
  }
}

/** The processor alone over the same records, partition by partition, in memory. */
async function ingestInMemory(input: Input, partitionOf: (key: Buffer) => number, around: (work: () => Promise<void>) => Promise<void>): Promise<number> {
  const config = parseIngestConfig({ rules: defaultRules, idleTimeoutMs: 600_000 });
  const driver = new TopologyTestDriver({ name: 'bench', inputTopic: 'otlp_metrics', factory: ingestFactory(config), partitions: { [config.signalsTopic]: PARTITIONS } });
  const byPartition: Buffer[][] = Array.from({ length: PARTITIONS }, () => []);
  for (const r of input.records) byPartition[partitionOf(r.key)]?.push(r.value);
  const started = performance.now();
  await around(async () => {
    for (let p = 0; p < PARTITIONS; p++) {
      const values = byPartition[p] as Buffer[];
      for (let i = 0; i < values.length; i += 200) await driver.pipe(p, values.slice(i, i + 200));
    }
  });
  const seconds = (performance.now() - started) / 1000;
  await driver.close();
  return seconds;
}

/** Where the producer's partitioner put each key, read back from the topic. */
async function partitionsOfKeys(kafka: Kafka, topic: string, total: number): Promise<(key: Buffer) => number> {
  const partitionByKey = new Map<string, number>();
  const probe = kafka.consumer({ groupId: `bench.keys-${randomUUID()}`, maxBytesPerPartition: MAX_BYTES_PER_PARTITION });
  await probe.connect();
  await probe.subscribe({ topic, fromBeginning: true });
  let probed = 0;
  await new Promise<void>((resolve) => {
    void probe.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) partitionByKey.set((m.key as Buffer).toString('hex'), batch.partition);
        probed += batch.messages.length;
        if (probed >= total) resolve();
      },
    });
  });
  await probe.disconnect();
  return (key) => partitionByKey.get(key.toString('hex')) ?? 0;
}

async function main(): Promise<void> {
  const stack = loadStackConfig();
  await stackUp({ config: stack, only: ['kafka'] });
  const brokers = localEndpoints(stack).kafkaBrokers;
  const kafka = kafkaClient(brokers);
  progress('generate input');
  const input = makeInput();
  const topic = `bench.ingest-in.${randomUUID().slice(0, 8)}`;
  created.push(topic);
  // Recorded event times: keep them from time-based retention.
  await createTopics(kafka, [topic], PARTITIONS, { 'retention.ms': '-1' });
  progress(`produce ${input.records.length} records, ${input.points} points, ${(input.bytes / 1e6).toFixed(0)} MB to ${topic}`);
  await produce(kafka, topic, input);
  const total = input.records.length;

  progress('raw consume');
  const rawSeconds = process.env.BENCH_SKIP_RAW || !ONLY.has('raw') ? Number.NaN : await rawConsume(kafka, topic, total);
  progress('ingest through Kafka');
  const ingest = ONLY.has('ingest') ? await profiled('ingest', () => ingestThroughKafka(brokers, topic, total)) : { seconds: Number.NaN, commits: 0, commitSeconds: 0, outputs: 0, changelog: 0 };
  const processes = Number(process.env.BENCH_PROCESSES ?? 0);
  const scaleOut: Record<string, { seconds: number; points_per_sec: number; share_of_raw: number }> = {};
  for (const n of processes > 0 ? [1, processes] : []) {
    progress(`ingest as ${n} process(es) with evaluate beside`);
    const { seconds } = await ingestAsProcesses(kafka, brokers, topic, total, n);
    scaleOut[`processes_${n}`] = { seconds: Number(seconds.toFixed(2)), points_per_sec: Math.round(input.points / seconds), share_of_raw: Number((input.points / seconds / (input.points / rawSeconds)).toFixed(2)) };
  }
  progress('processor in memory');
  const memorySeconds = ONLY.has('memory') ? await ingestInMemory(input, await partitionsOfKeys(kafka, topic, total), (work) => profiled('memory', work)) : Number.NaN;

  const rawPointsPerSec = input.points / rawSeconds;
  const ingestPointsPerSec = input.points / ingest.seconds;
  process.stdout.write(
    `${JSON.stringify({
      bench: 'ingest-kafka',
      node: process.version,
      loadavg_1m: Number(loadavg()[0]?.toFixed(2)),
      partitions: PARTITIONS,
      records: total,
      points: input.points,
      points_per_record: Math.round(input.points / total),
      mb: Number((input.bytes / 1e6).toFixed(1)),
      raw_consume: { seconds: Number(rawSeconds.toFixed(2)), points_per_sec: Math.round(rawPointsPerSec), mb_per_sec: Number((input.bytes / 1e6 / rawSeconds).toFixed(1)) },
      ingest: {
        seconds: Number(ingest.seconds.toFixed(2)),
        points_per_sec: Math.round(ingestPointsPerSec),
        share_of_raw: Number((ingestPointsPerSec / rawPointsPerSec).toFixed(2)),
        transactions: ingest.commits,
        // Summed over the partitions' transactions, which overlap one another and processing.
        transaction_seconds: Number(ingest.commitSeconds.toFixed(2)),
        output_records: ingest.outputs,
        changelog_records: ingest.changelog,
      },
      ...(processes > 0 ? { scale_out: scaleOut } : {}),
      processor_in_memory: { seconds: Number(memorySeconds.toFixed(2)), points_per_sec: Math.round(input.points / memorySeconds) },
    })}\n`,
  );
  if (process.env.BENCH_KEEP_TOPICS !== '1') await deleteCreated(kafka).catch((error: unknown) => progress(`could not delete the run's topics: ${(error as Error).message}`));
}

await main();
process.exit(0);
