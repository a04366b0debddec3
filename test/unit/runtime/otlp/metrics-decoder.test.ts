import { describe, expect, it } from 'vitest';
import { AggregationTemporality } from '@opentelemetry/sdk-metrics';
import { MetricType, OtlpMetricsDecoder, ProtoDecodeError, decodeMetricsRequest } from '../../../../runtime/otlp/index.js';
import type { AttributeSet, MetricInfo, MetricsVisitor } from '../../../../runtime/otlp/index.js';
import { CollectingVisitor, allKeys, expectedFromReference, pb, recordSdk, withoutTimesAndHashes } from './streaming-helpers.js';
import type { ResourceOut } from './streaming-helpers.js';

/** Decodes with both decoders and checks the streaming output against the reference's. */
function differential(bytes: Uint8Array): ResourceOut[] {
  const reference = decodeMetricsRequest(bytes);
  const keys = allKeys(reference);
  const visitor = new CollectingVisitor(keys);
  const stats = new OtlpMetricsDecoder({ extractKeys: keys }).decode(bytes, visitor);
  const got = withoutTimesAndHashes(visitor.resources);
  const want = withoutTimesAndHashes(expectedFromReference(reference));
  expect(got.rest).toEqual(want.rest);
  expect(got.times).toHaveLength(want.times.length);
  got.times.forEach((t, i) => expect(Math.abs(t - (want.times[i] as number))).toBeLessThan(0.001));
  const points = visitor.resources.flatMap((r) => r.metrics.flatMap((m) => m.points));
  expect(stats).toEqual({ resources: visitor.resources.length, metrics: visitor.resources.flatMap((r) => r.metrics).length, points: points.length });

  // Equal hashes exactly where the reference sees equal attribute sets (with value types).
  const typed = (attrs: Record<string, unknown>): string =>
    JSON.stringify(
      Object.keys(attrs)
        .sort()
        .map((k) => [k, typeof attrs[k], attrs[k] instanceof Uint8Array ? [...(attrs[k] as Uint8Array)] : attrs[k]]),
    );
  const refPoints = reference.resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics.flatMap((m): { attributes: Record<string, unknown> }[] => m.points)));
  const byHash = new Map<string, string>();
  const bySet = new Map<string, string>();
  points.forEach((p, i) => {
    const h = p.hash.join(':');
    const set = typed((refPoints[i]?.attributes ?? {}));
    expect(byHash.get(h) ?? set).toBe(set);
    expect(bySet.get(set) ?? h).toBe(h);
    byHash.set(h, set);
    bySet.set(set, h);
  });
  return visitor.resources;
}

describe('OtlpMetricsDecoder against the reference decoder', () => {
  it('matches on SDK payloads of every metric kind, cumulative and delta', async () => {
    for (const temporality of [AggregationTemporality.CUMULATIVE, AggregationTemporality.DELTA]) {
      const { proto } = await recordSdk(temporality);
      const out = differential(proto);
      const metrics = out[0]?.metrics ?? [];
      expect(metrics.map((m) => m.type).sort()).toEqual([1, 2, 2, 2, 3, 4]);
      const requests = metrics.find((m) => m.name === 'http.server.requests');
      expect(requests).toMatchObject({ monotonic: true, temporality: temporality === AggregationTemporality.DELTA ? 1 : 2, unit: '{request}' });
      expect(metrics.find((m) => m.name === 'inflight')).toMatchObject({ monotonic: false, type: MetricType.SUM });
      expect(out[0]?.attrs).toMatchObject({ 'service.name': 'checkout', 'host.cores': '2', 'deployment.canary': 'false', 'cpu.ghz': '3.2', zones: '["a","b"]' });
    }
  });

  it('renders every attribute value kind and decodes extreme integers exactly', async () => {
    const { proto } = await recordSdk(AggregationTemporality.CUMULATIVE);
    const out = differential(proto);
    const rich = out[0]?.metrics.find((m) => m.name === 'http.server.requests')?.points.find((p) => p.count > 5);
    expect(rich?.attrs).toEqual({
      'http.route': '/a',
      'http.response.status_code': '200',
      neg: '-7',
      big: String(2 ** 40),
      ratio: '0.25',
      ok: 'true',
      off: 'false',
      tags: '["x","y"]',
      mixed: '["a",1,2.5,true]',
      map: '{"a":1,"nested":{"b":"c"}}',
      raw: 'AAH+/w==',
      empty: '',
      unicode: 'ünï✓',
    });
    const bytes = pb.request(
      [pb.kv(1, 'min', -(2n ** 63n)), pb.kv(1, 'max', 2n ** 63n - 1n), pb.kv(1, 'm1', -1), pb.len(1, pb.str(1, 'none'))],
      [...pb.str(1, 'g'), ...pb.len(5, pb.len(1, pb.fixed64(6, -42), pb.fixed64(3, 1_700_000_000_123_456_789n)))],
    );
    const v = new CollectingVisitor(['min', 'max', 'm1', 'none']);
    new OtlpMetricsDecoder({ extractKeys: ['min', 'max', 'm1', 'none'] }).decode(bytes, v);
    expect(v.resources[0]?.attrs).toEqual({ min: '-9223372036854775808', max: '9223372036854775807', m1: '-1' });
    expect(v.resources[0]?.count).toBe(4);
    const point = v.resources[0]?.metrics[0]?.points[0];
    expect(point?.value).toBe(-42);
    expect(Math.abs((point?.time ?? 0) - 1_700_000_000_123.457)).toBeLessThan(0.001);
    expect(decodeMetricsRequest(bytes).resourceMetrics[0]?.resource).toMatchObject({ m1: -1 });
  });

  it('decodes a hand-encoded summary the same as the reference', () => {
    const quantile = (q: number, value: number): number[] => pb.len(6, pb.double(1, q), pb.double(2, value));
    const point = (route: string, count: number): number[] =>
      pb.len(1, pb.fixed64(2, 1_700_000_000_000_000_000n), pb.fixed64(3, 1_700_000_060_000_000_001n), pb.fixed64(4, count), pb.double(5, 12.5), quantile(0.5, 0.1), quantile(0.99, 0.9), quantile(1, 2), pb.kv(7, 'route', route));
    const bytes = pb.request([pb.kv(1, 'service.name', 'legacy')], [...pb.str(1, 'rpc.latency'), ...pb.str(3, 'ms'), ...pb.len(11, point('/x', 10), point('/y', 3), pb.len(1))]);
    const out = differential(bytes);
    expect(out[0]?.metrics[0]).toMatchObject({ name: 'rpc.latency', unit: 'ms', type: MetricType.SUMMARY, temporality: 0, monotonic: false });
    expect(out[0]?.metrics[0]?.points[1]).toMatchObject({ total: 3, sum: 12.5, attrs: { route: '/y' } });
    expect(out[0]?.metrics[0]?.points[2]).toMatchObject({ total: 0, sum: 0, quantiles: [], count: 0, hash: [0, 0] });
  });

  it('gives onMetric complete info when name, unit, temporality and monotonic follow the points', () => {
    const points = [pb.len(1, pb.double(4, 1.5), pb.kv(7, 'k', 'v')), pb.len(1, pb.fixed64(6, 7))];
    const sum = pb.len(7, ...points, pb.int(2, 1), pb.int(3, 1));
    const hist = pb.len(9, pb.len(1, pb.fixed64(4, 3), pb.len(6, pb.fixed64(0, 1).slice(1), pb.fixed64(0, 2).slice(1)), pb.len(7, pb.double(0, 5).slice(1))), pb.int(2, 2));
    // Value before key inside the KeyValue, too.
    const reversedKv = pb.len(9, pb.len(2, pb.str(1, 'v')), pb.str(1, 'k'));
    const unpacked = pb.len(9, pb.len(1, pb.fixed64(6, 4), pb.fixed64(6, 5), pb.double(7, 0.5), reversedKv), pb.int(2, 1));
    const bytes = pb.request([], [...sum, ...pb.str(3, 'By'), ...pb.str(1, 'late.sum')], [...hist, ...pb.str(1, 'late.hist')], [...unpacked, ...pb.str(1, 'unpacked')]);
    const seen: string[] = [];
    const visitor = new (class extends CollectingVisitor {
      override onMetric(m: MetricInfo): void {
        seen.push(`${m.name}/${m.unit}/${m.temporality}/${m.monotonic}`);
        super.onMetric(m);
      }
    })(['k']);
    new OtlpMetricsDecoder({ extractKeys: ['k'] }).decode(bytes, visitor);
    expect(seen).toEqual(['late.sum/By/1/true', 'late.hist//2/false', 'unpacked//1/false']);
    differential(bytes);
    const last = visitor.resources[0]?.metrics[2]?.points[0];
    expect(last).toMatchObject({ counts: [4, 5], bounds: [0.5], attrs: { k: 'v' } });
  });

  it('skips fields whose wire type is not the schema one, and rejects field number 0', () => {
    // Metric name (field 1) as a varint, and as_double (field 4) as a varint: both skipped.
    const bytes = pb.request([], [...pb.int(1, 5), ...pb.str(3, 'u'), ...pb.len(5, pb.len(1, pb.int(4, 9), pb.double(4, 2)))]);
    const v = new CollectingVisitor([]);
    new OtlpMetricsDecoder({ extractKeys: [] }).decode(bytes, v);
    expect(v.resources[0]?.metrics[0]).toMatchObject({ name: '', unit: 'u', points: [{ value: 2 }] });
    const zero = pb.request([], [...pb.str(1, 'x'), ...pb.len(5, pb.len(1, pb.int(0, 1)))]);
    expect(() => new OtlpMetricsDecoder({ extractKeys: [] }).decode(zero, v)).toThrow(/field number 0/);
  });

  it('rejects a histogram whose bounds and counts disagree, and grows scratch buffers', () => {
    const counts = (n: number): number[] => Array.from({ length: n }, (_, i) => pb.fixed64(0, i).slice(1)).flat();
    const bounds = (n: number): number[] => Array.from({ length: n }, (_, i) => pb.double(0, i / 10).slice(1)).flat();
    const hist = (nCounts: number, nBounds: number): Uint8Array =>
      pb.request([], [...pb.str(1, 'h'), ...pb.len(9, pb.len(1, pb.len(6, counts(nCounts)), pb.len(7, bounds(nBounds))))]);
    const decoder = new OtlpMetricsDecoder({ extractKeys: [] });
    expect(() => decoder.decode(hist(3, 3), new CollectingVisitor([]))).toThrow(ProtoDecodeError);
    expect(() => decoder.decode(hist(3, 1), new CollectingVisitor([]))).toThrow(/3 bucket counts but 1 explicit bounds/);
    const v = new CollectingVisitor([]);
    decoder.decode(hist(1001, 1000), v);
    const p = v.resources[0]?.metrics[0]?.points[0];
    expect((p?.counts as number[]).length).toBe(1001);
    expect((p?.bounds as number[])[999]).toBe(99.9);
    differential(hist(1001, 1000));
    differential(hist(0, 4));
  });

  it('skips the content of a resource or metric when the visitor returns false', async () => {
    const { proto } = await recordSdk(AggregationTemporality.CUMULATIVE);
    // Two resources: the SDK payload twice, concatenated (repeated field 1 of the request).
    const twice = new Uint8Array([...proto, ...proto]);
    const calls: string[] = [];
    let resources = 0;
    const visitor: MetricsVisitor = {
      onResource: (r: AttributeSet) => {
        calls.push(`R${r.count}`);
        return resources++ > 0;
      },
      onMetric: (m: MetricInfo) => {
        calls.push(`M:${m.name}`);
        return m.type !== MetricType.HISTOGRAM;
      },
      onNumberPoint: () => void calls.push('N'),
      onHistogramPoint: () => void calls.push('H'),
      onExponentialHistogramPoint: () => void calls.push('E'),
      onSummaryPoint: () => void calls.push('S'),
    };
    const stats = new OtlpMetricsDecoder({ extractKeys: [] }).decode(twice, visitor);
    const second = calls.slice(calls.lastIndexOf('R6'));
    expect(calls.filter((c) => c.startsWith('R'))).toEqual(['R6', 'R6']);
    expect(calls[1]).toBe('R6'); // nothing of the first resource was visited
    expect(second).toContain('M:http.server.request.duration');
    expect(second).not.toContain('H');
    expect(second).toContain('E');
    expect(stats).toEqual({ resources: 2, metrics: 6, points: calls.filter((c) => c.length === 1).length });
  });

  it('decodes an empty payload to nothing and returns the same stats object each time', () => {
    const decoder = new OtlpMetricsDecoder({ extractKeys: [] });
    const v = new CollectingVisitor([]);
    const a = decoder.decode(new Uint8Array(0), v);
    expect(a).toEqual({ resources: 0, metrics: 0, points: 0 });
    expect(decoder.decode(pb.request([]), v)).toBe(a);
    expect(a).toEqual({ resources: 1, metrics: 0, points: 0 });
    expect(v.resources[0]).toEqual({ attrs: {}, count: 0, hash: [0, 0], metrics: [] });
  });
});
