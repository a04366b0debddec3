import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { retryKafka } from './retry.js';
import type { KafkaRetryOptions } from './retry.js';

/**
 * Reads the given partitions of `topic` (default: all) from the beginning to their current end,
 * read_committed, handing each batch's messages to `onBatch`. The end is known exactly from the
 * batch lag, which kafkajs reports even for batches that hold only transaction markers; kafkajs
 * has no manual assignment, so a throw-away consumer group does the reading.
 */
export async function readToEnd(
  kafka: Kafka,
  topic: string,
  onBatch: (partition: number, messages: readonly KafkaMessage[]) => void,
  options: { partitions?: readonly number[]; timeoutMs?: number; retry?: KafkaRetryOptions } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  // Just after a broker start, partitions may still be electing leaders (NOT_LEADER_OR_FOLLOWER,
  // LEADER_NOT_AVAILABLE) or a topic just created may not be known to every broker yet
  // (UNKNOWN_TOPIC_OR_PARTITION): waited out up to the start-up deadline.
  const offsets = await retryKafka(`reading the offsets of ${topic}`, async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return await admin.fetchTopicOffsets(topic);
    } finally {
      await admin.disconnect();
    }
  }, options.retry);
  const wanted = options.partitions ? new Set(options.partitions) : undefined;
  const pending = new Set(offsets.filter((o) => o.high !== o.low && (!wanted || wanted.has(o.partition))).map((o) => o.partition));
  if (pending.size === 0) return;
  const consumer = kafka.consumer({ groupId: `aiops.read-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reading ${topic} partitions ${[...pending].join(',')} to the end took longer than ${timeoutMs} ms`)), timeoutMs);
      consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
        const { partition, offsetLag } = event.payload as { partition: number; offsetLag: string };
        if (offsetLag === '0' && pending.delete(partition) && pending.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
      consumer.on(consumer.events.CRASH, (event) => {
        clearTimeout(timer);
        reject(event.payload.error);
      });
      consumer
        .subscribe({ topic, fromBeginning: true })
        .then(() =>
          consumer.run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              if (!wanted || wanted.has(batch.partition)) onBatch(batch.partition, batch.messages);
            },
          }),
        )
        .catch((error: unknown) => {
          clearTimeout(timer);
          reject(error as Error);
        });
    });
  } finally {
    await consumer.disconnect();
  }
}
