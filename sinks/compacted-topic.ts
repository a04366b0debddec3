import kafkajs from 'kafkajs';
import type { Kafka, Producer } from 'kafkajs';
import type { Logger } from '../runtime/logger.js';
import { compressionFromEnv } from '../runtime/kafka-codecs.js';
import { readToEnd } from '../runtime/read-to-end.js';
import { retryKafka } from '../runtime/retry.js';

const { ConfigResourceTypes } = kafkajs;

/**
 * A sink's state as a compacted topic of key → JSON value, a tombstone (null value) deleting a
 * key: `open` creates the topic (one partition, cleanup.policy=compact) when it is missing, warns
 * when it is not compacted, and reads it to its end; `write` sends changes and waits for every
 * in-sync replica (acks -1), so a caller that writes before it lets its input offset be committed
 * never commits past state it has not recorded.
 */
export class CompactedTopic<T> {
  private producer: Producer | undefined;

  constructor(
    private readonly options: {
      readonly kafka: Kafka;
      readonly topic: string;
      readonly log: Logger;
      /** What the topic holds, for log lines ("active alerts"). */
      readonly what: string;
      /** Parses a value; throws when it cannot (the entry is counted and skipped). */
      readonly parse: (value: Buffer) => T;
    },
  ) {}

  get topic(): string {
    return this.options.topic;
  }

  /** Creates or checks the topic, connects the producer and returns the topic's current content. */
  async open(): Promise<Map<string, T>> {
    const { kafka, topic, log, what } = this.options;
    await retryKafka(
      `creating or checking ${topic}`,
      async () => {
        const admin = kafka.admin();
        await admin.connect();
        try {
          if (!(await admin.listTopics()).includes(topic)) {
            const created = await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }], waitForLeaders: true });
            if (created) log.info({ topic }, `${what} topic created (compacted)`);
          } else {
            const described = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] }], includeSynonyms: false });
            const policy = described.resources[0]?.configEntries.find((c) => c.configName === 'cleanup.policy')?.configValue;
            if (!policy?.includes('compact')) log.warn({ topic, policy }, `${what} topic is not compacted: entries may expire, and the topic grows with history`);
          }
        } finally {
          await admin.disconnect();
        }
      },
      { onRetry: (error, attempt, delayMs) => log.warn({ attempt, delayMs, error: (error as Error).message, topic }, `broker not ready for the ${what} topic; retrying`) },
    );
    if (!this.producer) {
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await producer.connect();
      this.producer = producer;
    }
    const content = new Map<string, T>();
    let bad = 0;
    await readToEnd(kafka, topic, (_partition, messages) => {
      for (const m of messages) {
        const key = m.key?.toString('utf8');
        if (!key) continue;
        if (m.value === null) {
          content.delete(key);
          continue;
        }
        try {
          content.set(key, this.options.parse(m.value));
        } catch {
          bad++;
        }
      }
    });
    if (bad > 0) log.warn({ topic, bad }, `unreadable ${what} entries ignored`);
    return content;
  }

  /** Writes entries (null: tombstone) and waits for the broker's acknowledgement. */
  async write(changes: Iterable<readonly [string, unknown]>): Promise<void> {
    const messages = [...changes].map(([key, value]) => ({ key, value: value === null ? null : JSON.stringify(value) }));
    if (messages.length === 0) return;
    if (!this.producer) throw new Error(`${this.options.topic} is not open`);
    await this.producer.send({ topic: this.options.topic, acks: -1, compression: compressionFromEnv().type, messages });
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect();
  }
}
