/*
 * The crash test of the runtime: a recorded input topic is replayed through `aiops ingest` child
 * processes killed with SIGKILL at five random points of their progress, then finished by a
 * last child; the output, read with read_committed, must equal record for record the output of
 * an uninterrupted run over the same input (which also uses other batch sizes).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { defaultRules, ingestFactory, parseIngestConfig } from '../../processors/ingest/index.js';
import { HttpWorkload, Prng, encodeWorkloadBatch } from '../../runtime/otlp/index.js';
import { runProcess } from '../../runtime/process.js';
import { processKafka } from '../../runtime/runner.js';
import { sleep } from '../../runtime/retry.js';
import { signalSerde } from '../../schemas/index.js';
import { createTopics, endOffsets, kafkaClient, readTopicToEnd } from '../../stack/clients/index.js';
import type { CollectedMessage } from '../../stack/clients/index.js';
import { projectRoot } from '../../stack/index.js';
import { signalsBySource } from '../helpers/signals.js';
import { stackEndpoints } from '../helpers/stack.js';

const PARTITIONS = 4;
const settings = { bucketMs: 10_000, allowedLatenessMs: 5_000, idleTimeoutMs: 1_000, maxBatchBytes: 4_096 };

/** True once every input partition with data has announced idle (it processed everything). */
async function finished(kafka: Kafka, topic: string, sources: number[]): Promise<CollectedMessage[] | undefined> {
  const records = await readTopicToEnd(kafka, topic);
  const idle = new Set(records.map((r) => signalSerde.deserialize(r.value as Buffer)).filter((s) => s.kind === 'WATERMARK' && s.idle).map((s) => s.sourcePartition));
  return sources.every((p) => idle.has(p)) ? records : undefined;
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, pollMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(pollMs);
  }
  throw new Error(`not reached within ${timeoutMs} ms`);
}

describe('ingest killed with SIGKILL while replaying a recorded topic', () => {
  const endpoints = stackEndpoints();
  const run = randomUUID().slice(0, 8);
  const input = `test.crash-in.${run}`;
  const children: ChildProcess[] = [];

  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  });

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
    const expected = await until(() => finished(kafka, refTopic, sources), 240_000);
    await reference.stop();

    // The same replay in a child process, killed at five points of its progress.
    const name = `crash-${run}`;
    const crashTopic = `test.crash-out.${run}`;
    const start = (): ChildProcess => {
      const child = spawn(process.execPath, [join(projectRoot, 'bin/aiops.js'), 'ingest'], {
        env: {
          ...process.env,
          AIOPS_KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
          AIOPS_INGEST_TOPIC: input,
          AIOPS_INGEST_NAME: name,
          AIOPS_INGEST_SIGNALS_TOPIC: crashTopic,
          AIOPS_INGEST_PORT: '0',
          AIOPS_INGEST_BUCKET_MS: String(settings.bucketMs),
          AIOPS_INGEST_LATENESS_MS: String(settings.allowedLatenessMs),
          AIOPS_INGEST_IDLE_MS: String(settings.idleTimeoutMs),
          AIOPS_INGEST_MAX_BATCH_BYTES: String(settings.maxBatchBytes),
          AIOPS_LOG_LEVEL: process.env.AIOPS_CRASH_LOG ? 'trace' : 'error',
          AIOPS_KAFKA_SESSION_TIMEOUT_MS: '6000',
        },
        stdio: ['ignore', 'ignore', process.env.AIOPS_CRASH_LOG ? openSync(process.env.AIOPS_CRASH_LOG, 'a') : 'ignore'],
      });
      children.push(child);
      return child;
    };
    const admin = kafka.admin();
    await admin.connect();
    const endOf = new Map(ends.map((e) => [e.partition, Number(e.offset)]));
    const committedBeyondEnd: string[] = [];
    const committed = async (): Promise<number> => {
      const [topic] = await admin.fetchOffsets({ groupId: `aiops.${name}`, topics: [input] });
      for (const p of topic?.partitions ?? []) {
        if (Number(p.offset) > (endOf.get(p.partition) ?? 0)) committedBeyondEnd.push(`partition ${p.partition}: committed ${p.offset}, end ${endOf.get(p.partition)}`);
      }
      return (topic?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
    };
    const prng = new Prng(Number.parseInt(run.slice(0, 6), 16));
    const kills: number[] = [];
    // Kill points spread over the first three quarters, so that each strikes before the child
    // could finish the replay between two polls.
    for (const target of [0.1, 0.25, 0.4, 0.55, 0.7].slice(0, Number(process.env.AIOPS_CRASH_KILLS ?? 5))) {
      const child = start();
      const at = Math.floor(total * (target + (prng.next() - 0.5) * 0.1));
      await until(async () => ((await committed()) >= at ? true : undefined), 120_000, 100);
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      kills.push(await committed());
    }
    await admin.disconnect();
    const last = start();
    const actual = await until(() => finished(kafka, crashTopic, sources), 240_000);
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
