import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka, Producer } from 'kafkajs';
import { collectMessages, createTopics, kafkaClient, randomTopic } from '../../stack/clients/index.js';
import { stackEndpoints } from '../helpers/stack.js';

/*
 * The exactly-once design rests on three broker features: a transactional producer, offsets
 * committed inside the transaction (sendOffsets), and read_committed consumers that never see
 * an aborted transaction's records. This proves each against the real broker.
 */
describe('Kafka transactions with kafkajs against the local broker', () => {
  const input = randomTopic('tx-in');
  const output = randomTopic('tx-out');
  const groupId = `aiops.test-${randomUUID().slice(0, 8)}`;
  let kafka: Kafka;
  let producer: Producer;

  beforeAll(async () => {
    kafka = kafkaClient(stackEndpoints().kafkaBrokers, 'tx-test');
    await createTopics(kafka, [input, output], 1);
    const plain = kafka.producer();
    await plain.connect();
    await plain.send({ topic: input, messages: Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: `in-${i}` })) });
    await plain.disconnect();
    producer = kafka.producer({ transactionalId: `tx-test-${randomUUID()}`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
  });

  it('commits output records and input offsets in one transaction', async () => {
    const tx = await producer.transaction();
    await tx.send({ topic: output, messages: [{ key: 'a', value: 'committed-1' }, { key: 'b', value: 'committed-2' }] });
    await tx.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: input, partitions: [{ partition: 0, offset: '5' }] }] });
    await tx.commit();

    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchOffsets({ groupId, topics: [input] });
      expect(offsets).toEqual([{ topic: input, partitions: [expect.objectContaining({ partition: 0, offset: '5' })] }]);
    } finally {
      await admin.disconnect();
    }
  });

  it('hides an aborted transaction from read_committed consumers, not from read_uncommitted ones', async () => {
    const aborted = await producer.transaction();
    await aborted.send({ topic: output, messages: [{ key: 'x', value: 'aborted-1' }, { key: 'y', value: 'aborted-2' }] });
    await aborted.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: input, partitions: [{ partition: 0, offset: '99' }] }] });
    await aborted.abort();

    // A committed marker after the aborted records tells the reader it has read past them.
    const marker = await producer.transaction();
    await marker.send({ topic: output, messages: [{ key: 'm', value: 'committed-marker' }] });
    await marker.commit();

    const committed = await collectMessages(kafka, { topic: output, count: 3, readCommitted: true, timeoutMs: 30_000 });
    expect(committed.map((m) => m.value?.toString())).toEqual(['committed-1', 'committed-2', 'committed-marker']);

    const everything = await collectMessages(kafka, { topic: output, count: 5, readCommitted: false, timeoutMs: 30_000 });
    expect(everything.map((m) => m.value?.toString())).toEqual(['committed-1', 'committed-2', 'aborted-1', 'aborted-2', 'committed-marker']);

    // The aborted transaction's offset commit did not take effect either.
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [topic] = await admin.fetchOffsets({ groupId, topics: [input] });
      expect(topic?.partitions[0]?.offset).toBe('5');
    } finally {
      await admin.disconnect();
    }
  });
});
