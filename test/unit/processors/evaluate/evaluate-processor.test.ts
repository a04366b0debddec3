import { describe, expect, it } from 'vitest';
import { EvaluateProcessor } from '../../../../processors/evaluate/evaluate-processor.js';
import type { SignalConsumer } from '../../../../processors/evaluate/types.js';
import { TopologyTestDriver } from '../../../../runtime/testing/topology-test-driver.js';
import { signalSerde, signalValueSerde, signalValuesTopic } from '../../../../schemas/index.js';
import type { SignalRecord, SignalValue } from '../../../../schemas/index.js';

const B = 10_000;

function partial(source: number, bucketStartMs: number, count: number, errors: number, bucketCounts: number[], watermarkMs = bucketStartMs + B): Buffer {
  const record: SignalRecord = {
    kind: 'PARTIAL', sourcePartition: source, watermarkMs, idle: false, signal: 'http{service.name="a"}', rule: 'http', dimensions: { 'service.name': 'a' },
    bucketStartMs, bucketMs: B, count, errors, statusClasses: [0, count - errors, 0, 0, errors, 0], sum: count * 0.1, min: Number.NaN, max: Number.NaN,
    bounds: [0.1, 0.5], bucketCounts, series: 1,
  };
  return signalSerde.serialize(record);
}

function watermark(source: number, watermarkMs: number, idle = false): Buffer {
  return signalSerde.serialize({
    kind: 'WATERMARK', sourcePartition: source, watermarkMs, idle, signal: '', rule: '', dimensions: {}, bucketStartMs: watermarkMs, bucketMs: B,
    count: 0, errors: 0, statusClasses: [], sum: 0, min: Number.NaN, max: Number.NaN, bounds: [], bucketCounts: [], series: 0,
  });
}

function setup(): { driver: TopologyTestDriver; seen: SignalValue[] } {
  const seen: SignalValue[] = [];
  const consumer: SignalConsumer = { name: 'capture', onSignalValue: (v) => seen.push(structuredClone(v)) };
  const driver = new TopologyTestDriver({ name: 'evaluate', inputTopic: 'aiops.signals.v1', factory: () => new EvaluateProcessor({ consumers: [consumer] }) });
  return { driver, seen };
}

describe('EvaluateProcessor', () => {
  it('merges the partials of two sources and closes the bucket only when both have passed it', async () => {
    const { driver, seen } = setup();
    await driver.pipe(0, [watermark(0, 0), watermark(1, 0)]);
    await driver.pipe(0, [partial(0, 0, 60, 1, [50, 10, 0]), watermark(0, B)]);
    expect(seen).toEqual([]); // source 1 has not passed the bucket yet
    await driver.pipe(0, [partial(1, 0, 40, 3, [20, 15, 5]), watermark(1, B)]);
    expect(seen).toHaveLength(1);
    const v = seen[0] as SignalValue;
    expect(v).toMatchObject({ count: 100, errors: 4, sources: 2, series: 2, bucketCounts: [70, 25, 5], statusClasses: [0, 96, 0, 0, 4, 0] });
    expect(v.rate).toBe(10);
    expect(v.errorRatio).toBeCloseTo(0.04, 12);
    expect(v.p50).toBeCloseTo(0.1 * (50 / 70), 12);
    expect(v.p95).toBeCloseTo(0.1 + 0.4 * (25 / 25), 12);
    const emitted = driver.outputs(signalValuesTopic).map((r) => signalValueSerde.deserialize(r.value as Buffer));
    expect(emitted.map((e) => e.count)).toEqual([100]);
  });

  it('does not wait for an idle source', async () => {
    const { driver, seen } = setup();
    await driver.pipe(0, [watermark(1, 0, true), partial(0, 0, 5, 0, [5, 0, 0]), watermark(0, B)]);
    expect(seen.map((v) => v.count)).toEqual([5]);
  });

  it('waits for the WATERMARK, not a partial, before closing: the partials of one close may arrive in several fetches', async () => {
    const { driver, seen } = setup();
    const other = (count: number): Buffer => {
      const p = signalSerde.deserialize(partial(0, 0, count, 0, [count, 0, 0]));
      return signalSerde.serialize({ ...p, signal: 'http{service.name="b"}', dimensions: { 'service.name': 'b' } });
    };
    // One close of source 0 wrote two partials and then its watermark; a fetch ended after the first.
    await driver.pipe(0, [partial(0, 0, 5, 0, [5, 0, 0])]);
    expect(seen).toEqual([]);
    await driver.pipe(0, [other(9), watermark(0, B)]);
    expect(seen.map((v) => [v.signal, v.count])).toEqual([
      ['http{service.name="a"}', 5],
      ['http{service.name="b"}', 9],
    ]);
    expect(driver.counters.get('late_partials')).toBeUndefined();
  });

  it('closes the same buckets whatever the batches: a source first seen, or back from idle, after a batch boundary', async () => {
    // Source 1 appears only after source 0 has passed two buckets; it then goes idle and comes back.
    const input = [
      partial(0, 0, 5, 0, [5, 0, 0]), watermark(0, B), partial(0, B, 6, 0, [6, 0, 0]), watermark(0, 2 * B),
      partial(1, 0, 7, 0, [7, 0, 0]), partial(1, B, 8, 0, [8, 0, 0]), watermark(1, 2 * B, true),
      partial(0, 2 * B, 9, 0, [9, 0, 0]), partial(1, 2 * B, 10, 0, [10, 0, 0]), watermark(0, 3 * B), watermark(1, 3 * B),
    ];
    const runs: number[][] = [];
    for (const cuts of [[], [4], [2, 7], [1, 5, 8, 9]]) {
      const { driver, seen } = setup();
      let from = 0;
      for (const cut of [...cuts, input.length]) {
        await driver.pipe(0, input.slice(from, cut));
        from = cut;
      }
      runs.push(seen.map((v) => v.count));
    }
    // Each close happens at the record that moves the watermark: source 1's first two buckets come
    // after source 0 closed them (late, in every split alike), and its third bucket merges.
    expect(runs).toEqual(runs.map(() => [5, 6, 19]));
  });

  it('counts a partial for an already closed bucket as late instead of merging it', async () => {
    const { driver, seen } = setup();
    await driver.pipe(0, [partial(0, 0, 5, 0, [5, 0, 0]), watermark(0, B)]);
    expect(seen).toHaveLength(1);
    await driver.pipe(0, [partial(0, 0, 7, 0, [7, 0, 0])]);
    expect(seen).toHaveLength(1);
    expect(driver.counters.get('late_partials')).toBe(1);
  });

  it('keeps open buckets and source watermarks across a restart (restored from the changelog)', async () => {
    const { driver, seen } = setup();
    await driver.pipe(0, [watermark(0, 0), watermark(1, 0), partial(0, 0, 60, 1, [50, 10, 0]), watermark(0, B)]);
    await driver.restart(0);
    await driver.pipe(0, [partial(1, 0, 40, 3, [20, 15, 5]), watermark(1, B)]);
    expect(seen.map((v) => v.count)).toEqual([100]);
  });

  it('dead-letters a record that is not a signal record, and goes on', async () => {
    const { driver, seen } = setup();
    await driver.pipe(0, [Buffer.from('garbage'), partial(0, 0, 5, 0, [5, 0, 0]), watermark(0, B)]);
    expect(seen.map((v) => v.count)).toEqual([5]);
    const dlq = driver.outputs('aiops.dlq.v1');
    expect(dlq).toHaveLength(1);
    expect(dlq[0]?.headers?.['aiops.dlq.reason']).toMatch(/not an aiops.signals.v1 record/);
    expect(dlq[0]?.headers?.['aiops.dlq.source.offset']).toBe('0');
  });
});
