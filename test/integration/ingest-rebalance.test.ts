/*
 * The rebalance test of the runtime: two ingest instances share a consumer group over a
 * two-partition input. Half of a recorded workload goes in while both run; one instance stops;
 * the other takes over its partition, restores that partition's state from the changelog, and
 * processes the second half. The output must equal, record for record, the output of one
 * uninterrupted instance over the same input: no gap and no duplicate.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { defaultRules, ingestFactory, parseIngestConfig } from '../../processors/ingest/index.js';
import { HttpWorkload, encodeWorkloadBatch } from '../../runtime/otlp/index.js';
import { runProcess } from '../../runtime/process.js';
import type { RunningProcess } from '../../runtime/process.js';
import { processKafka } from '../../runtime/runner.js';
import { signalSerde } from '../../schemas/index.js';
import { createTopics, endOffsets, kafkaClient, readTopicToEnd } from '../../stack/clients/index.js';
import { eventually } from '../helpers/eventually.js';
import { signalsBySource } from '../helpers/signals.js';
import { stackEndpoints } from '../helpers/stack.js';

const INTERVALS = 40;
// No idle flush during the test: buckets close only by watermark, as in the uninterrupted run.
const IDLE_MS = 600_000;

async function committedOffsets(kafka: Kafka, groupId: string, topic: string): Promise<Map<number, string>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((offsets?.partitions ?? []).map((p) => [p.partition, p.offset]));
  } finally {
    await admin.disconnect();
  }
}

/** Resolves once the group has committed every partition of `topic` up to its current end. */
async function caughtUp(kafka: Kafka, groupId: string, topic: string): Promise<void> {
  const ends = await endOffsets(kafka, topic);
  await eventually(`${groupId} committed ${topic} to its end`, async () => {
    const committed = await committedOffsets(kafka, groupId, topic);
    for (const { partition, offset } of ends) expect(committed.get(partition), `partition ${partition}`).toBe(offset);
    return true;
  }, { timeoutMs: 90_000, intervalMs: 250 });
}

describe('ingest: one of two instances stops, the other takes its partition over', () => {
  const endpoints = stackEndpoints();
  const run = randomUUID().slice(0, 8);
  const input = `test.rebalance-in.${run}`;
  const processes: RunningProcess[] = [];

  afterAll(async () => {
    await Promise.allSettled(processes.map((p) => p.stop()));
  });

  function start(name: string, signalsTopic: string): Promise<RunningProcess> {
    const config = parseIngestConfig({ rules: defaultRules, bucketMs: 10_000, allowedLatenessMs: 5_000, idleTimeoutMs: IDLE_MS, signalsTopic });
    return runProcess({
      name,
      kafka: processKafka(endpoints.kafkaBrokers, name),
      inputTopic: input,
      outputTopics: [signalsTopic],
      factory: ingestFactory(config),
      idleTimeoutMs: IDLE_MS,
      // Small batches: many transactions per partition before and after the hand-over.
      maxBytesPerPartition: 16_384,
      port: 0,
    }).then((p) => {
      processes.push(p);
      return p;
    });
  }

  it('restores the partition from the changelog and continues with no gap and no duplicate', { timeout: 300_000 }, async () => {
    const kafka = kafkaClient(endpoints.kafkaBrokers);
    // Recorded event times are in January 2026: keep them from time-based retention.
    await createTopics(kafka, [input], 2, { 'retention.ms': '-1' });
    const workload = new HttpWorkload({ services: 3, instancesPerService: 3, routesPerService: 3, startTimeMs: Date.UTC(2026, 0, 1), intervalMs: 10_000, temporality: 'cumulative', seed: 23 });
    const messages = Array.from({ length: INTERVALS }, () => encodeWorkloadBatch(workload.next())).flat();
    // The hand-over falls in the middle of a collection interval.
    const half = Math.floor(messages.length / 2) + 4;
    const producer = kafka.producer();
    await producer.connect();
    const produce = async (from: number, to: number): Promise<void> => {
      for (const message of messages.slice(from, to)) await producer.send({ topic: input, messages: [message] });
    };

    // Two instances of one processor: each owns one partition.
    const name = `rebalance-${run}`;
    const signals = `test.rebalance-out.${run}`;
    const a = await start(name, signals);
    const b = await start(name, signals);
    await eventually('each instance owns one partition', async () => {
      const [pa, pb] = await Promise.all([a.runner.stats(), b.runner.stats()]);
      expect([...pa.partitions, ...pb.partitions].sort()).toEqual([0, 1]);
      expect(pa.partitions).toHaveLength(1);
      return true;
    }, { timeoutMs: 90_000, intervalMs: 250 });
    await produce(0, half);
    const ends = await endOffsets(kafka, input);
    expect(ends.every((e) => Number(e.offset) > 0), 'both partitions hold input').toBe(true);
    await caughtUp(kafka, `aiops.${name}`, input);
    const [handedOver] = (await b.runner.stats()).partitions;
    expect((await b.runner.stats()).counters.records).toBeGreaterThan(0);

    // b leaves; a takes its partition over, restoring its state, and processes the rest.
    await b.stop();
    const restoredBefore = (await a.runner.stats()).counters.restored_records ?? 0;
    await eventually('the remaining instance owns both partitions', async () => ((await a.runner.stats()).partitions.length === 2 ? true : undefined), { timeoutMs: 90_000, intervalMs: 250 });
    await produce(half, messages.length);
    await producer.disconnect();
    await caughtUp(kafka, `aiops.${name}`, input);
    const after = await a.runner.stats();
    expect(after.counters.restored_records ?? 0, `partition ${handedOver} restored from the changelog`).toBeGreaterThan(restoredBefore);
    const actual = await readTopicToEnd(kafka, signals);

    // The same input through one uninterrupted instance.
    const refName = `rebalance-ref-${run}`;
    const refSignals = `test.rebalance-ref.${run}`;
    const reference = await start(refName, refSignals);
    await caughtUp(kafka, `aiops.${refName}`, input);
    await reference.stop();
    const expected = await readTopicToEnd(kafka, refSignals);

    expect(expected.some((r) => signalSerde.deserialize(r.value as Buffer).kind === 'PARTIAL')).toBe(true);
    const sources = new Set(actual.map((r) => signalSerde.deserialize(r.value as Buffer).sourcePartition));
    expect([...sources].sort()).toEqual([0, 1]);
    expect(signalsBySource(actual)).toEqual(signalsBySource(expected));
    expect(actual.length).toBe(expected.length);
  });
});
