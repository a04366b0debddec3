import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultRules, ingestFactory, parseIngestConfig } from '../../processors/ingest/index.js';
import { deadLetterHeaders, deadLetterTopic } from '../../runtime/dead-letter.js';
import { runProcess } from '../../runtime/process.js';
import type { RunningProcess } from '../../runtime/process.js';
import { processKafka } from '../../runtime/runner.js';
import { signalSerde } from '../../schemas/index.js';
import { collectMessages, createTopics, kafkaClient } from '../../stack/clients/index.js';
import { eventually } from '../helpers/eventually.js';
import { stackEndpoints } from '../helpers/stack.js';
import { sumRecord } from '../helpers/otlp.js';

const T0 = Date.now() - 60_000;

/** One cumulative counter point of `service`, with `padding` bytes of extra resource attributes. */
function requests(service: string, value: number, padding = 0): Buffer {
  return sumRecord({ service, value, startMs: T0, timeMs: T0 + 1000, ...(padding > 0 ? { resource: { padding: 'x'.repeat(padding) } } : {}) });
}

describe('a record over the size limit on the real broker', () => {
  const endpoints = stackEndpoints();
  const run = randomUUID().slice(0, 8);
  const input = `test.size-in.${run}`;
  const signals = `test.size-signals.${run}`;
  let proc: RunningProcess | undefined;

  afterAll(async () => {
    await proc?.stop();
  });

  it('is dead-lettered with its size and the limit in the reason, without its value, and the records around it are processed', async () => {
    const kafka = kafkaClient(endpoints.kafkaBrokers);
    await createTopics(kafka, [input], 1);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: input, messages: [{ value: requests('size-before', 2) }, { key: Buffer.from('big'), value: requests('size-big', 3, 8_192) }, { value: requests('size-after', 4) }] });
    await producer.disconnect();

    const config = parseIngestConfig({
      rules: [...defaultRules, { name: 'requests', metric: 'http.server.requests', kind: 'counter', groupBy: ['service.name'] }],
      bucketMs: 10_000,
      idleTimeoutMs: 500,
      signalsTopic: signals,
    });
    proc = await runProcess({ name: `ingest-size-${run}`, kafka: processKafka(endpoints.kafkaBrokers, 'record-size'), inputTopic: input, outputTopics: [signals], factory: ingestFactory(config), idleTimeoutMs: 500, port: 0, maxRecordBytes: 4_096 });

    const [dead] = await collectMessages(kafka, { topic: deadLetterTopic, count: 1, timeoutMs: 60_000, filter: (m) => m.headers?.[deadLetterHeaders.topic]?.toString() === input });
    expect(dead?.headers?.[deadLetterHeaders.reason]?.toString()).toMatch(/^record of \d+ bytes exceeds the record size limit of 4096 bytes \(AIOPS_KAFKA_MAX_RECORD_BYTES\); value not kept$/);
    expect(dead?.headers?.[deadLetterHeaders.offset]?.toString()).toBe('1');
    expect(dead?.key?.toString()).toBe('big');
    expect(dead?.value).toBeNull();

    const partials = await collectMessages(kafka, { topic: signals, count: 2, timeoutMs: 60_000, filter: (m) => m.key !== null });
    const services = partials.map((m) => signalSerde.deserialize(m.value as Buffer)).filter((s) => s.rule === 'requests').map((s) => s.dimensions['service.name']);
    expect(services.sort()).toEqual(['size-after', 'size-before']);
    const stats = await eventually('counters', async () => {
      const s = await (proc as RunningProcess).runner.stats();
      return s.counters.oversized_records === 1 ? s : undefined;
    });
    expect(stats.counters).toMatchObject({ oversized_records: 1, rejected_records: 1, dead_letters: 1 });
  });
});
