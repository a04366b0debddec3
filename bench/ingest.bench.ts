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
import { randomUUID } from 'node:crypto';
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
const PARTITIONS = 4;
const MAX_BYTES_PER_PARTITION = 4 * 1024 * 1024;

interface Input {
  readonly records: { key: Buffer; value: Buffer; timestamp: string }[];
  readonly points: number;
  readonly bytes: number;
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
async function ingestThroughKafka(brokers: readonly string[], topic: string, total: number): Promise<{ seconds: number; commits: number; outputs: number; changelog: number }> {
  const name = `bench-ingest-${randomUUID().slice(0, 8)}`;
  const signalsTopic = `bench.signals.${name}`;
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
  return { seconds, commits: counters.commits ?? 0, outputs: counters.output_records ?? 0, changelog: counters.changelog_records ?? 0 };
}

/** The processor alone over the same records, partition by partition, in memory. */
async function ingestInMemory(input: Input, partitionOf: (key: Buffer) => number): Promise<number> {
  const config = parseIngestConfig({ rules: defaultRules, idleTimeoutMs: 600_000 });
  const driver = new TopologyTestDriver({ name: 'bench', inputTopic: 'otlp_metrics', factory: ingestFactory(config), partitions: { [config.signalsTopic]: PARTITIONS } });
  const byPartition: Buffer[][] = Array.from({ length: PARTITIONS }, () => []);
  for (const r of input.records) byPartition[partitionOf(r.key)]?.push(r.value);
  const started = performance.now();
  for (let p = 0; p < PARTITIONS; p++) {
    const values = byPartition[p] as Buffer[];
    for (let i = 0; i < values.length; i += 200) await driver.pipe(p, values.slice(i, i + 200));
  }
  const seconds = (performance.now() - started) / 1000;
  await driver.close();
  return seconds;
}

async function main(): Promise<void> {
  const stack = loadStackConfig();
  await stackUp({ config: stack, only: ['kafka'] });
  const brokers = localEndpoints(stack).kafkaBrokers;
  const kafka = kafkaClient(brokers);
  progress('generate input');
  const input = makeInput();
  const topic = `bench.ingest-in.${randomUUID().slice(0, 8)}`;
  // Recorded event times: keep them from time-based retention.
  await createTopics(kafka, [topic], PARTITIONS, { 'retention.ms': '-1' });
  progress(`produce ${input.records.length} records, ${input.points} points, ${(input.bytes / 1e6).toFixed(0)} MB to ${topic}`);
  await produce(kafka, topic, input);
  const total = input.records.length;

  progress('raw consume');
  const rawSeconds = process.env.BENCH_SKIP_RAW ? Number.NaN : await rawConsume(kafka, topic, total);
  progress('ingest through Kafka');
  const ingest = await ingestThroughKafka(brokers, topic, total);
  progress('processor in memory');
  // The same partitioner the producer used, read back from where the records landed.
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
  const memorySeconds = await ingestInMemory(input, (key) => partitionByKey.get(key.toString('hex')) ?? 0);

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
        output_records: ingest.outputs,
        changelog_records: ingest.changelog,
      },
      processor_in_memory: { seconds: Number(memorySeconds.toFixed(2)), points_per_sec: Math.round(input.points / memorySeconds) },
    })}\n`,
  );
}

await main();
process.exit(0);
