import { describe, expect, it } from 'vitest';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { AggregationTemporality } from '@opentelemetry/sdk-metrics';
import { decodeMetricsRequest, encodeMetricsRequest } from '../../../../runtime/otlp/index.js';
import type { MetricsRequest, NumberPoint } from '../../../../runtime/otlp/index.js';
import { FULL, HAND_BUILT, oneMetric, point, sdkCollect } from './encode-fixtures.js';

describe('encodeMetricsRequest (otlp_proto)', () => {
  it('round-trips every metric kind and attribute type through the reference decoder', () => {
    expect(decodeMetricsRequest(encodeMetricsRequest(FULL))).toEqual(FULL);
  });

  it('keeps -0 and exact nanoseconds bit for bit', () => {
    const back = decodeMetricsRequest(encodeMetricsRequest(FULL));
    expect(Object.is(back.resourceMetrics[0]?.resource.negZero, -0)).toBe(true);
    const p = back.resourceMetrics[0]?.scopeMetrics[0]?.metrics[0]?.points[0];
    expect(p?.startTimeUnixNano).toBe('1700000000000123456');
    expect(p?.timeUnixNano).toBe('1700000060000000789');
  });

  it('encodes an empty request to no bytes, and returns bytes the caller owns', () => {
    expect(encodeMetricsRequest({ resourceMetrics: [] })).toEqual(new Uint8Array(0));
    const first = encodeMetricsRequest(FULL);
    const copy = first.slice();
    encodeMetricsRequest({ resourceMetrics: [{ resource: { other: 'x' }, scopeMetrics: [] }] });
    expect(first).toEqual(copy);
  });

  it('derives nanoseconds from milliseconds only when the nano string is empty or "0"', () => {
    const req = (p: Partial<NumberPoint>): MetricsRequest => oneMetric({ name: 'g', description: '', unit: '', kind: 'gauge', points: [point(p)] });
    const decoded = (p: Partial<NumberPoint>): NumberPoint => {
      const back = decodeMetricsRequest(encodeMetricsRequest(req(p)));
      return back.resourceMetrics[0]?.scopeMetrics[0]?.metrics[0]?.points[0] as NumberPoint;
    };

    expect(decoded({ startTimeUnixNano: '', startTimeMs: 1_700_000_000_123, timeUnixNano: '0', timeMs: 1_700_000_000_456 })).toMatchObject({
      startTimeUnixNano: '1700000000123000000',
      startTimeMs: 1_700_000_000_123,
      timeUnixNano: '1700000000456000000',
      timeMs: 1_700_000_000_456,
    });
    // A fraction of a millisecond becomes whole nanoseconds.
    expect(decoded({ timeUnixNano: '', timeMs: 1.25 })).toMatchObject({ timeUnixNano: '1250000', timeMs: 1 });
    // The nanosecond string wins over a disagreeing ms value.
    expect(decoded({ timeUnixNano: '5000000', timeMs: 999 })).toMatchObject({ timeUnixNano: '5000000', timeMs: 5 });
    // Both absent: the field is left out and decodes as zero.
    expect(decoded({ startTimeUnixNano: '0', startTimeMs: 0 })).toMatchObject({ startTimeUnixNano: '0', startTimeMs: 0 });
    expect(decoded({ timeUnixNano: '18446744073709551615' })).toMatchObject({ timeUnixNano: '18446744073709551615' });

    expect(() => encodeMetricsRequest(req({ timeUnixNano: '12x' }))).toThrow(RangeError);
    expect(() => encodeMetricsRequest(req({ timeUnixNano: '18446744073709551616' }))).toThrow(RangeError);
    expect(() => encodeMetricsRequest(req({ timeUnixNano: '', timeMs: -1 }))).toThrow(RangeError);
    expect(() => encodeMetricsRequest(req({ value: 1.5, isInt: true }))).toThrow(RangeError);
  });
});

describe('cross-check with the OpenTelemetry SDK serializers', () => {
  it.each([
    ['cumulative', AggregationTemporality.CUMULATIVE],
    ['delta', AggregationTemporality.DELTA],
  ])('re-encodes what the SDK serialized (%s) to the same objects', async (_name, temporality) => {
    const sdkBytes = ProtobufMetricsSerializer.serializeRequest(await sdkCollect(temporality));
    if (!sdkBytes) throw new Error('no bytes');
    const model = decodeMetricsRequest(sdkBytes);
    expect(decodeMetricsRequest(encodeMetricsRequest(model))).toEqual(model);
  });

  it('re-encodes hand-built SDK data with maps, bytes and arrays to the same objects', () => {
    const sdkBytes = ProtobufMetricsSerializer.serializeRequest(HAND_BUILT);
    if (!sdkBytes) throw new Error('no bytes');
    const model = decodeMetricsRequest(sdkBytes);
    expect(model.resourceMetrics[0]?.resource).toMatchObject({ kv: { a: 1, b: 'x', nested: { c: true } }, raw: new Uint8Array([0, 255, 7]), neg: -42 });
    expect(decodeMetricsRequest(encodeMetricsRequest(model))).toEqual(model);
  });

  it('writes a negative int attribute as the same 10-byte varint as the SDK', () => {
    const sdkBytes = Buffer.from(ProtobufMetricsSerializer.serializeRequest(HAND_BUILT) ?? []);
    const mine = Buffer.from(encodeMetricsRequest(decodeMetricsRequest(sdkBytes)));
    // AnyValue.int_value (field 3, varint) = -42: two's complement, ten bytes.
    const negative = Buffer.from([0x18, 0xd6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(sdkBytes.includes(negative)).toBe(true);
    expect(mine.includes(negative)).toBe(true);
  });
});
