import { ProtoDecodeError, ProtoReader, WireType } from './proto-reader.js';
import type {
  AttributeValue,
  Attributes,
  ExponentialBuckets,
  ExponentialHistogramPoint,
  HistogramPoint,
  Metric,
  MetricsRequest,
  NumberPoint,
  ResourceMetrics,
  ScopeMetrics,
  SummaryPoint,
  Temporality,
} from './types.js';

/*
 * Field numbers of opentelemetry/proto/metrics/v1/metrics.proto, common/v1/common.proto and
 * collector/metrics/v1/metrics_service.proto. Each decoder below reads one message type and
 * skips unknown fields, as protobuf requires.
 */

function anyValue(r: ProtoReader, end: number): AttributeValue {
  let value: AttributeValue = null;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case (1 << 3) | WireType.LEN:
        value = r.string();
        break;
      case (2 << 3) | WireType.VARINT:
        value = r.bool();
        break;
      case (3 << 3) | WireType.VARINT:
        value = r.int64();
        break;
      case (4 << 3) | WireType.I64:
        value = r.double();
        break;
      case (5 << 3) | WireType.LEN: {
        const arrayEnd = r.delimitedEnd();
        const items: AttributeValue[] = [];
        while (r.pos < arrayEnd) {
          const t = r.tag();
          if (t === ((1 << 3) | WireType.LEN)) items.push(anyValue(r, r.delimitedEnd()));
          else r.skip(t & 7);
        }
        value = items;
        break;
      }
      case (6 << 3) | WireType.LEN: {
        const listEnd = r.delimitedEnd();
        const kv: Record<string, AttributeValue> = {};
        while (r.pos < listEnd) {
          const t = r.tag();
          if (t === ((1 << 3) | WireType.LEN)) keyValue(r, r.delimitedEnd(), kv);
          else r.skip(t & 7);
        }
        value = kv;
        break;
      }
      case (7 << 3) | WireType.LEN:
        value = r.bytes().slice();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return value;
}

function keyValue(r: ProtoReader, end: number, into: Attributes): void {
  let key = '';
  let value: AttributeValue = null;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === ((1 << 3) | WireType.LEN)) key = r.string();
    else if (tag === ((2 << 3) | WireType.LEN)) value = anyValue(r, r.delimitedEnd());
    else r.skip(tag & 7);
  }
  into[key] = value;
}

function attributesOf(r: ProtoReader, end: number, field: number): Attributes {
  const out: Attributes = {};
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === ((field << 3) | WireType.LEN)) keyValue(r, r.delimitedEnd(), out);
    else r.skip(tag & 7);
  }
  return out;
}

function packedDoubles(r: ProtoReader, tag: number, into: number[]): void {
  if ((tag & 7) === WireType.LEN) {
    const end = r.delimitedEnd();
    while (r.pos < end) into.push(r.double());
  } else into.push(r.double());
}

function packedFixed64(r: ProtoReader, tag: number, into: number[]): void {
  if ((tag & 7) === WireType.LEN) {
    const end = r.delimitedEnd();
    while (r.pos < end) into.push(r.fixed64());
  } else into.push(r.fixed64());
}

function packedVarints(r: ProtoReader, tag: number, into: number[]): void {
  if ((tag & 7) === WireType.LEN) {
    const end = r.delimitedEnd();
    while (r.pos < end) into.push(r.varint64());
  } else into.push(r.varint64());
}

const NS_PER_MS = 1_000_000n;

function setTimes(point: { startTimeMs: number; timeMs: number; startTimeUnixNano: string; timeUnixNano: string }, which: 'start' | 'time', ns: bigint): void {
  if (which === 'start') {
    point.startTimeUnixNano = ns.toString();
    point.startTimeMs = Number(ns / NS_PER_MS);
  } else {
    point.timeUnixNano = ns.toString();
    point.timeMs = Number(ns / NS_PER_MS);
  }
}

function basePoint(): { attributes: Attributes; startTimeMs: number; timeMs: number; startTimeUnixNano: string; timeUnixNano: string; flags: number } {
  return { attributes: {}, startTimeMs: 0, timeMs: 0, startTimeUnixNano: '0', timeUnixNano: '0', flags: 0 };
}

type BasePoint = ReturnType<typeof basePoint>;

/**
 * Reads the fields every point kind shares (attributes, start and observation time, flags);
 * their field numbers differ per kind only for attributes and flags. False when not one of them.
 */
function baseField(r: ProtoReader, field: number, p: BasePoint, attributesField: number, flagsField: number): boolean {
  if (field === attributesField) keyValue(r, r.delimitedEnd(), p.attributes);
  else if (field === 2) setTimes(p, 'start', r.fixed64BigInt());
  else if (field === 3) setTimes(p, 'time', r.fixed64BigInt());
  else if (field === flagsField) p.flags = r.uint32();
  else return false;
  return true;
}

function numberPoint(r: ProtoReader, end: number): NumberPoint {
  const p: NumberPoint = { ...basePoint(), value: 0, isInt: false };
  while (r.pos < end) {
    const tag = r.tag();
    if (baseField(r, tag >>> 3, p, 7, 8)) continue;
    switch (tag >>> 3) {
      case 4:
        p.value = r.double();
        p.isInt = false;
        break;
      case 6:
        p.value = r.sfixed64();
        p.isInt = true;
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return p;
}

function histogramPoint(r: ProtoReader, end: number): HistogramPoint {
  const p: HistogramPoint = { ...basePoint(), count: 0, sum: undefined, min: undefined, max: undefined, bucketCounts: [], explicitBounds: [] };
  while (r.pos < end) {
    const tag = r.tag();
    if (baseField(r, tag >>> 3, p, 9, 10)) continue;
    switch (tag >>> 3) {
      case 4:
        p.count = r.fixed64();
        break;
      case 5:
        p.sum = r.double();
        break;
      case 6:
        packedFixed64(r, tag, p.bucketCounts);
        break;
      case 7:
        packedDoubles(r, tag, p.explicitBounds);
        break;
      case 11:
        p.min = r.double();
        break;
      case 12:
        p.max = r.double();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return p;
}

function buckets(r: ProtoReader, end: number): ExponentialBuckets {
  const b: ExponentialBuckets = { offset: 0, bucketCounts: [] };
  while (r.pos < end) {
    const tag = r.tag();
    if (tag >>> 3 === 1) b.offset = r.sint32();
    else if (tag >>> 3 === 2) packedVarints(r, tag, b.bucketCounts);
    else r.skip(tag & 7);
  }
  return b;
}

function exponentialPoint(r: ProtoReader, end: number): ExponentialHistogramPoint {
  const p: ExponentialHistogramPoint = {
    ...basePoint(),
    count: 0,
    sum: undefined,
    min: undefined,
    max: undefined,
    scale: 0,
    zeroCount: 0,
    zeroThreshold: 0,
    positive: { offset: 0, bucketCounts: [] },
    negative: { offset: 0, bucketCounts: [] },
  };
  while (r.pos < end) {
    const tag = r.tag();
    if (baseField(r, tag >>> 3, p, 1, 10)) continue;
    switch (tag >>> 3) {
      case 4:
        p.count = r.fixed64();
        break;
      case 5:
        p.sum = r.double();
        break;
      case 6:
        p.scale = r.sint32();
        break;
      case 7:
        p.zeroCount = r.fixed64();
        break;
      case 8:
        p.positive = buckets(r, r.delimitedEnd());
        break;
      case 9:
        p.negative = buckets(r, r.delimitedEnd());
        break;
      case 12:
        p.min = r.double();
        break;
      case 13:
        p.max = r.double();
        break;
      case 14:
        p.zeroThreshold = r.double();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return p;
}

function summaryPoint(r: ProtoReader, end: number): SummaryPoint {
  const p: SummaryPoint = { ...basePoint(), count: 0, sum: 0, quantiles: [] };
  while (r.pos < end) {
    const tag = r.tag();
    if (baseField(r, tag >>> 3, p, 7, 8)) continue;
    switch (tag >>> 3) {
      case 4:
        p.count = r.fixed64();
        break;
      case 5:
        p.sum = r.double();
        break;
      case 6: {
        const qEnd = r.delimitedEnd();
        const q = { quantile: 0, value: 0 };
        while (r.pos < qEnd) {
          const t = r.tag();
          if (t >>> 3 === 1) q.quantile = r.double();
          else if (t >>> 3 === 2) q.value = r.double();
          else r.skip(t & 7);
        }
        p.quantiles.push(q);
        break;
      }
      default:
        r.skip(tag & 7);
    }
  }
  return p;
}

/** Reads the data-point list and temporality of a Gauge/Sum/Histogram/... message. */
function dataMessage<P>(r: ProtoReader, end: number, point: (r: ProtoReader, end: number) => P): { points: P[]; temporality: Temporality; monotonic: boolean } {
  const points: P[] = [];
  let temporality: Temporality = 0;
  let monotonic = false;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1:
        points.push(point(r, r.delimitedEnd()));
        break;
      case 2:
        temporality = r.uint32() as Temporality;
        break;
      case 3:
        monotonic = r.bool();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return { points, temporality, monotonic };
}

function metric(r: ProtoReader, end: number): Metric {
  let name = '';
  let description = '';
  let unit = '';
  let data: Metric | undefined;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1:
        name = r.string();
        break;
      case 2:
        description = r.string();
        break;
      case 3:
        unit = r.string();
        break;
      case 5: {
        const d = dataMessage(r, r.delimitedEnd(), numberPoint);
        data = { name, description, unit, kind: 'gauge', points: d.points };
        break;
      }
      case 7: {
        const d = dataMessage(r, r.delimitedEnd(), numberPoint);
        data = { name, description, unit, kind: 'sum', temporality: d.temporality, monotonic: d.monotonic, points: d.points };
        break;
      }
      case 9: {
        const d = dataMessage(r, r.delimitedEnd(), histogramPoint);
        data = { name, description, unit, kind: 'histogram', temporality: d.temporality, points: d.points };
        break;
      }
      case 10: {
        const d = dataMessage(r, r.delimitedEnd(), exponentialPoint);
        data = { name, description, unit, kind: 'exponentialHistogram', temporality: d.temporality, points: d.points };
        break;
      }
      case 11: {
        const d = dataMessage(r, r.delimitedEnd(), summaryPoint);
        data = { name, description, unit, kind: 'summary', points: d.points };
        break;
      }
      default:
        r.skip(tag & 7);
    }
  }
  // name/description/unit may follow the data field on the wire.
  if (!data) return { name, description, unit, kind: 'none', points: [] };
  return { ...data, name, description, unit };
}

function scopeMetrics(r: ProtoReader, end: number): ScopeMetrics {
  const out: ScopeMetrics = { scope: { name: '', version: '', attributes: {} }, metrics: [] };
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === ((1 << 3) | WireType.LEN)) {
      const scopeEnd = r.delimitedEnd();
      while (r.pos < scopeEnd) {
        const t = r.tag();
        if (t === ((1 << 3) | WireType.LEN)) out.scope.name = r.string();
        else if (t === ((2 << 3) | WireType.LEN)) out.scope.version = r.string();
        else if (t === ((3 << 3) | WireType.LEN)) keyValue(r, r.delimitedEnd(), out.scope.attributes);
        else r.skip(t & 7);
      }
    } else if (tag === ((2 << 3) | WireType.LEN)) out.metrics.push(metric(r, r.delimitedEnd()));
    else r.skip(tag & 7);
  }
  return out;
}

function resourceMetrics(r: ProtoReader, end: number): ResourceMetrics {
  const out: ResourceMetrics = { resource: {}, scopeMetrics: [] };
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === ((1 << 3) | WireType.LEN)) out.resource = attributesOf(r, r.delimitedEnd(), 1);
    else if (tag === ((2 << 3) | WireType.LEN)) out.scopeMetrics.push(scopeMetrics(r, r.delimitedEnd()));
    else r.skip(tag & 7);
  }
  return out;
}

/**
 * Decodes an `ExportMetricsServiceRequest` (otlp_proto) into plain objects. The reference
 * decoder: complete and simple, for tools and tests. Throws ProtoDecodeError on bad input.
 */
export function decodeMetricsRequest(bytes: Uint8Array): MetricsRequest {
  const r = new ProtoReader(bytes);
  const out: MetricsRequest = { resourceMetrics: [] };
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag === ((1 << 3) | WireType.LEN)) out.resourceMetrics.push(resourceMetrics(r, r.delimitedEnd()));
    else if (tag === 0) throw new ProtoDecodeError('field number 0 is invalid', r.pos);
    else r.skip(tag & 7);
  }
  return out;
}
