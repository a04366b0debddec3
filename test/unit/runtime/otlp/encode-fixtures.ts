/** Fixtures and oracles shared by the encoder tests. */

import { expect } from 'vitest';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, AggregationType, DataPointType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { ResourceMetrics as SdkResourceMetrics } from '@opentelemetry/sdk-metrics';
import { JsonMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { ValueType } from '@opentelemetry/api';
import type { AttributeValue, Attributes, Metric, MetricsRequest, NumberPoint } from '../../../../runtime/otlp/index.js';

export const T0 = { startTimeMs: 1_700_000_000_000, startTimeUnixNano: '1700000000000123456', timeMs: 1_700_000_060_000, timeUnixNano: '1700000060000000789', flags: 0 };

/** Every attribute value type, with the edge cases of each. */
export const ATTRIBUTES: Attributes = {
  str: 'plain',
  empty: '',
  unicode: 'ünïcødé ✓ 😀 中文',
  long: 'x'.repeat(200),
  zero: 0,
  neg: -5,
  negOne: -1,
  int32Max: 2 ** 31 - 1,
  beyondInt32: 2 ** 31,
  beyondUint32: 2 ** 32 + 7,
  maxSafe: Number.MAX_SAFE_INTEGER,
  minSafe: Number.MIN_SAFE_INTEGER,
  int64Min: -(2 ** 63),
  dbl: 0.1,
  negDbl: -2.5e-300,
  negZero: -0,
  inf: Infinity,
  nan: NaN,
  beyondInt64: 2 ** 64,
  yes: true,
  no: false,
  none: null,
  bytes: new Uint8Array([0, 1, 127, 128, 255]),
  noBytes: new Uint8Array(0),
  arr: [1, 'two', 3.5, false, null, [true, 'nested']],
  emptyArr: [],
  kv: { a: 1, b: 'x', nested: { c: true, d: [1, 2] } },
  emptyKv: {},
  '': 'empty key',
  'ключ': 'unicode key',
};

/** A request holding one metric under an empty resource and scope. */
export function oneMetric(metric: Metric): MetricsRequest {
  return { resourceMetrics: [{ resource: {}, scopeMetrics: [{ scope: { name: '', version: '', attributes: {} }, metrics: [metric] }] }] };
}

export function point(extra: object): NumberPoint {
  return { ...T0, attributes: {}, value: 0, isInt: false, ...extra };
}

export const FULL: MetricsRequest = {
  resourceMetrics: [
    {
      resource: ATTRIBUTES,
      scopeMetrics: [
        {
          scope: { name: 'scope', version: '1.0', attributes: { 'scope.attr': 'v' } },
          metrics: [
            {
              name: 'gauge',
              description: 'a gauge',
              unit: '1',
              kind: 'gauge',
              points: [
                point({ value: -7, isInt: true, attributes: { a: 'b' } }),
                point({ value: 2.5, flags: 1 }),
                point({ value: 0, isInt: true }),
                point({ value: 2 ** 52 + 1, isInt: true }),
              ],
            },
            { name: 'sum', description: '', unit: 'By', kind: 'sum', temporality: 1, monotonic: true, points: [point({ value: 1e300 }), point({ value: -0 })] },
            { name: 'updown', description: '', unit: '', kind: 'sum', temporality: 2, monotonic: false, points: [point({ value: -(2 ** 40), isInt: true })] },
            {
              name: 'hist',
              description: '',
              unit: 's',
              kind: 'histogram',
              temporality: 2,
              points: [
                { ...T0, attributes: { r: '/x' }, count: 10, sum: 1.5, min: 0.1, max: 2, bucketCounts: [1, 2, 7], explicitBounds: [0.5, 1] },
                { ...T0, attributes: {}, count: 0, sum: undefined, min: undefined, max: undefined, bucketCounts: [], explicitBounds: [] },
                { ...T0, attributes: {}, count: 2 ** 40, sum: 0, min: 0, max: 0, bucketCounts: [2 ** 40, 0], explicitBounds: [-1], flags: 1 },
              ],
            },
            {
              name: 'exp',
              description: '',
              unit: '',
              kind: 'exponentialHistogram',
              temporality: 1,
              points: [
                {
                  ...T0,
                  attributes: { e: 1 },
                  count: 300,
                  sum: 10,
                  min: -3,
                  max: 4,
                  scale: -2,
                  zeroCount: 1,
                  zeroThreshold: 0.001,
                  positive: { offset: -3, bucketCounts: Array.from({ length: 150 }, (_, i) => i) },
                  negative: { offset: 5, bucketCounts: [1, 2 ** 35] },
                },
                {
                  ...T0,
                  attributes: {},
                  count: 0,
                  sum: undefined,
                  min: undefined,
                  max: undefined,
                  scale: 0,
                  zeroCount: 0,
                  zeroThreshold: 0,
                  positive: { offset: 0, bucketCounts: [] },
                  negative: { offset: 0, bucketCounts: [] },
                },
              ],
            },
            {
              name: 'summary',
              description: '',
              unit: '',
              kind: 'summary',
              points: [{ ...T0, attributes: {}, count: 3, sum: 6, quantiles: [{ quantile: 0, value: 1 }, { quantile: 0.5, value: 2 }, { quantile: 1, value: 0 }] }],
            },
            { name: 'no-data', description: 'metadata only', unit: '', kind: 'none', points: [] },
          ],
        },
        { scope: { name: '', version: '', attributes: {} }, metrics: [] },
      ],
    },
    { resource: {}, scopeMetrics: [] },
  ],
};

/** A reader that hands back what the SDK collected, so the SDK's own serializers can encode it. */
export class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export async function sdkCollect(temporality: AggregationTemporality): Promise<SdkResourceMetrics> {
  const reader = new CollectingReader({ aggregationTemporalitySelector: () => temporality });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout', 'host.cores': 2, canary: false, ratio: 0.5, neg: -5, tags: ['a', 'b'] }),
    readers: [reader],
    views: [{ instrumentName: 'exp.latency', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  });
  const meter = provider.getMeter('unit', '1.2.3');
  const requests = meter.createCounter('http.server.requests');
  requests.add(3, { 'http.route': '/a', 'http.response.status_code': 200 });
  requests.add(2, { 'http.route': '/a', 'http.response.status_code': 500 });
  meter.createUpDownCounter('inflight', { valueType: ValueType.INT }).add(-5, { big: 2 ** 40 });
  const latency = meter.createHistogram('http.server.request.duration', { unit: 's', description: 'Duration', advice: { explicitBucketBoundaries: [0.1, 0.5, 1] } });
  for (const v of [0.05, 0.2, 0.3, 0.7, 2]) latency.record(v, { 'http.route': '/a' });
  const exp = meter.createHistogram('exp.latency');
  for (const v of [1, 2, 4, 8, 8, -0.5]) exp.record(v);
  meter.createGauge('queue.depth').record(7.5, { queue: 'q1' });
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  await provider.shutdown();
  return resourceMetrics;
}

/**
 * Built by hand, because the SDK's Resource drops the attribute types its API does not allow
 * (maps, bytes) while its serializers encode them: covers AnyValue kinds the meter path can't.
 */
export const HAND_BUILT = {
  resource: {
    attributes: {
      'service.name': 'svc',
      kv: { a: 1, b: 'x', nested: { c: true } },
      raw: new Uint8Array([0, 255, 7]),
      arr: [1, 'two', false],
      neg: -42,
      dbl: 0.25,
      empty: '',
      uni: 'ü✓',
    },
  },
  scopeMetrics: [
    {
      scope: { name: 'hand', version: '2', attributes: { 'scope.attr': 'v' } },
      metrics: [
        {
          descriptor: { name: 'g', description: 'd', unit: 'u', valueType: ValueType.INT },
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType: DataPointType.GAUGE,
          dataPoints: [{ startTime: [1_700_000_000, 123], endTime: [1_700_000_060, 456_789], attributes: { x: 'y' }, value: -7 }],
        },
        {
          descriptor: { name: 'h', description: '', unit: 's', valueType: ValueType.DOUBLE },
          aggregationTemporality: AggregationTemporality.DELTA,
          dataPointType: DataPointType.HISTOGRAM,
          dataPoints: [
            {
              startTime: [1_700_000_000, 0],
              endTime: [1_700_000_010, 999_999_999],
              attributes: { code: 503 },
              value: { buckets: { boundaries: [1, 2], counts: [3, 0, 1] }, count: 4, sum: 7.25, min: 0.5, max: 3 },
            },
          ],
        },
      ],
    },
  ],
} as unknown as SdkResourceMetrics;

export function sdkJson(rm: SdkResourceMetrics): unknown {
  return JSON.parse(new TextDecoder().decode(JsonMetricsSerializer.serializeRequest(rm)));
}


/* eslint-disable @typescript-eslint/no-explicit-any -- parsed JSON of known shape */
type J = any;

function jsonDouble(v: J): number {
  return typeof v === 'string' ? Number(v) : (v as number);
}

function anyValueFromJson(v: J): AttributeValue {
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return Number(BigInt(v.intValue));
  if ('doubleValue' in v) return jsonDouble(v.doubleValue);
  if ('boolValue' in v) return v.boolValue;
  if ('bytesValue' in v) return new Uint8Array(Buffer.from(v.bytesValue, 'base64'));
  if ('arrayValue' in v) return (v.arrayValue.values ?? []).map(anyValueFromJson);
  if ('kvlistValue' in v) return attributesFromJson(v.kvlistValue.values);
  return null;
}

function attributesFromJson(list: J[] | undefined): Attributes {
  return Object.fromEntries((list ?? []).map((kv: J) => [kv.key ?? '', anyValueFromJson(kv.value ?? {})]));
}

function pointBase(p: J): J {
  const ns = (s: string | undefined): [string, number] => [s ?? '0', Number(BigInt(s ?? '0') / 1_000_000n)];
  const [startTimeUnixNano, startTimeMs] = ns(p.startTimeUnixNano);
  const [timeUnixNano, timeMs] = ns(p.timeUnixNano);
  return { attributes: attributesFromJson(p.attributes), startTimeMs, timeMs, startTimeUnixNano, timeUnixNano, flags: p.flags ?? 0 };
}

const optional = (v: J): number | undefined => (v === undefined ? undefined : jsonDouble(v));
const counts = (list: J[] | undefined): number[] => (list ?? []).map((c: J) => Number(c));

function metricFromJson(m: J): Metric {
  const head = { name: m.name ?? '', description: m.description ?? '', unit: m.unit ?? '' };
  const numberPoint = (p: J): J => ({ ...pointBase(p), value: 'asInt' in p ? Number(p.asInt) : jsonDouble(p.asDouble ?? 0), isInt: 'asInt' in p });
  const common = (p: J): J => ({ ...pointBase(p), count: Number(p.count ?? 0), sum: optional(p.sum), min: optional(p.min), max: optional(p.max) });
  const buckets = (b: J): J => ({ offset: b?.offset ?? 0, bucketCounts: counts(b?.bucketCounts) });
  if (m.gauge) return { ...head, kind: 'gauge', points: m.gauge.dataPoints.map(numberPoint) };
  if (m.sum) return { ...head, kind: 'sum', temporality: m.sum.aggregationTemporality ?? 0, monotonic: m.sum.isMonotonic ?? false, points: m.sum.dataPoints.map(numberPoint) };
  if (m.histogram) {
    const points = m.histogram.dataPoints.map((p: J) => ({ ...common(p), bucketCounts: counts(p.bucketCounts), explicitBounds: (p.explicitBounds ?? []).map(jsonDouble) }));
    return { ...head, kind: 'histogram', temporality: m.histogram.aggregationTemporality ?? 0, points };
  }
  if (m.exponentialHistogram) {
    const points = m.exponentialHistogram.dataPoints.map((p: J) => ({
      ...common(p),
      scale: p.scale ?? 0,
      zeroCount: Number(p.zeroCount ?? 0),
      zeroThreshold: jsonDouble(p.zeroThreshold ?? 0),
      positive: buckets(p.positive),
      negative: buckets(p.negative),
    }));
    return { ...head, kind: 'exponentialHistogram', temporality: m.exponentialHistogram.aggregationTemporality ?? 0, points };
  }
  if (m.summary) {
    const points = m.summary.dataPoints.map((p: J) => ({
      ...pointBase(p),
      count: Number(p.count ?? 0),
      sum: jsonDouble(p.sum ?? 0),
      quantiles: (p.quantileValues ?? []).map((q: J) => ({ quantile: jsonDouble(q.quantile ?? 0), value: jsonDouble(q.value ?? 0) })),
    }));
    return { ...head, kind: 'summary', points };
  }
  return { ...head, kind: 'none', points: [] };
}

/** A test oracle: OTLP/JSON text to plain objects, following the proto3 JSON mapping. */
export function fromOtlpJson(text: string): MetricsRequest {
  const doc: J = JSON.parse(text);
  return {
    resourceMetrics: (doc.resourceMetrics ?? []).map((rm: J) => ({
      resource: attributesFromJson(rm.resource?.attributes),
      scopeMetrics: (rm.scopeMetrics ?? []).map((sm: J) => ({
        scope: { name: sm.scope?.name ?? '', version: sm.scope?.version ?? '', attributes: attributesFromJson(sm.scope?.attributes) },
        metrics: (sm.metrics ?? []).map(metricFromJson),
      })),
    })),
  };
}

/** int64/uint64 fields the SDK writes as JSON numbers, where proto3 JSON (and we) write strings. */
const INT64_FIELDS = new Set(['intValue', 'asInt', 'count', 'zeroCount']);

/**
 * The SDK's OTLP/JSON with its conventions mapped to ours, which are the documented
 * differences: 64-bit integers as strings, and no droppedAttributesCount of 0.
 */
export function normalizeSdkJson(v: J, key = ''): J {
  if (Array.isArray(v)) return key === 'bucketCounts' ? v.map(String) : v.map((x) => normalizeSdkJson(x));
  if (v === null || typeof v !== 'object') return INT64_FIELDS.has(key) && typeof v === 'number' ? String(v) : v;
  const out: J = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === 'droppedAttributesCount' && x === 0) continue;
    out[k] = normalizeSdkJson(x, k);
  }
  return out;
}
