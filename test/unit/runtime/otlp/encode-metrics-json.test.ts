import { describe, expect, it } from 'vitest';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { AggregationTemporality } from '@opentelemetry/sdk-metrics';
import { decodeMetricsRequest, encodeMetricsRequest, encodeMetricsRequestJson } from '../../../../runtime/otlp/index.js';
import type { HistogramPoint } from '../../../../runtime/otlp/index.js';
import { FULL, HAND_BUILT, T0, fromOtlpJson, oneMetric, normalizeSdkJson, sdkCollect, sdkJson } from './encode-fixtures.js';

describe('encodeMetricsRequestJson (otlp_json)', () => {
  it('is valid JSON that parses back (proto3 JSON mapping) to the same objects', () => {
    const json = encodeMetricsRequestJson(FULL);
    expect(fromOtlpJson(json)).toEqual(FULL);
  });

  it('writes 64-bit integers as exact decimal strings and non-finite doubles as strings', () => {
    const parsed = JSON.parse(encodeMetricsRequestJson(FULL)) as { resourceMetrics: { resource: { attributes: { key: string; value: unknown }[] } }[] };
    const attrs = Object.fromEntries(parsed.resourceMetrics[0]?.resource.attributes.map((a) => [a.key, a.value]) ?? []);
    expect(attrs).toMatchObject({
      neg: { intValue: '-5' },
      int64Min: { intValue: '-9223372036854775808' },
      maxSafe: { intValue: '9007199254740991' },
      beyondInt64: { doubleValue: 18446744073709552000 },
      inf: { doubleValue: 'Infinity' },
      nan: { doubleValue: 'NaN' },
      bytes: { bytesValue: 'AAF/gP8=' },
      none: {},
    });
    const hist = JSON.parse(encodeMetricsRequestJson(FULL)).resourceMetrics[0].scopeMetrics[0].metrics[3].histogram;
    expect(hist.aggregationTemporality).toBe(2);
    expect(hist.dataPoints[2]).toMatchObject({ count: '1099511627776', bucketCounts: ['1099511627776', '0'], explicitBounds: [-1], flags: 1 });
  });

  it('derives nanosecond strings from milliseconds by the same rule as protobuf', () => {
    const p: HistogramPoint = {
      ...T0,
      startTimeUnixNano: '',
      startTimeMs: 1_700_000_000_001,
      timeUnixNano: '0',
      timeMs: 1.5,
      attributes: {},
      count: 1,
      sum: 1,
      min: 1,
      max: 1,
      bucketCounts: [1],
      explicitBounds: [],
    };
    const req = oneMetric({ name: 'h', description: '', unit: '', kind: 'histogram', temporality: 1, points: [p] });
    const dp = JSON.parse(encodeMetricsRequestJson(req)).resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.dataPoints[0];
    expect(dp).toMatchObject({ startTimeUnixNano: '1700000000001000000', timeUnixNano: '1500000' });
    const proto = decodeMetricsRequest(encodeMetricsRequest(req)).resourceMetrics[0]?.scopeMetrics[0]?.metrics[0]?.points[0];
    expect(proto).toMatchObject({ startTimeUnixNano: dp.startTimeUnixNano, timeUnixNano: dp.timeUnixNano });
  });

  it.each([
    ['meter output', async () => sdkCollect(AggregationTemporality.CUMULATIVE)],
    ['hand-built data', async () => HAND_BUILT],
  ])('writes the same OTLP/JSON as the SDK for %s, but for the documented differences', async (_name, collect) => {
    const rm = await collect();
    const sdkBytes = ProtobufMetricsSerializer.serializeRequest(rm);
    if (!sdkBytes) throw new Error('no bytes');
    const mine = JSON.parse(encodeMetricsRequestJson(decodeMetricsRequest(sdkBytes))) as unknown;
    expect(mine).toEqual(normalizeSdkJson(sdkJson(rm)));
  });
});
