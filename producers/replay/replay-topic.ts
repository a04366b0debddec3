import { randomUUID } from 'node:crypto';
import type { Kafka, Message } from 'kafkajs';
import { retryKafka } from '../../runtime/retry.js';
import type { Clock } from '../../runtime/types.js';
import { Pacer } from './pacer.js';
import type { Speedup } from './pacer.js';

export interface ReplayTopicOptions {
  /** The recorded topic, read read_committed from its beginning to its end when the replay starts. */
  readonly from: string;
  /** Destination; created with the source's partition count when missing (see `createTopic`). */
  readonly to: string;
  /** Record time (the records' Kafka timestamps) runs this many times faster than wall time; 'max': no waiting. */
  readonly speedup: Speedup;
  /** Write the source records' timestamps too (default false: the producer stamps them now, so a destination with time-based retention keeps them). */
  readonly keepTimestamps?: boolean;
  /** Create the destination when it does not exist (default true). */
  readonly createTopic?: boolean;
  /** Records per produce request at most (default 500). */
  readonly batchRecords?: number;
  /** Give up when the source is not read to its end within this time (default: no limit). */
  readonly timeoutMs?: number;
  readonly onProgress?: (records: number) => void;
  readonly signal?: AbortSignal;
  readonly clock?: Clock;
}

export interface ReplayTopicResult {
  readonly from: string;
  readonly to: string;
  readonly records: number;
  /** Records copied per source partition. */
  readonly perPartition: Readonly<Record<number, number>>;
  /** Source partition → destination partition (`p % destination partitions`). */
  readonly partitionMap: Readonly<Record<number, number>>;
  readonly bytes: number;
  readonly elapsedMs: number;
  readonly recordsPerSecond: number;
  /** Record time range copied (Kafka timestamps, Unix ms). */
  readonly firstTimestampMs: number;
  readonly lastTimestampMs: number;
}

/**
 * Copies a recorded topic into another at a speed-up: every record of the source up to its end
 * at the start (read_committed: aborted and control records are left out) goes to the
 * destination partition of the same number (modulo the destination's partition count) with the
 * same key, value and headers, in the source's order per partition, nothing rewritten. Pacing
 * follows the records' Kafka timestamps, anchored at the first record copied; partitions are
 * interleaved as they are fetched, so record time is only roughly in order across partitions.
 */
export async function replayTopic(kafka: Kafka, options: ReplayTopicOptions): Promise<ReplayTopicResult> {
  if (options.from === options.to) throw new Error(`replaying ${options.from} into itself would never end`);
  const clock = options.clock ?? { now: () => Date.now() };
  const admin = kafka.admin();
  let ends: Map<number, bigint>;
  let destinationPartitions: number;
  try {
    // A starting or restarting broker answers these with transient errors: waited out (retryKafka).
    await retryKafka('connecting the replay admin client', () => admin.connect());
    const offsets = await retryKafka(`reading the end offsets of ${options.from}`, () => admin.fetchTopicOffsets(options.from));
    ends = new Map(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)] as const));
    const sourcePartitions = offsets.length;
    const existing = await retryKafka('listing topics', () => admin.listTopics());
    if (!existing.includes(options.to)) {
      if (options.createTopic === false) throw new Error(`destination topic ${options.to} does not exist`);
      // Repeatable: a topic created by an earlier attempt makes createTopics answer false, not fail.
      await retryKafka(`creating topic ${options.to}`, () => admin.createTopics({ topics: [{ topic: options.to, numPartitions: sourcePartitions }], waitForLeaders: true }));
    }
    const meta = await retryKafka(`reading the metadata of ${options.to}`, () => admin.fetchTopicMetadata({ topics: [options.to] }));
    destinationPartitions = meta.topics[0]?.partitions.length ?? sourcePartitions;
  } finally {
    await admin.disconnect();
  }
  const partitionMap: Record<number, number> = {};
  for (const p of ends.keys()) partitionMap[p] = p % destinationPartitions;
  const perPartition: Record<number, number> = {};
  let records = 0;
  let bytes = 0;
  let firstTimestampMs = Number.NaN;
  let lastTimestampMs = Number.NaN;
  const started = clock.now();
  if (ends.size === 0) return { from: options.from, to: options.to, records, perPartition, partitionMap, bytes, elapsedMs: 0, recordsPerSecond: Number.NaN, firstTimestampMs, lastTimestampMs };

  const pacer = new Pacer(options.speedup, clock);
  const batchRecords = Math.max(1, options.batchRecords ?? 500);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  const consumer = kafka.consumer({ groupId: `aiops.replay-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 100 });
  await producer.connect();
  await consumer.connect();
  try {
    const pending = new Set(ends.keys());
    await new Promise<void>((resolve, reject) => {
      const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => reject(new Error(`replaying ${options.from}: partitions ${[...pending].join(',')} not read to the end within ${options.timeoutMs} ms`)), options.timeoutMs);
      const finish = (error?: Error): void => {
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve();
      };
      const onAbort = (): void => finish(options.signal?.reason as Error);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      // Fired after eachBatch resolved, so every record of the batch has been acknowledged. Its
      // lastOffset counts control records too, which a read_committed batch never hands over.
      consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
        const { partition, lastOffset } = event.payload as { partition: number; lastOffset: string };
        const end = ends.get(partition);
        if (end !== undefined && BigInt(lastOffset) >= end - 1n && pending.delete(partition) && pending.size === 0) finish();
      });
      consumer.on(consumer.events.CRASH, (event) => finish(event.payload.error));
      consumer
        .subscribe({ topic: options.from, fromBeginning: true })
        .then(() =>
          consumer.run({
            autoCommit: false,
            partitionsConsumedConcurrently: 1,
            eachBatch: async ({ batch, heartbeat, isRunning }) => {
              const end = ends.get(batch.partition);
              if (end === undefined) return;
              const to = partitionMap[batch.partition] as number;
              let out: Message[] = [];
              const flush = async (): Promise<void> => {
                if (out.length === 0) return;
                await producer.send({ topic: options.to, acks: -1, messages: out });
                records += out.length;
                perPartition[batch.partition] = (perPartition[batch.partition] ?? 0) + out.length;
                out = [];
                options.onProgress?.(records);
              };
              for (const m of batch.messages) {
                if (!isRunning()) break;
                if (BigInt(m.offset) >= end) break;
                const ts = Number(m.timestamp);
                if (pacer.delayFor(ts) > 0) {
                  await flush();
                  await pacer.waitFor(ts, { onStep: heartbeat, ...(options.signal ? { signal: options.signal } : {}) });
                }
                if (Number.isNaN(firstTimestampMs) || ts < firstTimestampMs) firstTimestampMs = ts;
                if (Number.isNaN(lastTimestampMs) || ts > lastTimestampMs) lastTimestampMs = ts;
                bytes += (m.value?.length ?? 0) + (m.key?.length ?? 0);
                const message: Message = { key: m.key, value: m.value, partition: to };
                if (m.headers && Object.keys(m.headers).length > 0) message.headers = m.headers;
                if (options.keepTimestamps) message.timestamp = m.timestamp;
                out.push(message);
                if (out.length >= batchRecords) await flush();
              }
              await flush();
              await heartbeat();
            },
          }),
        )
        .catch((error: unknown) => finish(error as Error));
    });
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
  }
  const elapsedMs = Math.max(1, clock.now() - started);
  return { from: options.from, to: options.to, records, perPartition, partitionMap, bytes, elapsedMs, recordsPerSecond: records / (elapsedMs / 1000), firstTimestampMs, lastTimestampMs };
}
