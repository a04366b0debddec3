/**
 * Encodes plain-object metrics as OTLP/JSON (`otlp_json`): the protobuf JSON mapping the OTel
 * collector reads and writes. Keys are lowerCamelCase; int64, uint64 and fixed64 values
 * (timestamps, `asInt`, `intValue`, `count`, `bucketCounts`, `zeroCount`) are decimal strings;
 * enums (`aggregationTemporality`) are integers; bytes are base64; NaN and ±Infinity are the
 * proto3 strings "NaN", "Infinity", "-Infinity" (the collector parses them with
 * strconv.ParseFloat; JSON.stringify would write null).
 *
 * Which fields appear follows the OpenTelemetry JS SDK's JsonMetricsSerializer so output can be
 * compared with it: metric name/description/unit, scope name/version, point attributes and
 * times, histogram count/bucketCounts/explicitBounds are always present; `flags` and
 * `zeroThreshold` only when non-zero; sum/min/max when defined. Unlike the SDK, int64 values
 * are strings (the SDK writes JSON numbers, which lose precision past 2^53) and resource and
 * scope carry no `droppedAttributesCount` (the model has none; proto3 JSON omits a zero).
 * Times follow the rule in encode-rules.ts, and so does the choice of intValue or doubleValue.
 */

import { isInt64Attribute, nanosDecimal } from './encode-rules.js';
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

/** A double as proto3 JSON writes it: non-finite values are strings, which JSON numbers can't be. */
function double(v: number): string {
  if (Number.isFinite(v)) return Object.is(v, -0) ? '-0' : String(v);
  return Number.isNaN(v) ? '"NaN"' : v > 0 ? '"Infinity"' : '"-Infinity"';
}

/**
 * Attribute keys, route names and the like repeat on every point: remember their quoted form.
 * Bounded, so a stream of unique values (ids) can't grow it without limit.
 */
const quoted = new Map<string, string>();
const QUOTED_MAX = 4096;

function quote(s: string): string {
  let q = quoted.get(s);
  if (q === undefined) {
    q = JSON.stringify(s);
    if (quoted.size >= QUOTED_MAX) quoted.clear();
    quoted.set(s, q);
  }
  return q;
}

/** An integer's exact decimal digits: past 2^53 String() gives the shortest round-trip form instead. */
function digits(v: number): string {
  return Number.isSafeInteger(v) ? String(v) : BigInt(v).toString();
}

/** A uint64/int64 integer as a JSON string. */
function int64(v: number): string {
  return `"${digits(v)}"`;
}

function int64List(values: readonly number[]): string {
  let out = '[';
  for (let i = 0; i < values.length; i++) out += (i === 0 ? '"' : ',"') + digits(values[i] as number) + '"';
  return out + ']';
}

/** Explicit bounds are usually the same on every point: formatting doubles is the costly part. */
let lastList: number[] = [];
let lastListJson = '[]';

function doubleList(values: readonly number[]): string {
  if (values.length === lastList.length && values.every((v, i) => Object.is(v, lastList[i]))) return lastListJson;
  let out = '[';
  for (let i = 0; i < values.length; i++) out += (i === 0 ? '' : ',') + double(values[i] as number);
  out += ']';
  lastList = values.slice();
  lastListJson = out;
  return out;
}

function anyValue(v: AttributeValue): string {
  if (typeof v === 'string') return `{"stringValue":${quote(v)}}`;
  if (typeof v === 'number') return isInt64Attribute(v) ? `{"intValue":${int64(v)}}` : `{"doubleValue":${double(v)}}`;
  if (typeof v === 'boolean') return v ? '{"boolValue":true}' : '{"boolValue":false}';
  if (v === null) return '{}';
  if (v instanceof Uint8Array) return `{"bytesValue":"${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')}"}`;
  if (Array.isArray(v)) return `{"arrayValue":{"values":[${v.map(anyValue).join(',')}]}}`;
  return `{"kvlistValue":{"values":${attributes(v)}}}`;
}

function attributes(attrs: Attributes): string {
  let out = '[';
  let first = true;
  for (const key of Object.keys(attrs)) {
    out += `${first ? '' : ','}{"key":${quote(key)},"value":${anyValue(attrs[key] as AttributeValue)}}`;
    first = false;
  }
  return out + ']';
}

/** The members every point kind shares, without braces. */
function base(p: NumberPoint | HistogramPoint | ExponentialHistogramPoint | SummaryPoint): string {
  const flags = p.flags !== 0 ? `,"flags":${p.flags}` : '';
  return (
    `"attributes":${attributes(p.attributes)},"startTimeUnixNano":"${nanosDecimal(p.startTimeUnixNano, p.startTimeMs)}"` +
    `,"timeUnixNano":"${nanosDecimal(p.timeUnixNano, p.timeMs)}"${flags}`
  );
}

function optionalDouble(key: string, v: number | undefined): string {
  return v === undefined ? '' : `,"${key}":${double(v)}`;
}

function numberPoint(p: NumberPoint): string {
  if (p.isInt && !Number.isInteger(p.value)) throw new RangeError(`as_int point value ${p.value} is not an integer`);
  return `{${base(p)},${p.isInt ? `"asInt":${int64(p.value)}` : `"asDouble":${double(p.value)}`}}`;
}

function histogramPoint(p: HistogramPoint): string {
  return (
    `{${base(p)},"count":${int64(p.count)}${optionalDouble('sum', p.sum)},"bucketCounts":${int64List(p.bucketCounts)}` +
    `,"explicitBounds":${doubleList(p.explicitBounds)}${optionalDouble('min', p.min)}${optionalDouble('max', p.max)}}`
  );
}

function buckets(b: ExponentialBuckets): string {
  return `{"offset":${b.offset},"bucketCounts":${int64List(b.bucketCounts)}}`;
}

function exponentialPoint(p: ExponentialHistogramPoint): string {
  const zeroThreshold = p.zeroThreshold !== 0 ? `,"zeroThreshold":${double(p.zeroThreshold)}` : '';
  return (
    `{${base(p)},"count":${int64(p.count)}${optionalDouble('sum', p.sum)},"scale":${p.scale},"zeroCount":${int64(p.zeroCount)}` +
    `,"positive":${buckets(p.positive)},"negative":${buckets(p.negative)}${optionalDouble('min', p.min)}${optionalDouble('max', p.max)}${zeroThreshold}}`
  );
}

function summaryPoint(p: SummaryPoint): string {
  const quantiles = p.quantiles.map((q) => `{"quantile":${double(q.quantile)},"value":${double(q.value)}}`).join(',');
  return `{${base(p)},"count":${int64(p.count)},"sum":${double(p.sum)},"quantileValues":[${quantiles}]}`;
}

function metric(m: Metric): string {
  const head = `{"name":${quote(m.name)},"description":${quote(m.description)},"unit":${quote(m.unit)}`;
  switch (m.kind) {
    case 'gauge':
      return `${head},"gauge":{"dataPoints":[${m.points.map(numberPoint).join(',')}]}}`;
    case 'sum':
      return (
        `${head},"sum":{"aggregationTemporality":${m.temporality},"isMonotonic":${m.monotonic}` +
        `,"dataPoints":[${m.points.map(numberPoint).join(',')}]}}`
      );
    case 'histogram':
      return `${head},"histogram":{"aggregationTemporality":${m.temporality},"dataPoints":[${m.points.map(histogramPoint).join(',')}]}}`;
    case 'exponentialHistogram':
      return (
        `${head},"exponentialHistogram":{"aggregationTemporality":${m.temporality}` +
        `,"dataPoints":[${m.points.map(exponentialPoint).join(',')}]}}`
      );
    case 'summary':
      return `${head},"summary":{"dataPoints":[${m.points.map(summaryPoint).join(',')}]}}`;
    case 'none':
      return `${head}}`;
  }
}

/** Encodes an `ExportMetricsServiceRequest` as OTLP/JSON (otlp_json). */
export function encodeMetricsRequestJson(request: MetricsRequest): string {
  const resources = request.resourceMetrics.map((rm) => {
    const scopes = rm.scopeMetrics.map((sm) => {
      const scopeAttributes = Object.keys(sm.scope.attributes).length > 0 ? `,"attributes":${attributes(sm.scope.attributes)}` : '';
      const scope = `{"name":${quote(sm.scope.name)},"version":${quote(sm.scope.version)}${scopeAttributes}}`;
      return `{"scope":${scope},"metrics":[${sm.metrics.map(metric).join(',')}]}`;
    });
    return `{"resource":{"attributes":${attributes(rm.resource)}},"scopeMetrics":[${scopes.join(',')}]}`;
  });
  return `{"resourceMetrics":[${resources.join(',')}]}`;
}
