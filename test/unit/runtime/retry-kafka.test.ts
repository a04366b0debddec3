import { describe, expect, it } from 'vitest';
import { aiopsError } from '../../../runtime/errors.js';
import { isTransientKafkaError, retry, retryKafka } from '../../../runtime/retry.js';

/** A kafkajs protocol error as the broker's answer comes out of the client. */
function protocolError(type: string, message: string, retriable = true): Error {
  return Object.assign(new Error(message), { name: 'KafkaJSProtocolError', type, retriable });
}

/** kafkajs' wrapper once its own retries ran out: not retriable itself, the broker's answer inside. */
function retriesExceeded(cause: Error): Error {
  return Object.assign(new Error(cause.message), { name: 'KafkaJSNumberOfRetriesExceeded', retriable: false, cause, originalError: cause });
}

/** A clock that moves only when the retry helper waits, so deadlines are exact and tests are instant. */
function fakeTime(): { now: () => number; sleep: (ms: number) => Promise<void>; waited: number[] } {
  let t = 0;
  const waited: number[] = [];
  return {
    now: () => t,
    sleep: async (ms) => {
      waited.push(ms);
      t += ms;
    },
    waited,
  };
}

describe('isTransientKafkaError', () => {
  it.each([
    'UNKNOWN_TOPIC_OR_PARTITION',
    'LEADER_NOT_AVAILABLE',
    'NOT_LEADER_OR_FOLLOWER',
    'NOT_LEADER_FOR_PARTITION',
    'COORDINATOR_LOAD_IN_PROGRESS',
    'GROUP_LOAD_IN_PROGRESS',
    'COORDINATOR_NOT_AVAILABLE',
    'GROUP_COORDINATOR_NOT_AVAILABLE',
    'REQUEST_TIMED_OUT',
  ])('%s, alone or inside KafkaJSNumberOfRetriesExceeded', (type) => {
    const error = protocolError(type, type);
    expect(isTransientKafkaError(error)).toBe(true);
    expect(isTransientKafkaError(retriesExceeded(error))).toBe(true);
  });

  it('finds the answer inside an aggregate of createTopics errors and in connection errors', () => {
    const aggregate = Object.assign(new Error('Topic creation errors'), { name: 'KafkaJSAggregateError', errors: [protocolError('REQUEST_TIMED_OUT', 'timed out')] });
    expect(isTransientKafkaError(aggregate)).toBe(true);
    expect(isTransientKafkaError(Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), { name: 'KafkaJSConnectionError', retriable: true }))).toBe(true);
  });

  it('is false for errors no wait cures: authorization, invalid requests, SASL, TLS, plain errors', () => {
    expect(isTransientKafkaError(protocolError('TOPIC_AUTHORIZATION_FAILED', 'Not authorized', false))).toBe(false);
    expect(isTransientKafkaError(protocolError('INVALID_REPLICATION_FACTOR', 'Replication factor is invalid', false))).toBe(false);
    expect(isTransientKafkaError(Object.assign(new Error('SASL PLAIN authentication failed'), { name: 'KafkaJSSASLAuthenticationError' }))).toBe(false);
    const tls = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    expect(isTransientKafkaError(Object.assign(new Error('Connection error: self-signed certificate'), { name: 'KafkaJSConnectionError', cause: tls }))).toBe(false);
    expect(isTransientKafkaError(new Error('boom'))).toBe(false);
  });
});

describe('retry with a deadline', () => {
  it('stops once the deadline has passed, the last wait ending at the deadline', async () => {
    const time = fakeTime();
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw aiopsError('TIMEOUT', ['probe', 1]);
        },
        { ...time, retries: 1_000, initialDelayMs: 100, factor: 2, jitter: 0, maxDelayMs: 1_000, deadlineMs: 1_000 },
      ),
    ).rejects.toMatchObject({ code: 'AIOPS_ERR_TIMEOUT' });
    expect(time.waited).toEqual([100, 200, 400, 300]);
    expect(calls).toBe(5);
  });
});

describe('retryKafka', () => {
  it('waits out a broker that fails N times, then returns what the operation gives', async () => {
    const time = fakeTime();
    const answers = [
      retriesExceeded(protocolError('UNKNOWN_TOPIC_OR_PARTITION', 'This server does not host this topic-partition')),
      protocolError('LEADER_NOT_AVAILABLE', 'There is no leader for this topic-partition'),
      protocolError('COORDINATOR_LOAD_IN_PROGRESS', 'The coordinator is loading'),
    ];
    let calls = 0;
    const retried: number[] = [];
    const result = await retryKafka(
      'creating topic t',
      async () => {
        const answer = answers[calls++];
        if (answer) throw answer;
        return 'created';
      },
      { ...time, onRetry: (_e, attempt) => retried.push(attempt) },
    );
    expect(result).toBe('created');
    expect(calls).toBe(4);
    expect(retried).toEqual([1, 2, 3]);
  });

  it('ends with AIOPS_ERR_KAFKA_NOT_READY at the deadline when the broker never gets ready', async () => {
    const time = fakeTime();
    let calls = 0;
    const failure = await retryKafka(
      'creating topic t',
      async () => {
        calls++;
        throw retriesExceeded(protocolError('UNKNOWN_TOPIC_OR_PARTITION', 'This server does not host this topic-partition'));
      },
      { ...time, deadlineMs: 30_000 },
    ).catch((error: unknown) => error as Error & { code: string; retriable: boolean; cause: unknown });
    expect(failure.code).toBe('AIOPS_ERR_KAFKA_NOT_READY');
    expect(failure.retriable).toBe(true);
    expect(failure.message).toBe(
      `creating topic t did not succeed: the Kafka broker still answered with transient errors after ${calls} attempts in 30000 ms (last: UNKNOWN_TOPIC_OR_PARTITION: This server does not host this topic-partition)`,
    );
    expect((failure.cause as Error).name).toBe('KafkaJSNumberOfRetriesExceeded');
    expect(time.now()).toBe(30_000);
    expect(calls).toBeGreaterThan(5);
  });

  it('throws an error that is not transient at once, as it is', async () => {
    const time = fakeTime();
    let calls = 0;
    const denied = protocolError('TOPIC_AUTHORIZATION_FAILED', 'Not authorized to access topics', false);
    await expect(
      retryKafka(
        'creating topic t',
        async () => {
          calls++;
          throw denied;
        },
        time,
      ),
    ).rejects.toBe(denied);
    expect(calls).toBe(1);
  });

  it('stops when aborted and gives the abort reason', async () => {
    const controller = new AbortController();
    let calls = 0;
    const run = retryKafka(
      'creating topic t',
      async () => {
        calls++;
        if (calls === 2) controller.abort(new Error('stopping'));
        throw protocolError('LEADER_NOT_AVAILABLE', 'no leader');
      },
      { initialDelayMs: 1, signal: controller.signal },
    );
    await expect(run).rejects.toThrow();
    expect(calls).toBe(2);
  });
});
