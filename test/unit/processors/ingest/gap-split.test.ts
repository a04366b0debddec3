import { describe, expect, it } from 'vitest';
import { IngestProcessor, defaultRules, parseIngestConfig } from '../../../../processors/ingest/index.js';
import { GapSplit } from '../../../../processors/ingest/gap-split.js';
import { encodeMetricsRequest } from '../../../../runtime/otlp/index.js';
import { TopologyTestDriver } from '../../../../runtime/testing/topology-test-driver.js';
import { signalSerde } from '../../../../schemas/index.js';
import type { SignalRecord } from '../../../../schemas/index.js';
import { sumRecord } from '../../../helpers/otlp.js';

const B = 10_000;
const T0 = 1_700_000_000_000;

function pieces(split: GapSplit, total: number): [number, number][] {
  return Array.from({ length: split.n }, (_, i) => [(split.starts[i] as number) - T0, split.share(total, i)]);
}

/** One cumulative histogram point of `http.server.request.duration` (bounds 0.1, 0.5). */
function histogram(start: number, time: number, buckets: number[], status = 200, instance = 'i-1'): Buffer {
  const count = buckets.reduce((a, b) => a + b, 0);
  return Buffer.from(
    encodeMetricsRequest({
      resourceMetrics: [
        {
          resource: { 'service.name': 'checkout', 'service.instance.id': instance },
          scopeMetrics: [
            {
              scope: { name: 'test', version: '', attributes: {} },
              metrics: [
                {
                  name: 'http.server.request.duration',
                  description: '',
                  unit: 's',
                  kind: 'histogram',
                  temporality: 2,
                  points: [
                    {
                      attributes: { 'http.route': '/a', 'http.request.method': 'GET', 'http.response.status_code': status },
                      startTimeMs: start,
                      timeMs: time,
                      startTimeUnixNano: `${start}000000`,
                      timeUnixNano: `${time}000000`,
                      flags: 0,
                      count,
                      sum: count * 0.2,
                      min: undefined,
                      max: undefined,
                      bucketCounts: buckets,
                      explicitBounds: [0.1, 0.5],
                    },
                  ],
                },
              ],
            },
          ],
        },
      ],
    }),
  );
}

function driver(rules: unknown[] = defaultRules): TopologyTestDriver {
  const config = parseIngestConfig({ rules, bucketMs: B, allowedLatenessMs: 0 });
  return new TopologyTestDriver({ name: 'ingest', inputTopic: 'otlp_metrics', factory: () => new IngestProcessor(config), partitions: { 'aiops.signals.v1': 1 } });
}

function partials(d: TopologyTestDriver): SignalRecord[] {
  return d
    .outputs('aiops.signals.v1')
    .map((r) => signalSerde.deserialize(r.value as Buffer))
    .filter((r) => r.kind === 'PARTIAL');
}

describe('GapSplit', () => {
  it('places an increment without a gap in the bucket of the point that ends it', () => {
    const split = new GapSplit(B);
    expect(split.plan(T0 + 1_000, T0 + B + 1_000, -Infinity)).toBe(1);
    expect(pieces(split, 7)).toEqual([[B, 7]]);
    expect(split.plan(Number.NaN, T0 + 5_000, -Infinity)).toBe(1);
    expect(pieces(split, 0.25)).toEqual([[0, 0.25]]);
  });

  it('spreads an increment over a gap of N buckets linearly in time, in whole units that add up exactly', () => {
    const split = new GapSplit(B);
    // (T0+1s, T0+4B+1s]: 9 s of bucket 0, three whole buckets, 1 s of bucket 4.
    expect(split.plan(T0 + 1_000, T0 + 4 * B + 1_000, -Infinity)).toBe(5);
    expect(pieces(split, 400)).toEqual([
      [0, 90],
      [B, 100],
      [2 * B, 100],
      [3 * B, 100],
      [4 * B, 10],
    ]);
    // Odd totals: shares are whole and still add up.
    const odd = pieces(split, 7).map(([, n]) => n);
    expect(odd.every(Number.isInteger)).toBe(true);
    expect(odd.reduce((a, b) => a + b, 0)).toBe(7);
    // Values not counted in whole units are split in proportion.
    const bytes = Array.from({ length: split.n }, (_, i) => 1.5 * split.fraction(i));
    expect(bytes.reduce((a, b) => a + b, 0)).toBeCloseTo(1.5, 12);
    expect(bytes[1]).toBeCloseTo(0.375, 12);
  });

  it('puts the part of a gap in buckets already closed into the first open bucket', () => {
    const split = new GapSplit(B);
    expect(split.plan(T0 + 1_000, T0 + 4 * B + 1_000, T0 + 3 * B)).toBe(2);
    // (T0+3B, T0+4B+1s]: 10 of 11 seconds in bucket 3.
    expect(pieces(split, 110)).toEqual([
      [3 * B, 100],
      [4 * B, 10],
    ]);
    // The whole gap closed: everything in the point's own bucket.
    expect(split.plan(T0 + 1_000, T0 + 4 * B + 1_000, T0 + 4 * B)).toBe(1);
    expect(pieces(split, 5)).toEqual([[4 * B, 5]]);
    // The point itself late: the whole increment to the first open bucket.
    expect(split.plan(T0 + 1_000, T0 + 2 * B + 1_000, T0 + 3 * B)).toBe(1);
    expect(split.moved).toBe(true);
    expect(pieces(split, 5)).toEqual([[3 * B, 5]]);
    // Nothing to move for a point without a previous one.
    split.plan(Number.NaN, T0 + 2 * B + 1_000, T0 + 3 * B);
    expect(split.moved).toBe(false);
  });

  it('spreads over at most its longest span, the older part going to its first bucket', () => {
    const split = new GapSplit(B, 3);
    expect(split.plan(T0, T0 + 10 * B, -Infinity)).toBe(4);
    expect(pieces(split, 30).map(([t]) => t)).toEqual([7 * B, 8 * B, 9 * B, 10 * B]);
    expect(pieces(split, 30).reduce((a, [, n]) => a + n, 0)).toBe(30);
  });
});

describe('ingest over a gap in a series', () => {
  it("spreads a histogram's increment over the buckets the gap covers; every piece stays a consistent histogram", async () => {
    const d = driver();
    const start = T0 - 1_000;
    await d.pipe(0, [histogram(start, T0 + 1_000, [6, 4, 0])]);
    // 40 s without a point (an outage), then one point carrying 400 more: 200 fast, 120 medium, 80 slow.
    await d.pipe(0, [histogram(start, T0 + 4 * B + 1_000, [206, 124, 80])]);
    await d.idle(0);
    const out = partials(d);
    expect(out.map((p) => [p.bucketStartMs - T0, p.count])).toEqual([
      [0, 10 + 90],
      [B, 100],
      [2 * B, 100],
      [3 * B, 100],
      [4 * B, 10],
    ]);
    for (const p of out) expect(p.bucketCounts.reduce((a, b) => a + b, 0)).toBe(p.count);
    expect(out[2]?.bucketCounts).toEqual([50, 30, 20]);
    expect(out.reduce((a, p) => a + p.count, 0)).toBe(410);
    expect(out.reduce((a, p) => a + p.sum, 0)).toBeCloseTo(410 * 0.2, 9);
    expect(out.reduce((a, p) => a + (p.statusClasses[1] as number), 0)).toBe(410);
    for (const p of out) expect(p.series).toBe(1);
  });

  it('spreads errors the same way (a series of status 5xx)', async () => {
    const d = driver();
    await d.pipe(0, [histogram(T0 - 1_000, T0 + 1_000, [1, 0, 0], 503)]);
    await d.pipe(0, [histogram(T0 - 1_000, T0 + 3 * B + 1_000, [31, 0, 0], 503)]);
    await d.idle(0);
    const out = partials(d);
    expect(out.map((p) => [p.count, p.errors])).toEqual([
      [1 + 9, 1 + 9],
      [10, 10],
      [10, 10],
      [1, 1],
    ]);
  });

  it('spreads a counter that restarted inside the gap from its new start time', async () => {
    const counter = { name: 'requests', metric: 'http.server.requests', kind: 'counter', groupBy: ['service.name'] };
    const d = driver([counter]);
    await d.pipe(0, [sumRecord({ service: 'checkout', value: 100, startMs: T0, timeMs: T0 + 1_000 })]);
    // The process restarted at T0+2B+500: its 60 requests happened after that, none before.
    await d.pipe(0, [sumRecord({ service: 'checkout', value: 60, startMs: T0 + 2 * B + 500, timeMs: T0 + 4 * B + 500 })]);
    await d.idle(0);
    expect(partials(d).map((p) => [p.bucketStartMs - T0, p.count])).toEqual([
      [0, 100],
      [2 * B, 29],
      [3 * B, 30],
      [4 * B, 1],
    ]);
    expect(d.counters.get('resets')).toBe(1);
  });

  it('keeps the total exact when part of the gap lies in buckets already closed', async () => {
    const d = driver();
    const start = T0 - 1_000;
    await d.pipe(0, [histogram(start, T0 + 1_000, [5, 0, 0], 200, 'b')]);
    // Another instance on the partition moves the watermark: buckets 0..2 close.
    await d.pipe(0, [histogram(start, T0 + 3 * B + 1_000, [1, 0, 0], 200, 'a')]);
    await d.pipe(0, [histogram(start, T0 + 4 * B + 1_000, [5 + 110, 0, 0], 200, 'b')]);
    await d.idle(0);
    const b = partials(d).map((p) => [p.bucketStartMs - T0, p.count]);
    // Bucket 3 holds instance a's 1 and 100 of b's 110 (10 of the 11 seconds still open); bucket 4 the rest.
    expect(b).toEqual([
      [0, 5],
      [3 * B, 1 + 100],
      [4 * B, 10],
    ]);
    expect(d.counters.get('late_points')).toBeUndefined();
  });

  it("moves the increment of a late cumulative point into the first open bucket (the series' state is past it); a late first point is still dropped", async () => {
    const d = driver();
    const start = T0 - 1_000;
    await d.pipe(0, [histogram(start, T0 + 1_000, [5, 0, 0], 200, 'b')]);
    await d.pipe(0, [histogram(start, T0 + 3 * B + 1_000, [1, 0, 0], 200, 'a')]);
    // b's next point is in bucket 2, closed by a's point: its 20 go to bucket 3.
    await d.pipe(0, [histogram(start, T0 + 2 * B + 5_000, [25, 0, 0], 200, 'b')]);
    // A first point of a new series in a closed bucket has nothing to move: dropped as late.
    await d.pipe(0, [histogram(start, T0 + 2 * B + 5_000, [7, 0, 0], 200, 'c')]);
    await d.idle(0);
    expect(partials(d).map((p) => [p.bucketStartMs - T0, p.count])).toEqual([
      [0, 5],
      [3 * B, 1 + 20],
    ]);
    expect(d.counters.get('late_increments_moved')).toBe(1);
    expect(d.counters.get('late_points')).toBe(1);
  });

  it('skips a point older than the last one (a retried export arriving after the gap was spread): totals unchanged', async () => {
    const d = driver();
    const start = T0 - 1_000;
    await d.pipe(0, [histogram(start, T0 + 1_000, [10, 0, 0])]);
    await d.pipe(0, [histogram(start, T0 + 3 * B + 1_000, [40, 0, 0])]);
    await d.pipe(0, [histogram(start, T0 + 2 * B + 1_000, [30, 0, 0])]);
    await d.idle(0);
    expect(partials(d).reduce((a, p) => a + p.count, 0)).toBe(40);
    expect(d.counters.get('out_of_order_points')).toBe(1);
  });
});
