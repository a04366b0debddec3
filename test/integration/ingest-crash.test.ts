/*
 * The crash test of the runtime: a recorded input topic is replayed through `aiops ingest` child
 * processes killed with SIGKILL at five random points of their progress, then finished by a
 * last child; the output, read with read_committed, must equal record for record the output of
 * an uninterrupted run over the same input (which also uses other batch sizes).
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultRules, ingestFactory, parseIngestConfig } from '../../processors/ingest/index.js';
import { HttpWorkload, Prng, encodeWorkloadBatch } from '../../runtime/otlp/index.js';
import { runProcess } from '../../runtime/process.js';
import { processKafka } from '../../runtime/runner.js';
import { createTopics, endOffsets, kafkaClient } from '../../stack/clients/index.js';
import { Children, committedTotal, idleSignals, killPoints, until } from '../helpers/crash.js';
import { signalsBySource } from '../helpers/signals.js';
import { stackEndpoints } from '../helpers/stack.js';

const PARTITIONS = 4;
const settings = { bucketMs: 10_000, allowedLatenessMs: 5_000, idleTimeoutMs: 1_000, maxBatchBytes: 4_096 };

describe('ingest killed with SIGKILL while replaying a recorded topic', () => {
  const endpoints = stackEndpoints();
  const run = randomUUID().slice(0, 8);
  const input = `test.crash-in.${run}`;
  const children = new Children();

  afterAll(() => children.killAll());

  it('produces, record for record, the output of an uninterrupted run', { timeout: 600_000 }, async () => {
    const kafka = kafkaClient(endpoints.kafkaBrokers);
    // The recorded points carry event times of January 2026: time-based retention would delete
    // them (and move the log start past committed offsets) at the broker's next retention check.
    await createTopics(kafka, [input], PARTITIONS, { 'retention.ms': '-1' });
    const workload = new HttpWorkload({ services: 3, instancesPerService: 3, routesPerService: 3, startTimeMs: Date.UTC(2026, 0, 1), intervalMs: 10_000, temporality: 'cumulative', seed: 11 });
    const producer = kafka.producer();
    await producer.connect();
    // One produce request per record, so that record batches (and with them the consumer's
    // batches and the transactions) end anywhere, not only where a collection interval ends.
    for (let i = 0; i < Number(process.env.AIOPS_CRASH_INTERVALS ?? 120); i++) {
      for (const message of encodeWorkloadBatch(workload.next())) await producer.send({ topic: input, messages: [message] });
    }
    await producer.disconnect();
    const ends = await endOffsets(kafka, input);
    const sources = ends.filter((e) => e.offset !== '0').map((e) => e.partition);
    const total = ends.reduce((n, e) => n + Number(e.offset), 0);

    // The uninterrupted run.
    const refTopic = `test.crash-ref.${run}`;
    const config = parseIngestConfig({ rules: defaultRules, bucketMs: settings.bucketMs, allowedLatenessMs: settings.allowedLatenessMs, idleTimeoutMs: settings.idleTimeoutMs, signalsTopic: refTopic });
    const reference = await runProcess({
      name: `crash-ref-${run}`,
      kafka: processKafka(endpoints.kafkaBrokers, 'crash-ref'),
      inputTopic: input,
      outputTopics: [refTopic],
      factory: ingestFactory(config),
      idleTimeoutMs: settings.idleTimeoutMs,
      // Large batches here, small ones in the replay: the output must not depend on batching.
      port: 0,
    });
    const expected = await until(() => idleSignals(kafka, refTopic, sources), 240_000);
    await reference.stop();

    // The same replay in a child process, killed at five points of its progress.
    const name = `crash-${run}`;
    const crashTopic = `test.crash-out.${run}`;
    const start = (): ChildProcess =>
      children.start('ingest', {
        AIOPS_KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
        AIOPS_INGEST_TOPIC: input,
        AIOPS_INGEST_NAME: name,
        AIOPS_INGEST_SIGNALS_TOPIC: crashTopic,
        AIOPS_INGEST_PORT: '0',
        AIOPS_INGEST_BUCKET_MS: String(settings.bucketMs),
        AIOPS_INGEST_LATENESS_MS: String(settings.allowedLatenessMs),
        AIOPS_INGEST_IDLE_MS: String(settings.idleTimeoutMs),
        AIOPS_INGEST_MAX_BATCH_BYTES: String(settings.maxBatchBytes),
        AIOPS_KAFKA_SESSION_TIMEOUT_MS: '6000',
        // Commits every 100 ms while behind (the default is 1 s), so that the committed position
        // advances in steps small enough for each kill point to strike mid-replay.
        AIOPS_KAFKA_COMMIT_INTERVAL_MS: '100',
      });
    const admin = kafka.admin();
    await admin.connect();
    const endOf = new Map(ends.map((e) => [e.partition, Number(e.offset)]));
    const committedBeyondEnd: string[] = [];
    const committed = (): Promise<number> => committedTotal(admin, `aiops.${name}`, input, endOf, committedBeyondEnd);
    const prng = new Prng(Number.parseInt(run.slice(0, 6), 16));
    const kills: number[] = [];
    // Kill points spread over the first three quarters, so that each strikes before the child
    // could finish the replay between two polls.
    for (const at of killPoints(total, [0.1, 0.25, 0.4, 0.55, 0.7].slice(0, Number(process.env.AIOPS_CRASH_KILLS ?? 5)), () => prng.next())) {
      const child = start();
      await until(async () => ((await committed()) >= at ? true : undefined), 120_000, 100);
      await Children.kill(child);
      kills.push(await committed());
    }
    await admin.disconnect();
    const last = start();
    const actual = await until(() => idleSignals(kafka, crashTopic, sources), 240_000);
    last.kill('SIGTERM');

    if (process.env.AIOPS_CRASH_DUMP) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(`${process.env.AIOPS_CRASH_DUMP}.expected.json`, JSON.stringify(signalsBySource(expected)));
      writeFileSync(`${process.env.AIOPS_CRASH_DUMP}.actual.json`, JSON.stringify(signalsBySource(actual)));
    }
    // No committed input position ever pointed past the end of the input.
    expect(committedBeyondEnd).toEqual([]);
    // Every kill struck mid-replay, and later than the one before.
    expect(kills.every((k, i) => k < total && (i === 0 || k >= (kills[i - 1] as number)))).toBe(true);
    expect(signalsBySource(actual)).toEqual(signalsBySource(expected));
    expect(actual.length).toBe(expected.length);
  });
});
