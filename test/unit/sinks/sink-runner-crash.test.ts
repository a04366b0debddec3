import { EventEmitter } from 'node:events';
import type { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../runtime/logger.js';
import { sleep } from '../../../runtime/retry.js';
import { SinkRunner } from '../../../sinks/runtime.js';

const crashEvent = 'consumer.crash';

/** A consumer whose CRASH event the test fires, counting connects and runs. */
function fakeKafka() {
  const emitter = new EventEmitter();
  const calls = { connect: 0, run: 0 };
  const consumer = {
    events: { CRASH: crashEvent },
    on: (event: string, listener: (e: unknown) => void) => emitter.on(event, listener),
    connect: async () => void calls.connect++,
    subscribe: async () => undefined,
    run: async () => void calls.run++,
    disconnect: async () => undefined,
  };
  const kafka = {
    admin: () => ({ connect: async () => undefined, disconnect: async () => undefined, listTopics: async () => ['a', 'b'], createTopics: async () => true }),
    producer: () => ({ connect: async () => undefined, disconnect: async () => undefined, send: async () => [] }),
    consumer: () => consumer,
  } as unknown as Kafka;
  const crash = (error: Error, restart: boolean) => emitter.emit(crashEvent, { payload: { error, restart } });
  return { kafka, calls, crash };
}

const coordinatorNotFound = Object.assign(new Error('Failed to find group coordinator'), {
  name: 'KafkaJSNonRetriableError',
  retriable: false,
  cause: Object.assign(new Error('Failed to find group coordinator'), { name: 'KafkaJSGroupCoordinatorNotFound', retriable: false }),
});

async function started(kafka: Kafka): Promise<SinkRunner> {
  const runner = new SinkRunner({ kafka, sink: { name: 'test', deliver: async () => undefined }, log: createLogger('test.sink-crash'), topics: ['a', 'b'] });
  await runner.start();
  return runner;
}

describe('a sink whose consumer crashes', () => {
  it('runs it again after a transient broker error kafkajs does not restart, and counts the restart', async () => {
    const { kafka, calls, crash } = fakeKafka();
    const runner = await started(kafka);
    expect(calls).toEqual({ connect: 1, run: 1 });
    crash(coordinatorNotFound, false);
    for (let i = 0; i < 100 && calls.run < 2; i++) await sleep(20);
    expect(calls).toEqual({ connect: 2, run: 2 });
    expect(runner.stats.consumerRestarts).toBe(1);
    for (let i = 0; i < 100 && !runner.ready; i++) await sleep(20);
    expect(runner.ready).toBe(true);
    await runner.stop();
  });

  it('is not ready after a crash that cannot be cured by waiting, and leaves restarts kafkajs makes to kafkajs', async () => {
    const { kafka, calls, crash } = fakeKafka();
    const runner = await started(kafka);
    crash(coordinatorNotFound, true);
    await sleep(50);
    expect(calls.run).toBe(1);
    expect(runner.ready).toBe(true);
    crash(Object.assign(new Error('Not authorized to access group'), { name: 'KafkaJSProtocolError', type: 'GROUP_AUTHORIZATION_FAILED' }), false);
    expect(runner.ready).toBe(false);
    expect(runner.stats.consumerRestarts).toBe(0);
    await runner.stop();
  });
});
