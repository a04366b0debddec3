import { describe, expect, it } from 'vitest';
import { AggregationTemporality } from '@opentelemetry/sdk-metrics';
import { JsonDecodeError, OtlpMetricsDecoder, decodeMetricsJson, decodeMetricsRequest } from '../../../../runtime/otlp/index.js';
import { CollectingVisitor, allKeys, pb, recordSdk } from './streaming-helpers.js';

describe('otlp_json decoding', () => {
  it('drives the visitor exactly as the protobuf bytes of the same data do, hashes and times included', async () => {
    for (const temporality of [AggregationTemporality.CUMULATIVE, AggregationTemporality.DELTA]) {
      const { proto, json } = await recordSdk(temporality);
      const keys = allKeys(decodeMetricsRequest(proto));
      const decoder = new OtlpMetricsDecoder({ extractKeys: keys });
      const fromProto = new CollectingVisitor(keys);
      const fromJson = new CollectingVisitor(keys);
      const protoStats = { ...decoder.decode(proto, fromProto) };
      const jsonStats = { ...decoder.decodeJson(json, fromJson) };
      expect(fromJson.resources).toEqual(fromProto.resources);
      expect(jsonStats).toEqual(protoStats);
      expect(protoStats.points).toBeGreaterThan(8);
      // The same text as a string, and through the options-keyed function.
      const fromText = new CollectingVisitor(keys);
      decodeMetricsJson(new TextDecoder().decode(json), fromText, { extractKeys: keys });
      expect(fromText.resources).toEqual(fromProto.resources);
    }
  });

  it('accepts the JSON mapping variants: int64 as strings, enum names, NaN/Infinity, summary', () => {
    const json = JSON.stringify({
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'big', value: { intValue: '9223372036854775807' } }, { key: 'm', value: { kvlistValue: { values: [{ key: 'x', value: { bytesValue: 'aGk=' } }] } } }] },
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 's',
                  sum: { aggregationTemporality: 'AGGREGATION_TEMPORALITY_DELTA', isMonotonic: true, dataPoints: [{ asInt: '-5', timeUnixNano: '1700000000123456789' }] },
                },
                { name: 'q', summary: { dataPoints: [{ count: '4', sum: 'NaN', quantileValues: [{ quantile: 0.5, value: 'Infinity' }, {}] }] } },
              ],
            },
          ],
        },
      ],
    });
    const v = new CollectingVisitor(['big', 'm']);
    new OtlpMetricsDecoder({ extractKeys: ['big', 'm'] }).decodeJson(json, v);
    const [r] = v.resources;
    expect(r?.attrs).toEqual({ big: '9223372036854775807', m: '{"x":"aGk="}' });
    expect(r?.metrics[0]).toMatchObject({ temporality: 1, monotonic: true, points: [{ value: -5 }] });
    expect(Math.abs((r?.metrics[0]?.points[0]?.time ?? 0) - 1700000000123.4568)).toBeLessThan(0.001);
    expect(r?.metrics[1]?.points[0]).toMatchObject({ total: 4, sum: NaN, quantiles: [{ quantile: 0.5, value: Infinity }, { quantile: 0, value: 0 }] });

    // The same resource hand-encoded in protobuf hashes the same.
    const proto = pb.request([pb.kv(1, 'big', 2n ** 63n - 1n), pb.len(1, pb.str(1, 'm'), pb.len(2, pb.len(6, pb.len(1, pb.str(1, 'x'), pb.len(2, pb.len(7, [104, 105]))))))]);
    const p = new CollectingVisitor(['big', 'm']);
    new OtlpMetricsDecoder({ extractKeys: ['big', 'm'] }).decode(proto, p);
    expect(p.resources[0]?.hash).toEqual(r?.hash);
  });

  it('keeps interned strings across calls that share an extractKeys array', async () => {
    const { json } = await recordSdk(AggregationTemporality.CUMULATIVE);
    const options = { extractKeys: ['http.route', 'service.name'] };
    const a = new CollectingVisitor(options.extractKeys);
    const b = new CollectingVisitor(options.extractKeys);
    const first = decodeMetricsJson(json, a, options);
    // A fresh options literal around the same keys array reuses the context (same stats object).
    expect(decodeMetricsJson(json, a, { extractKeys: options.extractKeys })).toBe(first);
    a.resources.pop();
    const decoder = new OtlpMetricsDecoder(options);
    decoder.decodeJson(json, b);
    const misses = decoder.intern.misses;
    decoder.decodeJson(json, b);
    expect(decoder.intern.misses).toBe(misses);
    expect(b.resources[1]).toEqual(a.resources[0]);
  });

  it('throws JsonDecodeError with the path on invalid JSON or a wrong shape', () => {
    const decoder = new OtlpMetricsDecoder({ extractKeys: ['k'] });
    const v = new CollectingVisitor(['k']);
    const bad = (doc: unknown): (() => unknown) => () => decoder.decodeJson(typeof doc === 'string' ? doc : JSON.stringify(doc), v);
    const metric = (m: unknown): unknown => ({ resourceMetrics: [{ scopeMetrics: [{ metrics: [m] }] }] });
    expect(bad('{"resourceMetrics": [')).toThrow(JsonDecodeError);
    expect(() => decoder.decodeJson(new Uint8Array([0x7b, 0xff, 0x7d]), v)).toThrow(/not valid JSON/);
    expect(bad('[]')).toThrow(/expected an object/);
    expect(bad({ resourceMetrics: {} })).toThrow(/^resourceMetrics: expected an array/);
    expect(bad(metric({ name: 'x', gauge: { dataPoints: [{ timeUnixNano: 'soon' }] } }))).toThrow(/metrics\[0\]\.gauge\.dataPoints\[0\]\.timeUnixNano: expected an integer/);
    expect(bad(metric({ name: 'x', gauge: { dataPoints: [{ asInt: 1, asDouble: 2 }] } }))).toThrow(/both asDouble and asInt/);
    expect(bad(metric({ name: 'x', gauge: {}, sum: {} }))).toThrow(/both gauge and sum/);
    expect(bad(metric({ name: 7, gauge: {} }))).toThrow(/\.name: expected a string/);
    expect(bad(metric({ name: 'h', histogram: { dataPoints: [{ bucketCounts: [1, 2], explicitBounds: [] }] } }))).toThrow(/2 bucket counts but 0 explicit bounds/);
    const attr = (value: unknown): unknown => metric({ name: 'x', gauge: { dataPoints: [{ attributes: [{ key: 'k', value }] }] } });
    expect(bad(attr({ intValue: '1.5' }))).toThrow(/attributes\[0\]\.value\.intValue: expected an integer/);
    expect(bad(attr({ intValue: '9223372036854775808' }))).toThrow(/out of int64 range/);
    expect(bad(attr({ stringValue: 'a', boolValue: true }))).toThrow(/both stringValue and boolValue/);
    expect(bad(attr({ bytesValue: '***' }))).toThrow(/expected base64/);
    expect(bad(attr({ arrayValue: { values: 3 } }))).toThrow(/arrayValue\.values: expected an array/);
    expect(bad(attr(deep(100)))).toThrow(/nested too deeply/);
    // Unknown fields and nulls are fine.
    expect(decoder.decodeJson(JSON.stringify({ resourceMetrics: [{ resource: null, extra: 1, scopeMetrics: null }] }), v)).toMatchObject({ resources: 1 });
  });
});

function deep(n: number): unknown {
  let v: unknown = { stringValue: 'x' };
  for (let i = 0; i < n; i++) v = { arrayValue: { values: [v] } };
  return v;
}
