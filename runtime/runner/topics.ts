import type { Kafka } from 'kafkajs';
import { deadLetterTopic } from '../dead-letter.js';
import { retryKafka } from '../retry.js';

export interface ProcessorTopics {
  readonly inputTopic: string;
  readonly outputTopics: readonly string[];
  /** The processor's changelog (created compacted). */
  readonly changelog: string;
  /** Whether the dead-letter topic is written (the dead-letter policy). */
  readonly deadLetters: boolean;
}

/**
 * Creates a processor's missing topics and returns the partition count of each. The input may
 * not exist yet (its producer starts at the same time): it is created with the broker's default
 * partition count rather than failing; outputs get the input's count.
 */
export async function ensureProcessorTopics(kafka: Kafka, topics: ProcessorTopics): Promise<Map<string, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topics.inputTopic)) {
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic: topics.inputTopic }] }).catch((error: unknown) => {
        if (!String((error as Error).message).includes('already exists')) throw error;
      });
    }
    const meta = await admin.fetchTopicMetadata({ topics: [topics.inputTopic] });
    const partitions = meta.topics[0]?.partitions.length ?? 1;
    const dlq = topics.deadLetters ? [deadLetterTopic] : [];
    const outputs = [...new Set([...topics.outputTopics, ...dlq, topics.changelog])];
    const existing = new Set(await admin.listTopics());
    const missing = outputs.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: partitions,
          replicationFactor: 1,
          configEntries: topic === topics.changelog ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
        })),
      });
    }
    const all = await admin.fetchTopicMetadata({ topics: [topics.inputTopic, ...outputs] });
    return new Map(all.topics.map((t) => [t.name, t.partitions.length]));
  } finally {
    await admin.disconnect();
  }
}

/**
 * Per input partition, the group's committed offset ('-1' when none) and the partition's end,
 * retried while the broker answers with transient errors (leader elections and coordinator
 * loading after a broker start).
 */
export async function committedPositions(kafka: Kafka, name: string, groupId: string, topic: string): Promise<Map<number, { committed: string; end: string }>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [committed] = await retryKafka(`${name}: reading the committed offsets of ${groupId}`, () => admin.fetchOffsets({ groupId, topics: [topic] }));
    const ends = await retryKafka(`${name}: reading the end offsets of ${topic}`, () => admin.fetchTopicOffsets(topic));
    const out = new Map<number, { committed: string; end: string }>();
    for (const { partition, high } of ends) out.set(partition, { committed: committed?.partitions.find((p) => p.partition === partition)?.offset ?? '-1', end: high });
    return out;
  } finally {
    await admin.disconnect();
  }
}
