/**
 * Helpers for the streaming decoder tests: SDK-made payloads, a visitor that copies everything it
 * is shown into plain objects, the same plain shape derived from the reference decoder's output
 * (the oracle), and a tiny hand encoder for messages the SDK never writes.
 */

import { Buffer } from 'node:buffer';
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { AggregationTemporality } from '@opentelemetry/sdk-metrics';
import type { AttributeSet, AttributeValue, MetricInfo, MetricsRequest, MetricsVisitor } from '../../../../runtime/otlp/index.js';

class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** Point attributes of every AnyValue kind the SDK serializes (resources drop maps and bytes). */
export const RICH_ATTRIBUTES = {
  'http.route': '/a',
  'http.response.status_code': 200,
  neg: -7,
  big: 2 ** 40,
  ratio: 0.25,
  ok: true,
  off: false,
  tags: ['x', 'y'],
  mixed: ['a', 1, 2.5, true],
  map: { a: 1, nested: { b: 'c' } },
  raw: new Uint8Array([0, 1, 254, 255]),
  empty: '',
  unicode: 'ünï✓',
} as unknown as Record<string, string>;

export const RESOURCE_ATTRIBUTES = { 'service.name': 'checkout', 'service.instance.id': 'i-1', 'host.cores': 2, 'deployment.canary': false, 'cpu.ghz': 3.2, zones: ['a', 'b'] };

/** SDK metrics of every kind, as otlp_proto and otlp_json bytes of the same collection. */
export async function recordSdk(temporality: AggregationTemporality): Promise<{ proto: Uint8Array; json: Uint8Array }> {
  const reader = new CollectingReader({ aggregationTemporalitySelector: () => temporality });
  const provider = new MeterProvider({
    resource: resourceFromAttributes(RESOURCE_ATTRIBUTES),
    readers: [reader],
    views: [{ instrumentName: 'exp.latency', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  });
  const meter = provider.getMeter('unit', '1.2.3');
  const requests = meter.createCounter('http.server.requests', { unit: '{request}' });
  requests.add(3, RICH_ATTRIBUTES);
  requests.add(2, { 'http.route': '/a', 'http.response.status_code': 500 });
  requests.add(1, { 'http.response.status_code': 500, 'http.route': '/a', extra: 'z' });
  const ints = meter.createCounter('bytes.sent', { valueType: 1 });
  ints.add(12345, { dir: 'out' });
  const inflight = meter.createUpDownCounter('inflight');
  inflight.add(-5);
  const latency = meter.createHistogram('http.server.request.duration', { unit: 's', advice: { explicitBucketBoundaries: [0.1, 0.5, 1] } });
  for (const v of [0.05, 0.2, 0.3, 0.7, 2]) latency.record(v, { 'http.route': '/a', tags: 'x' });
  latency.record(0.4, { 'http.route': '/b' });
  const exp = meter.createHistogram('exp.latency');
  for (const v of [1, 2, 4, 8, 8, 0, -3]) exp.record(v, { shard: 3 });
  const gauge = meter.createGauge('queue.depth');
  gauge.record(7.5, { queue: 'q1' });
  gauge.record(-1.25, { queue: 'q2' });
  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length > 0) throw new Error(String(errors[0]));
  const proto = ProtobufMetricsSerializer.serializeRequest(resourceMetrics);
  const json = JsonMetricsSerializer.serializeRequest(resourceMetrics);
  await provider.shutdown();
  if (!proto || !json) throw new Error('serializer returned nothing');
  return { proto, json };
}

export interface PointOut {
  attrs: Record<string, string>;
  count: number;
  hash: [number, number];
  start: number;
  time: number;
  [field: string]: unknown;
}
export interface MetricOut {
  name: string;
  unit: string;
  type: number;
  temporality: number;
  monotonic: boolean;
  points: PointOut[];
}
export interface ResourceOut {
  attrs: Record<string, string>;
  count: number;
  hash: [number, number];
  metrics: MetricOut[];
}

function attrsOf(set: AttributeSet, keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  keys.forEach((key, slot) => {
    const v = set.value(slot);
    if (v !== undefined) out[key] = v;
  });
  return out;
}

/** Copies every call into plain objects (typed arrays sliced to their meaningful length). */
export class CollectingVisitor implements MetricsVisitor {
  readonly resources: ResourceOut[] = [];
  constructor(private readonly keys: readonly string[]) {}

  private get metric(): MetricOut {
    const m = this.resources.at(-1)?.metrics.at(-1);
    if (!m) throw new Error('point before metric');
    return m;
  }
  private base(a: AttributeSet, start: number, time: number): PointOut {
    return { attrs: attrsOf(a, this.keys), count: a.count, hash: [a.hashHi, a.hashLo], start, time };
  }
  onResource(a: AttributeSet): void {
    this.resources.push({ attrs: attrsOf(a, this.keys), count: a.count, hash: [a.hashHi, a.hashLo], metrics: [] });
  }
  onMetric(m: MetricInfo): void {
    const r = this.resources.at(-1);
    r?.metrics.push({ name: m.name, unit: m.unit, type: m.type, temporality: m.temporality, monotonic: m.monotonic, points: [] });
  }
  onNumberPoint(a: AttributeSet, start: number, time: number, value: number): void {
    this.metric.points.push({ ...this.base(a, start, time), value });
  }
  onHistogramPoint(a: AttributeSet, s: number, t: number, count: number, sum: number, bounds: Float64Array, counts: Float64Array, n: number, min: number, max: number): void {
    const p = { ...this.base(a, s, t), total: count, sum, bounds: [...bounds.subarray(0, Math.max(0, n - 1))], counts: [...counts.subarray(0, n)], min, max };
    this.metric.points.push(p);
  }
  onExponentialHistogramPoint(
    a: AttributeSet,
    s: number,
    t: number,
    count: number,
    sum: number,
    scale: number,
    zeroCount: number,
    pOff: number,
    pos: Float64Array,
    nPos: number,
    nOff: number,
    neg: Float64Array,
    nNeg: number,
    min: number,
    max: number,
    zeroThreshold: number,
  ): void {
    const positive = { offset: pOff, counts: [...pos.subarray(0, nPos)] };
    const negative = { offset: nOff, counts: [...neg.subarray(0, nNeg)] };
    this.metric.points.push({ ...this.base(a, s, t), total: count, sum, scale, zeroCount, positive, negative, min, max, zeroThreshold });
  }
  onSummaryPoint(a: AttributeSet, s: number, t: number, count: number, sum: number, q: Float64Array, n: number): void {
    const quantiles = [];
    for (let i = 0; i < n; i++) quantiles.push({ quantile: q[2 * i], value: q[2 * i + 1] });
    this.metric.points.push({ ...this.base(a, s, t), total: count, sum, quantiles });
  }
}

function toJsonish(v: AttributeValue): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (Array.isArray(v)) return v.map(toJsonish);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJsonish(x)]));
  return v;
}

/** The rendering AttributeSet.value promises, computed from a reference-decoded value. */
export function render(v: AttributeValue): string | undefined {
  if (v === null) return undefined;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v) || typeof v === 'object') return JSON.stringify(toJsonish(v));
  return String(v);
}

function renderAll(attrs: Record<string, AttributeValue>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) {
    const s = render(v);
    if (s !== undefined) out[k] = s;
  }
  return out;
}

const TYPE = { gauge: 1, sum: 2, histogram: 3, exponentialHistogram: 4, summary: 5 } as const;
const ms = (ns: string): number => Number(ns) / 1e6;

/** The reference decoder's output in the CollectingVisitor's shape; hashes left as [0, 0]. */
export function expectedFromReference(request: MetricsRequest): ResourceOut[] {
  return request.resourceMetrics.map((rm) => ({
    attrs: renderAll(rm.resource),
    count: Object.keys(rm.resource).length,
    hash: [0, 0] as [number, number],
    metrics: rm.scopeMetrics.flatMap((sm) =>
      sm.metrics.flatMap((m): MetricOut[] => {
        if (m.kind === 'none') return [];
        const points = m.points.map((p): PointOut => {
          const base = { attrs: renderAll(p.attributes), count: Object.keys(p.attributes).length, hash: [0, 0] as [number, number], start: ms(p.startTimeUnixNano), time: ms(p.timeUnixNano) };
          if ('value' in p) return { ...base, value: p.value };
          if ('explicitBounds' in p) return { ...base, total: p.count, sum: p.sum ?? NaN, bounds: p.bucketCounts.length ? p.explicitBounds : [], counts: p.bucketCounts, min: p.min ?? NaN, max: p.max ?? NaN };
          if ('scale' in p) {
            const { positive, negative } = p;
            return {
              ...base,
              total: p.count,
              sum: p.sum ?? NaN,
              scale: p.scale,
              zeroCount: p.zeroCount,
              positive: { offset: positive.offset, counts: positive.bucketCounts },
              negative: { offset: negative.offset, counts: negative.bucketCounts },
              min: p.min ?? NaN,
              max: p.max ?? NaN,
              zeroThreshold: p.zeroThreshold,
            };
          }
          return { ...base, total: p.count, sum: p.sum, quantiles: p.quantiles };
        });
        const temporality = 'temporality' in m ? m.temporality : 0;
        return [{ name: m.name, unit: m.unit, type: TYPE[m.kind], temporality, monotonic: m.kind === 'sum' && m.monotonic, points }];
      }),
    ),
  }));
}

/** Every attribute key in a reference-decoded request (to extract them all). */
export function allKeys(request: MetricsRequest): string[] {
  const keys = new Set<string>();
  for (const rm of request.resourceMetrics) {
    for (const k of Object.keys(rm.resource)) keys.add(k);
    for (const sm of rm.scopeMetrics) for (const m of sm.metrics) for (const p of m.points) for (const k of Object.keys(p.attributes)) keys.add(k);
  }
  return [...keys];
}

/** Moves times out (compared with a tolerance) and blanks hashes (compared separately). */
export function withoutTimesAndHashes(resources: ResourceOut[]): { times: number[]; rest: ResourceOut[] } {
  const times: number[] = [];
  const rest = resources.map((r) => ({
    ...r,
    hash: [0, 0] as [number, number],
    metrics: r.metrics.map((m) => ({
      ...m,
      points: m.points.map((p) => {
        times.push(p.start, p.time);
        return { ...p, start: 0, time: 0, hash: [0, 0] as [number, number] };
      }),
    })),
  }));
  return { times, rest };
}

/** Hand encoding: each helper returns the bytes of one field. */
export const pb = {
  varint(n: number | bigint): number[] {
    let v = BigInt.asUintN(64, BigInt(n));
    const out: number[] = [];
    while (v > 0x7fn) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    return out;
  },
  tag: (field: number, wire: number): number[] => pb.varint(field * 8 + wire),
  len: (field: number, ...parts: number[][]): number[] => {
    const body = parts.flat();
    return [...pb.tag(field, 2), ...pb.varint(body.length), ...body];
  },
  str: (field: number, s: string): number[] => pb.len(field, [...new TextEncoder().encode(s)]),
  int: (field: number, n: number | bigint): number[] => [...pb.tag(field, 0), ...pb.varint(n)],
  sint: (field: number, n: number): number[] => pb.int(field, ((n << 1) ^ (n >> 31)) >>> 0),
  double(field: number, d: number): number[] {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(d);
    return [...pb.tag(field, 1), ...b];
  },
  fixed64(field: number, n: number | bigint): number[] {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(n)));
    return [...pb.tag(field, 1), ...b];
  },
  /** A KeyValue with a string, int, double or bool value (field = where the KeyValue goes). */
  kv(field: number, key: string, value: string | number | boolean | bigint): number[] {
    const any =
      typeof value === 'string' ? pb.str(1, value) : typeof value === 'boolean' ? pb.int(2, value ? 1 : 0) : typeof value === 'number' && !Number.isInteger(value) ? pb.double(4, value) : pb.int(3, value);
    return pb.len(field, pb.str(1, key), pb.len(2, any));
  },
  /** An ExportMetricsServiceRequest with one resource, one scope and the given Metric bodies. */
  request(resource: number[][], ...metrics: number[][]): Uint8Array {
    return new Uint8Array(pb.len(1, pb.len(1, ...resource), pb.len(2, pb.len(1, pb.str(1, 'scope')), ...metrics.map((m) => pb.len(2, m)))));
  },
};
