import type { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createTopics, endOffsets } from '../../../../stack/clients/kafka-client.js';

const unknownTopic = (): Error =>
  Object.assign(new Error('This server does not host this topic-partition'), { name: 'KafkaJSProtocolError', type: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: true });

/** A fake admin whose createTopics fails `failures` times (as a settling broker does), then succeeds. */
function settlingKafka(failures: number): { kafka: Kafka; created: string[][]; attempts: () => number; connections: () => number } {
  const topics = new Set<string>();
  const created: string[][] = [];
  let attempts = 0;
  let open = 0;
  const admin = {
    connect: async () => {
      open++;
    },
    disconnect: async () => {
      open--;
    },
    listTopics: async () => [...topics],
    createTopics: async ({ topics: wanted }: { topics: { topic: string }[] }) => {
      attempts++;
      if (attempts <= failures) throw Object.assign(new Error(unknownTopic().message), { name: 'KafkaJSNonRetriableError', retriable: false, cause: unknownTopic() });
      created.push(wanted.map((t) => t.topic));
      for (const t of wanted) topics.add(t.topic);
      return true;
    },
    fetchTopicOffsets: async (topic: string) => {
      if (!topics.has(topic)) throw unknownTopic();
      return [{ partition: 0, offset: '0', high: '0', low: '0' }];
    },
  };
  return { kafka: { admin: () => admin } as unknown as Kafka, created, attempts: () => attempts, connections: () => open };
}

describe('createTopics', () => {
  it('waits out UNKNOWN_TOPIC_OR_PARTITION from a settling broker and creates the topics once', async () => {
    const { kafka, created, attempts, connections } = settlingKafka(3);
    await createTopics(kafka, ['aiops.slo.v1', 'otlp_metrics'], 1, {}, { initialDelayMs: 1 });
    expect(attempts()).toBe(4);
    expect(created).toEqual([['aiops.slo.v1', 'otlp_metrics']]);
    expect(connections()).toBe(0); // every admin connection of every attempt was closed
    expect(await endOffsets(kafka, 'aiops.slo.v1')).toEqual([{ partition: 0, offset: '0' }]);
  });

  it('fails with AIOPS_ERR_KAFKA_NOT_READY naming the topics when the broker never settles', async () => {
    const { kafka, attempts } = settlingKafka(Number.POSITIVE_INFINITY);
    await expect(createTopics(kafka, ['t1'], 1, {}, { initialDelayMs: 1, maxDelayMs: 5, deadlineMs: 60 })).rejects.toMatchObject({
      code: 'AIOPS_ERR_KAFKA_NOT_READY',
      message: expect.stringMatching(/^creating topic\(s\) t1 did not succeed: .*UNKNOWN_TOPIC_OR_PARTITION/),
    });
    expect(attempts()).toBeGreaterThan(1);
  });
});
