/**
 * Encodes plain-object metrics (types.ts) as an OTLP `ExportMetricsServiceRequest`: the inverse
 * of decode-metrics.ts, for tests, benchmarks and replay. Field numbers are those of
 * opentelemetry/proto metrics/v1, common/v1 and collector/metrics/v1.
 *
 * Output follows proto3: fields are written in field-number order, scalar fields holding their
 * default (0, '', false) are left out, `optional` fields (histogram sum/min/max) are written
 * whenever defined, oneof members (attribute values, as_double/as_int) always, and repeated
 * numbers are packed. The resource and scope messages are always present. Exemplars, metric
 * metadata, schema URLs and dropped-attribute counts are not in the model and never written.
 *
 * Attribute numbers become int_value or double_value, and point times are resolved from their
 * nanosecond string or milliseconds, by the rules in encode-rules.ts. `null` becomes an AnyValue
 * with no value set.
 */

import { isInt64Attribute } from './encode-rules.js';
import { WireType } from './proto-reader.js';
import { ProtoWriter } from './proto-writer.js';
import type {
  AttributeValue,
  Attributes,
  ExponentialBuckets,
  ExponentialHistogramPoint,
  HistogramPoint,
  Metric,
  MetricsRequest,
  NumberPoint,
  SummaryPoint,
} from './types.js';

export { encodeMetricsRequestJson } from './encode-metrics-json.js';

const { VARINT, I64, LEN } = WireType;

/** Writes the fields of an AnyValue (the caller has opened the message). */
function anyValue(w: ProtoWriter, v: AttributeValue): void {
  if (typeof v === 'string') w.tag(1, LEN).string(v);
  else if (typeof v === 'number') {
    if (isInt64Attribute(v)) w.tag(3, VARINT).int64(v);
    else w.tag(4, I64).double(v);
  } else if (typeof v === 'boolean') w.tag(2, VARINT).bool(v);
  else if (v === null) return;
  else if (v instanceof Uint8Array) w.tag(7, LEN).bytes(v);
  else if (Array.isArray(v)) {
    w.begin(5, v.length < 16 ? 1 : 2);
    for (const item of v) {
      w.begin(1);
      anyValue(w, item);
      w.end();
    }
    w.end();
  } else {
    w.begin(6);
    for (const key of Object.keys(v)) keyValue(w, 1, key, v[key] as AttributeValue);
    w.end();
  }
}

function keyValue(w: ProtoWriter, field: number, key: string, value: AttributeValue): void {
  w.begin(field);
  if (key !== '') w.tag(1, LEN).string(key);
  w.begin(2);
  anyValue(w, value);
  w.end();
  w.end();
}

/** Writes attributes as repeated KeyValue in field `field`, in the object's key order. */
export function writeAttributes(w: ProtoWriter, field: number, attrs: Attributes): void {
  // for-in walks V8's enum cache without allocating a key array per point; own keys only.
  for (const key in attrs) if (Object.hasOwn(attrs, key)) keyValue(w, field, key, attrs[key] as AttributeValue);
}

/** Writes a point time by the rule in encode-rules.ts (hasNanos, inlined on this hot path). */
function time(w: ProtoWriter, field: number, nanos: string, ms: number): void {
  if (nanos !== '' && nanos !== '0') w.tag(field, I64).fixed64Decimal(nanos);
  else if (ms !== 0) w.tag(field, I64).fixed64FromMillis(ms);
}

/** A double that proto3 leaves out when it holds the default 0 (but not -0, whose bits differ). */
function doubleUnlessZero(w: ProtoWriter, field: number, v: number): void {
  if (v !== 0 || Object.is(v, -0)) w.tag(field, I64).double(v);
}

function numberPoint(w: ProtoWriter, p: NumberPoint): void {
  w.begin(1);
  time(w, 2, p.startTimeUnixNano, p.startTimeMs);
  time(w, 3, p.timeUnixNano, p.timeMs);
  if (p.isInt) {
    if (!Number.isInteger(p.value)) throw new RangeError(`as_int point value ${p.value} is not an integer`);
    w.tag(6, I64).sfixed64(p.value);
  } else w.tag(4, I64).double(p.value);
  writeAttributes(w, 7, p.attributes);
  if (p.flags !== 0) w.tag(8, VARINT).uint32(p.flags);
  w.end();
}

function histogramPoint(w: ProtoWriter, p: HistogramPoint): void {
  w.begin(1, 2);
  time(w, 2, p.startTimeUnixNano, p.startTimeMs);
  time(w, 3, p.timeUnixNano, p.timeMs);
  if (p.count !== 0) w.tag(4, I64).fixed64(p.count);
  if (p.sum !== undefined) w.tag(5, I64).double(p.sum);
  w.packedFixed64(6, p.bucketCounts);
  w.packedDoubles(7, p.explicitBounds);
  writeAttributes(w, 9, p.attributes);
  if (p.flags !== 0) w.tag(10, VARINT).uint32(p.flags);
  if (p.min !== undefined) w.tag(11, I64).double(p.min);
  if (p.max !== undefined) w.tag(12, I64).double(p.max);
  w.end();
}

function buckets(w: ProtoWriter, field: number, b: ExponentialBuckets): void {
  if (b.offset === 0 && b.bucketCounts.length === 0) return;
  w.begin(field, b.bucketCounts.length < 100 ? 1 : 2);
  if (b.offset !== 0) w.tag(1, VARINT).sint32(b.offset);
  w.packedVarint64(2, b.bucketCounts);
  w.end();
}

function exponentialPoint(w: ProtoWriter, p: ExponentialHistogramPoint): void {
  w.begin(1, 2);
  writeAttributes(w, 1, p.attributes);
  time(w, 2, p.startTimeUnixNano, p.startTimeMs);
  time(w, 3, p.timeUnixNano, p.timeMs);
  if (p.count !== 0) w.tag(4, I64).fixed64(p.count);
  if (p.sum !== undefined) w.tag(5, I64).double(p.sum);
  if (p.scale !== 0) w.tag(6, VARINT).sint32(p.scale);
  if (p.zeroCount !== 0) w.tag(7, I64).fixed64(p.zeroCount);
  buckets(w, 8, p.positive);
  buckets(w, 9, p.negative);
  if (p.flags !== 0) w.tag(10, VARINT).uint32(p.flags);
  if (p.min !== undefined) w.tag(12, I64).double(p.min);
  if (p.max !== undefined) w.tag(13, I64).double(p.max);
  doubleUnlessZero(w, 14, p.zeroThreshold);
  w.end();
}

function summaryPoint(w: ProtoWriter, p: SummaryPoint): void {
  w.begin(1, 2);
  time(w, 2, p.startTimeUnixNano, p.startTimeMs);
  time(w, 3, p.timeUnixNano, p.timeMs);
  if (p.count !== 0) w.tag(4, I64).fixed64(p.count);
  doubleUnlessZero(w, 5, p.sum);
  for (const q of p.quantiles) {
    w.begin(6);
    doubleUnlessZero(w, 1, q.quantile);
    doubleUnlessZero(w, 2, q.value);
    w.end();
  }
  writeAttributes(w, 7, p.attributes);
  if (p.flags !== 0) w.tag(8, VARINT).uint32(p.flags);
  w.end();
}

/** Bytes to reserve for a length prefix, from a rough guess of the body size. */
function reserveFor(points: number, bytesPerPoint: number): number {
  const estimate = points * bytesPerPoint;
  return estimate < 0x80 ? 1 : estimate < 0x4000 ? 2 : 3;
}

function metric(w: ProtoWriter, m: Metric): void {
  // A length prefix that is one byte short moves the whole metric: guess the size instead.
  const reserve = reserveFor(m.points.length, m.kind === 'histogram' || m.kind === 'exponentialHistogram' ? 200 : 60);
  w.begin(2, reserve);
  if (m.name !== '') w.tag(1, LEN).string(m.name);
  if (m.description !== '') w.tag(2, LEN).string(m.description);
  if (m.unit !== '') w.tag(3, LEN).string(m.unit);
  switch (m.kind) {
    case 'gauge':
      w.begin(5, reserve);
      for (const p of m.points) numberPoint(w, p);
      break;
    case 'sum':
      w.begin(7, reserve);
      for (const p of m.points) numberPoint(w, p);
      if (m.temporality !== 0) w.tag(2, VARINT).uint32(m.temporality);
      if (m.monotonic) w.tag(3, VARINT).bool(true);
      break;
    case 'histogram':
      w.begin(9, reserve);
      for (const p of m.points) histogramPoint(w, p);
      if (m.temporality !== 0) w.tag(2, VARINT).uint32(m.temporality);
      break;
    case 'exponentialHistogram':
      w.begin(10, reserve);
      for (const p of m.points) exponentialPoint(w, p);
      if (m.temporality !== 0) w.tag(2, VARINT).uint32(m.temporality);
      break;
    case 'summary':
      w.begin(11, reserve);
      for (const p of m.points) summaryPoint(w, p);
      break;
    case 'none':
      w.end();
      return;
  }
  w.end();
  w.end();
}

/** Points in a request, to size length-prefix reservations of the enclosing messages. */
function pointsIn(metrics: readonly Metric[]): number {
  let n = 0;
  for (const m of metrics) n += m.points.length + 1;
  return n;
}

/**
 * Writes an ExportMetricsServiceRequest into `w` (appending to what it holds). For a stream of
 * messages, reuse one writer: `w.reset()`, encode, then `w.finish()` (a copy) or `w.subarray()`.
 */
export function writeMetricsRequest(w: ProtoWriter, request: MetricsRequest): void {
  for (const rm of request.resourceMetrics) {
    let points = 0;
    for (const sm of rm.scopeMetrics) points += pointsIn(sm.metrics);
    w.begin(1, reserveFor(points, 150));
    w.begin(1);
    writeAttributes(w, 1, rm.resource);
    w.end();
    for (const sm of rm.scopeMetrics) {
      w.begin(2, reserveFor(pointsIn(sm.metrics), 150));
      w.begin(1);
      if (sm.scope.name !== '') w.tag(1, LEN).string(sm.scope.name);
      if (sm.scope.version !== '') w.tag(2, LEN).string(sm.scope.version);
      writeAttributes(w, 3, sm.scope.attributes);
      w.end();
      for (const m of sm.metrics) metric(w, m);
      w.end();
    }
    w.end();
  }
}

/** Reused across calls so steady-state encoding allocates only the returned copy. */
let shared = new ProtoWriter(64 * 1024);
/** A one-off huge request should not pin its buffer for the life of the process. */
const SHARED_MAX_BYTES = 16 * 1024 * 1024;

/** Encodes an `ExportMetricsServiceRequest` (otlp_proto). The returned bytes are the caller's. */
export function encodeMetricsRequest(request: MetricsRequest): Uint8Array {
  shared.reset();
  try {
    writeMetricsRequest(shared, request);
    return shared.finish();
  } finally {
    if (shared.buf.length > SHARED_MAX_BYTES) shared = new ProtoWriter(64 * 1024);
    else shared.reset();
  }
}
