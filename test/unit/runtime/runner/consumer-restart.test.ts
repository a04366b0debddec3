import type { Consumer, ConsumerRunConfig } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../../runtime/logger.js';
import { restartConsumer, restartableCrash } from '../../../../runtime/runner/consumer-restart.js';

/** kafkajs' crash when the broker goes away during a rebalance: a non-retriable wrapper of a transient answer. */
const coordinatorNotFound = Object.assign(new Error('Failed to find group coordinator'), {
  name: 'KafkaJSNonRetriableError',
  retriable: false,
  cause: Object.assign(new Error('Failed to find group coordinator'), { name: 'KafkaJSGroupCoordinatorNotFound', retriable: false }),
});

describe('restarting a crashed consumer', () => {
  it('restarts what kafkajs does not: transient broker errors in non-retriable wrappers, never a bad request or an error kafkajs restarts itself', () => {
    expect(restartableCrash(false, coordinatorNotFound)).toBe(true);
    expect(restartableCrash(true, coordinatorNotFound)).toBe(false);
    expect(restartableCrash(false, Object.assign(new Error('Not authorized to access group'), { name: 'KafkaJSProtocolError', type: 'GROUP_AUTHORIZATION_FAILED' }))).toBe(false);
    expect(restartableCrash(false, new Error('processor threw'))).toBe(false);
  });

  it('connects and runs the consumer again with the same configuration, waiting while the broker refuses connections', async () => {
    const calls: string[] = [];
    let refusals = 2;
    const config = { eachBatch: async () => undefined } as ConsumerRunConfig;
    const consumer = {
      connect: async () => {
        calls.push('connect');
        if (refusals-- > 0) throw Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), { name: 'KafkaJSConnectionError', retriable: true });
      },
      run: async (c: ConsumerRunConfig) => {
        calls.push(c === config ? 'run(same config)' : 'run(other config)');
      },
    } as unknown as Consumer;
    await restartConsumer('test', consumer, config, () => true, createLogger('test.restart'));
    expect(calls).toEqual(['connect', 'connect', 'connect', 'run(same config)']);
  }, 20_000);

  it('does nothing once the runner is stopping', async () => {
    const calls: string[] = [];
    const consumer = { connect: async () => void calls.push('connect'), run: async () => void calls.push('run') } as unknown as Consumer;
    await restartConsumer('test', consumer, {} as ConsumerRunConfig, () => false, createLogger('test.restart'));
    expect(calls).toEqual([]);
  });
});
