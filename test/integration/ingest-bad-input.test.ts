import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultRules, ingestFactory, parseIngestConfig } from '../../processors/ingest/index.js';
import { deadLetterHeaders, deadLetterTopic } from '../../runtime/dead-letter.js';
import { runProcess } from '../../runtime/process.js';
import type { RunningProcess } from '../../runtime/process.js';
import { processKafka } from '../../runtime/runner.js';
import { signalSerde } from '../../schemas/index.js';
import { collectMessages, createTopics, kafkaClient, readTopicToEnd } from '../../stack/clients/index.js';
import { eventually } from '../helpers/eventually.js';
import { stackEndpoints } from '../helpers/stack.js';
import { sumRecord } from '../helpers/otlp.js';

const T0 = Date.now() - 60_000;

function sum(value: number, name = 'http.server.requests'): Buffer {
  return sumRecord({ service: 'bad-input', value, metric: name, startMs: T0, timeMs: T0 + 1000 });
}

describe('ingest on the real broker keeps going through bad input', () => {
  const endpoints = stackEndpoints();
  const run = randomUUID().slice(0, 8);
  const input = `test.bad-in.${run}`;
  const signals = `test.bad-signals.${run}`;
  let proc: RunningProcess | undefined;

  afterAll(async () => {
    await proc?.stop();
  });

  it('dead-letters undecodable records with their reason and source, counts bad values, and processes what follows', async () => {
    const kafka = kafkaClient(endpoints.kafkaBrokers);
    await createTopics(kafka, [input], 1);
    const good = sum(5);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: input,
      messages: [
        { value: Buffer.from('garbage bytes, not protobuf \xff') },
        { value: good.subarray(0, good.length - 4) }, // truncated protobuf
        { value: Buffer.from(JSON.stringify({ resourceMetrics: [{ scopeMetrics: [] }] })) }, // otlp_json where otlp_proto is expected
        { value: sum(Number.NaN) },
        { value: sum(-3) },
        // A first resource that reaches the state, then one cut short: the partition rolls back
        // to its last commit and replays without it (the first resource's 7 must not count).
        { value: Buffer.concat([sumRecord({ service: 'half-way', value: 7, metric: 'http.server.requests', startMs: T0, timeMs: T0 + 1000 }), good.subarray(0, good.length - 4)]) },
        { value: good },
      ],
    });
    await producer.disconnect();

    const config = parseIngestConfig({
      rules: [...defaultRules, { name: 'requests', metric: 'http.server.requests', kind: 'counter', groupBy: ['service.name'] }],
      bucketMs: 10_000,
      idleTimeoutMs: 500,
      signalsTopic: signals,
    });
    proc = await runProcess({ name: `ingest-bad-${run}`, kafka: processKafka(endpoints.kafkaBrokers, 'bad-input'), inputTopic: input, outputTopics: [signals], factory: ingestFactory(config), idleTimeoutMs: 500, port: 0 });

    const dead = await collectMessages(kafka, {
      topic: deadLetterTopic,
      count: 4,
      timeoutMs: 60_000,
      filter: (m) => m.headers?.[deadLetterHeaders.topic]?.toString() === input,
    });
    // Dead letters keep the original (here null) key, so they spread over the DLQ's partitions.
    dead.sort((a, b) => Number(a.headers?.[deadLetterHeaders.offset]?.toString()) - Number(b.headers?.[deadLetterHeaders.offset]?.toString()));
    expect(dead.map((m) => m.headers?.[deadLetterHeaders.offset]?.toString())).toEqual(['0', '1', '2', '5']);
    for (const m of dead) {
      expect(m.headers?.[deadLetterHeaders.reason]?.toString()).toMatch(/^undecodable otlp_proto payload: /);
      expect(m.headers?.[deadLetterHeaders.partition]?.toString()).toBe('0');
      expect(m.headers?.[deadLetterHeaders.processor]?.toString()).toBe(`ingest-bad-${run}`);
    }
    expect(dead[0]?.value?.toString()).toBe('garbage bytes, not protobuf \xff');

    const [partial] = await collectMessages(kafka, { topic: signals, count: 1, timeoutMs: 60_000, filter: (m) => m.key !== null });
    expect(signalSerde.deserialize(partial?.value as Buffer)).toMatchObject({ rule: 'requests', count: 5, dimensions: { 'service.name': 'bad-input' } });

    const stats = await eventually('counters', async () => {
      const s = await (proc as RunningProcess).runner.stats();
      return s.counters.bad_values === 2 ? s : undefined;
    });
    expect(stats.counters).toMatchObject({ rejected_records: 4, dead_letters: 4, bad_values: 2, rollbacks: 1 });
    const keyed = (await readTopicToEnd(kafka, signals)).filter((m) => m.key !== null).map((m) => signalSerde.deserialize(m.value as Buffer));
    expect(keyed.map((p) => p.dimensions['service.name'])).toEqual(['bad-input']);
  });
});
