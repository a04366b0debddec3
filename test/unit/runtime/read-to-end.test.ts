import type { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { readToEnd } from '../../../runtime/read-to-end.js';

/** A Kafka whose admin answers fetchTopicOffsets from a script of errors and results. */
function scriptedKafka(script: (Error | { partition: number; high: string; low: string }[])[]): { kafka: Kafka; calls: () => number } {
  let calls = 0;
  const admin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    fetchTopicOffsets: async () => {
      const next = script[Math.min(calls++, script.length - 1)];
      if (next instanceof Error) throw next;
      return next;
    },
  };
  return { kafka: { admin: () => admin, consumer: () => { throw new Error('no consumer expected'); } } as unknown as Kafka, calls: () => calls };
}

const retriable = (message: string): Error => Object.assign(new Error(message), { retriable: true });

describe('readToEnd', () => {
  it('waits out retriable errors of a broker that is still electing leaders', async () => {
    const { kafka, calls } = scriptedKafka([retriable('This server is not the leader for that topic-partition'), retriable('There is no leader for this topic-partition'), [{ partition: 0, high: '0', low: '0' }]]);
    const batches: number[] = [];
    await readToEnd(kafka, 'aiops.anomalies.v1', (p) => batches.push(p));
    expect(calls()).toBe(3);
    expect(batches).toEqual([]); // an empty topic has nothing to read
  });

  it('waits out UNKNOWN_TOPIC_OR_PARTITION of a topic the broker does not know yet (kafkajs wraps it when its own retries run out)', async () => {
    const unknown = Object.assign(new Error('This server does not host this topic-partition'), { name: 'KafkaJSProtocolError', type: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: true });
    const exhausted = Object.assign(new Error('This server does not host this topic-partition'), { name: 'KafkaJSNumberOfRetriesExceeded', retriable: false, cause: unknown });
    const { kafka, calls } = scriptedKafka([exhausted, unknown, [{ partition: 0, high: '0', low: '0' }]]);
    await readToEnd(kafka, 'aiops.slo.v1', () => undefined, { retry: { initialDelayMs: 1 } });
    expect(calls()).toBe(3);
  });

  it('ends with AIOPS_ERR_KAFKA_NOT_READY naming the topic when the broker never answers within the deadline', async () => {
    const unknown = Object.assign(new Error('This server does not host this topic-partition'), { name: 'KafkaJSProtocolError', type: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: true });
    const { kafka, calls } = scriptedKafka([unknown]);
    await expect(readToEnd(kafka, 'missing', () => undefined, { retry: { initialDelayMs: 1, maxDelayMs: 5, deadlineMs: 50 } })).rejects.toMatchObject({
      code: 'AIOPS_ERR_KAFKA_NOT_READY',
      message: expect.stringContaining('reading the offsets of missing'),
    });
    expect(calls()).toBeGreaterThan(1);
  });

  it('gives up at once on an error that is not transient', async () => {
    const denied = Object.assign(new Error('Not authorized to access topics: [Topic authorization failed]'), { name: 'KafkaJSProtocolError', type: 'TOPIC_AUTHORIZATION_FAILED', retriable: false });
    const { kafka, calls } = scriptedKafka([denied]);
    await expect(readToEnd(kafka, 'secret', () => undefined)).rejects.toThrow('Not authorized');
    expect(calls()).toBe(1);
  });
});
