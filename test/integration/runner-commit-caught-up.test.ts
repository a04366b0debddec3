import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultRules, ingestFactory, parseIngestConfig } from '../../processors/ingest/index.js';
import { runProcess } from '../../runtime/process.js';
import type { RunningProcess } from '../../runtime/process.js';
import { processKafka } from '../../runtime/runner.js';
import { collectMessages, createTopics, kafkaClient } from '../../stack/clients/index.js';
import { eventually } from '../helpers/eventually.js';
import { stackEndpoints } from '../helpers/stack.js';
import { sumRecord } from '../helpers/otlp.js';

const T0 = Date.now() - 120_000;
/** Ten minutes: longer than the test, so only a commit on catching up can make output visible. */
const LONG_MS = 600_000;

describe('committing when a partition is caught up, on the real broker', () => {
  const endpoints = stackEndpoints();
  const run = randomUUID().slice(0, 8);
  const input = `test.caught-up-in.${run}`;
  const procs: RunningProcess[] = [];

  afterAll(async () => {
    for (const proc of procs) await proc.stop();
  });

  it('makes a closed bucket visible at once when on, and holds it for the commit interval when off', async () => {
    const kafka = kafkaClient(endpoints.kafkaBrokers);
    // Two points of one counter 30 s apart: the second closes the first one's bucket while the
    // batch is processed (watermark past its end plus lateness), so its partial is output
    // without any idle work (the idle timeout is as long as the commit interval).
    await createTopics(kafka, [input], 1);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: input,
      messages: [
        { value: sumRecord({ service: 'caught-up', value: 5, startMs: T0, timeMs: T0 + 1_000 }) },
        { value: sumRecord({ service: 'caught-up', value: 9, startMs: T0, timeMs: T0 + 31_000 }) },
      ],
    });
    await producer.disconnect();

    const start = async (mode: 'on' | 'off'): Promise<{ proc: RunningProcess; signals: string }> => {
      const signals = `test.caught-up-signals-${mode}.${run}`;
      const config = parseIngestConfig({
        rules: [...defaultRules, { name: 'requests', metric: 'http.server.requests', kind: 'counter', groupBy: ['service.name'] }],
        bucketMs: 10_000,
        allowedLatenessMs: 5_000,
        idleTimeoutMs: LONG_MS,
        signalsTopic: signals,
      });
      const proc = await runProcess({
        name: `ingest-caught-up-${mode}-${run}`,
        kafka: processKafka(endpoints.kafkaBrokers, `caught-up-${mode}-${run}`),
        inputTopic: input,
        outputTopics: [signals],
        factory: ingestFactory(config),
        idleTimeoutMs: LONG_MS,
        commitIntervalMs: LONG_MS,
        commitWhenCaughtUp: mode === 'on',
        port: 0,
      });
      procs.push(proc);
      return { proc, signals };
    };
    const on = await start('on');
    const off = await start('off');

    const visible = await collectMessages(kafka, { topic: on.signals, count: 1, timeoutMs: 60_000, filter: (m) => m.key !== null });
    expect(visible.length).toBeGreaterThanOrEqual(1);
    expect((await on.proc.runner.stats()).counters.commits).toBeGreaterThanOrEqual(1);

    // The other process has read both records (and output the same partial inside its open
    // transaction), but commits nothing before the interval: a read_committed reader sees nothing.
    const offStats = await eventually('off has read both records', async () => {
      const s = await off.proc.runner.stats();
      return (s.counters.records ?? 0) >= 2 ? s : undefined;
    });
    expect(offStats.counters.commits ?? 0).toBe(0);
    await expect(collectMessages(kafka, { topic: off.signals, count: 1, timeoutMs: 5_000 })).rejects.toThrow(/saw 0/);
  });
});
