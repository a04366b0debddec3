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

  it('gives up at once on an error that is not retriable', async () => {
    const { kafka, calls } = scriptedKafka([new Error('This server does not host this topic-partition')]);
    await expect(readToEnd(kafka, 'missing', () => undefined)).rejects.toThrow('does not host');
    expect(calls()).toBe(1);
  });
});
