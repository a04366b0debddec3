import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { aiopsError } from '../../runtime/errors.js';
import { registerKafkaCodecs } from '../../runtime/kafka-codecs.js';
import { asConnection, createKafka } from '../../runtime/kafka-connect.js';
import type { KafkaConnection } from '../../runtime/kafka-config.js';
import { readToEnd } from '../../runtime/read-to-end.js';
import { retryKafka } from '../../runtime/retry.js';
import type { KafkaRetryOptions } from '../../runtime/retry.js';

const { logLevel } = kafkajs;

/**
 * A kafkajs client for tools and tests, quiet unless AIOPS_KAFKA_LOG_LEVEL says otherwise. `target`
 * is a broker list (plaintext) or a connection from `kafkaConnectionFromEnv` (TLS, SASL).
 */
export function kafkaClient(target: KafkaConnection | readonly string[], clientId = 'aiops-tools'): Kafka {
  registerKafkaCodecs();
  const level = (process.env.AIOPS_KAFKA_LOG_LEVEL ?? 'NOTHING').toUpperCase() as keyof typeof logLevel;
  return createKafka(asConnection(target), { clientId, logLevel: logLevel[level] ?? logLevel.NOTHING });
}

/** A message as collected, with where it came from. */
export interface CollectedMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: KafkaMessage['headers'];
  readonly timestamp: string;
}

export interface CollectOptions {
  readonly topic: string;
  /** Stop once this many matching messages were seen. */
  readonly count: number;
  readonly timeoutMs?: number;
  /** Read only committed transactional records (default true, as the platform's consumers do). */
  readonly readCommitted?: boolean;
  /** Keep only messages this returns true for. */
  readonly filter?: (message: CollectedMessage) => boolean;
  /** Where to start per partition (e.g. from `endOffsets` taken earlier); default: the beginning. */
  readonly startOffsets?: readonly { partition: number; offset: string }[];
}

/** The current end (high watermark) of every partition of `topic`. */
export async function endOffsets(kafka: Kafka, topic: string): Promise<{ partition: number; offset: string }[]> {
  return retryKafka(`reading the end offsets of ${topic}`, async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, offset: p.high }));
    } finally {
      await admin.disconnect();
    }
  });
}

/**
 * Reads `topic` from the beginning (or `startOffsets`) with a throw-away consumer group until `count` matching
 * messages arrived, then returns them; rejects with a timeout error that says how many it saw.
 */
export async function collectMessages(kafka: Kafka, options: CollectOptions): Promise<CollectedMessage[]> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const consumer = kafka.consumer({ groupId: `aiops-collect-${randomUUID()}`, readUncommitted: options.readCommitted === false, maxWaitTimeInMs: 250 });
  const matched: CollectedMessage[] = [];
  let seen = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: options.topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(aiopsError('TIMEOUT', [`waiting for ${options.count} message(s) on ${options.topic} (saw ${seen}, ${matched.length} matching)`, timeoutMs]));
      }, timeoutMs);
      // A consumer that crashes (say, on a codec it lacks) must fail the wait, not time it out.
      consumer.on(consumer.events.CRASH, (event) => {
        clearTimeout(timer);
        reject(event.payload.error);
      });
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) {
              seen++;
              const message: CollectedMessage = {
                topic: batch.topic,
                partition: batch.partition,
                offset: m.offset,
                key: m.key,
                value: m.value,
                headers: m.headers,
                timestamp: m.timestamp,
              };
              if (!options.filter || options.filter(message)) matched.push(message);
            }
            if (matched.length >= options.count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch((error: unknown) => {
          clearTimeout(timer);
          reject(error as Error);
        });
      for (const start of options.startOffsets ?? []) consumer.seek({ topic: options.topic, partition: start.partition, offset: start.offset });
    });
    return matched;
  } finally {
    await consumer.disconnect();
  }
}

/** A topic name that no other test run uses. */
export function randomTopic(prefix = 'test'): string {
  return `${prefix}.${randomUUID().slice(0, 8)}`;
}

/**
 * Creates topics (idempotent) and waits until each has a leader and answers an offset lookup, so
 * the first produce or read after it does not meet UNKNOWN_TOPIC_OR_PARTITION. A broker that is
 * starting or busy is waited out up to `deadlineMs` (default: the start-up deadline), then
 * AIOPS_ERR_KAFKA_NOT_READY.
 */
export async function createTopics(
  kafka: Kafka,
  topics: readonly string[],
  numPartitions = 1,
  config: Readonly<Record<string, string>> = {},
  options: KafkaRetryOptions = {},
): Promise<void> {
  const configEntries = Object.entries(config).map(([name, value]) => ({ name, value }));
  await retryKafka(
    `creating topic(s) ${topics.join(', ')}`,
    async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const existing = new Set(await admin.listTopics());
        const missing = topics.filter((t) => !existing.has(t));
        if (missing.length > 0) {
          await admin.createTopics({ topics: missing.map((topic) => ({ topic, numPartitions, replicationFactor: 1, configEntries })), waitForLeaders: true });
        }
        for (const topic of topics) await admin.fetchTopicOffsets(topic);
      } finally {
        await admin.disconnect();
      }
    },
    options,
  );
}

/** Every committed record of `topic`, read to its current end. */
export async function readTopicToEnd(kafka: Kafka, topic: string, timeoutMs = 60_000): Promise<CollectedMessage[]> {
  const out: CollectedMessage[] = [];
  await readToEnd(
    kafka,
    topic,
    (partition, messages) => {
      for (const m of messages) out.push({ topic, partition, offset: m.offset, key: m.key, value: m.value, headers: m.headers, timestamp: m.timestamp });
    },
    { timeoutMs },
  );
  return out;
}
