import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../runtime/clock.js';
import { BrokerHealth, watchConsumer } from '../../../../runtime/runner/broker-health.js';
import type { ConsumerEvents } from '../../../../runtime/runner/broker-health.js';

/** A consumer double: the kafkajs instrumentation event names, emitted by hand. */
function fakeConsumer(): ConsumerEvents & { emit(event: string, payload?: unknown): void } {
  const emitter = new EventEmitter();
  return {
    events: { FETCH: 'consumer.fetch', HEARTBEAT: 'consumer.heartbeat', REQUEST_TIMEOUT: 'consumer.network.request_timeout', CRASH: 'consumer.crash' },
    on: (event, listener) => emitter.on(event, listener),
    emit: (event, payload) => emitter.emit(event, { payload }),
  };
}

describe('broker health for /ready', () => {
  it('is healthy before the first round trip and while round trips succeed', () => {
    const clock = new ManualClock(0);
    const health = new BrokerHealth(clock, 5_000);
    expect(health.problem()).toBeUndefined();
    health.succeeded();
    clock.advance(4_000);
    expect(health.problem()).toBeUndefined();
  });

  it('is unhealthy at once after a failure, and healthy again after the next success', () => {
    const clock = new ManualClock(0);
    const health = new BrokerHealth(clock, 5_000);
    health.succeeded();
    health.failed('commit failed: connection refused');
    expect(health.problem()).toBe('commit failed: connection refused');
    clock.advance(100);
    health.succeeded();
    expect(health.problem()).toBeUndefined();
  });

  it('is unhealthy when no round trip succeeded for longer than the staleness limit', () => {
    const clock = new ManualClock(0);
    const health = new BrokerHealth(clock, 5_000);
    health.succeeded();
    clock.advance(5_000);
    expect(health.problem()).toBeUndefined();
    clock.advance(1);
    expect(health.problem()).toMatch(/no broker round trip for 5001 ms/);
    health.succeeded();
    expect(health.problem()).toBeUndefined();
  });

  it('follows the consumer: crash and request timeout are failures, fetch and heartbeat successes', () => {
    const clock = new ManualClock(0);
    const health = new BrokerHealth(clock, 5_000);
    const consumer = fakeConsumer();
    watchConsumer(consumer, health);
    consumer.emit('consumer.fetch', { numberOfBatches: 1 });
    expect(health.problem()).toBeUndefined();
    consumer.emit('consumer.crash', { error: new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), restart: true });
    expect(health.problem()).toMatch(/consumer crashed: .*ECONNREFUSED/);
    consumer.emit('consumer.heartbeat', {});
    expect(health.problem()).toBeUndefined();
    consumer.emit('consumer.network.request_timeout', { apiName: 'Fetch', broker: '127.0.0.1:9092' });
    expect(health.problem()).toBe('request Fetch to 127.0.0.1:9092 timed out');
    clock.advance(60_000);
    consumer.emit('consumer.fetch', { numberOfBatches: 0 });
    expect(health.problem()).toBeUndefined();
  });

  it('uses the event names kafkajs emits', async () => {
    const { default: kafkajs } = await import('kafkajs');
    const consumer = new kafkajs.Kafka({ brokers: ['127.0.0.1:1'], logLevel: kafkajs.logLevel.NOTHING }).consumer({ groupId: 'unit' });
    expect(consumer.events).toMatchObject(fakeConsumer().events);
  });
});
