/**
 * The otlp_json variant of the streaming decoder: an ExportMetricsServiceRequest in the protobuf
 * JSON mapping (lowerCamelCase names, 64-bit integers as decimal strings or numbers, enums as
 * integers or their names, bytes as base64) drives the same MetricsVisitor calls, with the same
 * AttributeSet hashes, extracted values and interned strings as the protobuf decoder.
 *
 * It parses with JSON.parse, so it allocates per value (not the default path). Unknown fields
 * are ignored, as OTLP/JSON requires; null means absent. Anything else that is not the message
 * throws JsonDecodeError naming the path, including a oneof with two members set (two data
 * fields in a metric, asDouble with asInt, two attribute value kinds) and the checks the
 * protobuf decoder makes (histogram bounds and counts must agree).
 */

import { DecoderContext, grown, temporalityOf } from './decoder-context.js';
import type { DecodeStats, MetricsDecoderOptions } from './decoder-context.js';
import { JsonDecodeError, addJsonAttributes, bool, double, int64, list, nanosMs, object, string } from './json-values.js';
import type { JsonObject } from './json-values.js';
import { MetricType } from './visitor.js';
import type { MetricsVisitor } from './visitor.js';

export { JsonDecodeError } from './json-values.js';

const DATA_FIELDS: Readonly<Record<string, MetricType>> = {
  gauge: MetricType.GAUGE,
  sum: MetricType.SUM,
  histogram: MetricType.HISTOGRAM,
  exponentialHistogram: MetricType.EXPONENTIAL_HISTOGRAM,
  summary: MetricType.SUMMARY,
};

const TEMPORALITY_NAMES: Readonly<Record<string, number>> = {
  AGGREGATION_TEMPORALITY_UNSPECIFIED: 0,
  AGGREGATION_TEMPORALITY_DELTA: 1,
  AGGREGATION_TEMPORALITY_CUMULATIVE: 2,
};

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();
let nameBytes = new Uint8Array(256);
let nameView = new DataView(nameBytes.buffer);

/** Interns a name by its UTF-8 bytes, so it is the very string the protobuf path returns. */
function interned(ctx: DecoderContext, s: string): string {
  if (s.length * 3 > nameBytes.length) {
    nameBytes = new Uint8Array(s.length * 3);
    nameView = new DataView(nameBytes.buffer);
  }
  const n = encoder.encodeInto(s, nameBytes).written;
  return ctx.intern.get(1, nameBytes, 0, n, nameView);
}

function temporality(v: unknown, path: string): 0 | 1 | 2 {
  if (typeof v === 'string' && v in TEMPORALITY_NAMES) return temporalityOf(TEMPORALITY_NAMES[v] as number);
  return temporalityOf(int64(v, path));
}

function numberPoint(ctx: DecoderContext, p: JsonObject, path: string, v: MetricsVisitor): void {
  if (p.asDouble != null && p.asInt != null) throw new JsonDecodeError('both asDouble and asInt are set', path);
  const value = p.asInt != null ? int64(p.asInt, `${path}.asInt`) : double(p.asDouble, `${path}.asDouble`);
  v.onNumberPoint(ctx.point, nanosMs(p.startTimeUnixNano, `${path}.startTimeUnixNano`), nanosMs(p.timeUnixNano, `${path}.timeUnixNano`), value);
}

/** Reads a JSON number list into a scratch buffer (replaced when it must grow); returns it. */
function fill(into: Float64Array<ArrayBuffer>, json: unknown, path: string, counts: boolean): [Float64Array<ArrayBuffer>, number] {
  const items = list(json, path);
  const out = items.length > into.length ? grown(into, items.length) : into;
  for (let i = 0; i < items.length; i++) out[i] = counts ? int64(items[i], `${path}[${i}]`, true) : double(items[i], `${path}[${i}]`);
  return [out, items.length];
}

function histogramPoint(ctx: DecoderContext, p: JsonObject, path: string, v: MetricsVisitor): void {
  const [counts, nCounts] = fill(ctx.counts, p.bucketCounts, `${path}.bucketCounts`, true);
  const [bounds, nBounds] = fill(ctx.bounds, p.explicitBounds, `${path}.explicitBounds`, false);
  ctx.counts = counts;
  ctx.bounds = bounds;
  if (nCounts !== 0 && nBounds !== nCounts - 1) throw new JsonDecodeError(`${nCounts} bucket counts but ${nBounds} explicit bounds`, path);
  v.onHistogramPoint(
    ctx.point,
    nanosMs(p.startTimeUnixNano, `${path}.startTimeUnixNano`),
    nanosMs(p.timeUnixNano, `${path}.timeUnixNano`),
    int64(p.count, `${path}.count`, true),
    double(p.sum, `${path}.sum`, NaN),
    bounds,
    counts,
    nCounts,
    double(p.min, `${path}.min`, NaN),
    double(p.max, `${path}.max`, NaN),
  );
}

function exponentialPoint(ctx: DecoderContext, p: JsonObject, path: string, v: MetricsVisitor): void {
  const pos = p.positive == null ? {} : object(p.positive, `${path}.positive`);
  const neg = p.negative == null ? {} : object(p.negative, `${path}.negative`);
  const [positive, nPositive] = fill(ctx.positive, pos.bucketCounts, `${path}.positive.bucketCounts`, true);
  const [negative, nNegative] = fill(ctx.negative, neg.bucketCounts, `${path}.negative.bucketCounts`, true);
  ctx.positive = positive;
  ctx.negative = negative;
  v.onExponentialHistogramPoint(
    ctx.point,
    nanosMs(p.startTimeUnixNano, `${path}.startTimeUnixNano`),
    nanosMs(p.timeUnixNano, `${path}.timeUnixNano`),
    int64(p.count, `${path}.count`, true),
    double(p.sum, `${path}.sum`, NaN),
    int64(p.scale, `${path}.scale`),
    int64(p.zeroCount, `${path}.zeroCount`, true),
    int64(pos.offset, `${path}.positive.offset`),
    positive,
    nPositive,
    int64(neg.offset, `${path}.negative.offset`),
    negative,
    nNegative,
    double(p.min, `${path}.min`, NaN),
    double(p.max, `${path}.max`, NaN),
    double(p.zeroThreshold, `${path}.zeroThreshold`),
  );
}

function summaryPoint(ctx: DecoderContext, p: JsonObject, path: string, v: MetricsVisitor): void {
  const items = list(p.quantileValues, `${path}.quantileValues`);
  if (items.length * 2 > ctx.quantiles.length) ctx.quantiles = grown(ctx.quantiles, items.length * 2);
  for (let i = 0; i < items.length; i++) {
    const at = `${path}.quantileValues[${i}]`;
    const q = object(items[i], at);
    ctx.quantiles[2 * i] = double(q.quantile, `${at}.quantile`);
    ctx.quantiles[2 * i + 1] = double(q.value, `${at}.value`);
  }
  v.onSummaryPoint(
    ctx.point,
    nanosMs(p.startTimeUnixNano, `${path}.startTimeUnixNano`),
    nanosMs(p.timeUnixNano, `${path}.timeUnixNano`),
    int64(p.count, `${path}.count`, true),
    double(p.sum, `${path}.sum`),
    ctx.quantiles,
    items.length,
  );
}

type PointReader = (ctx: DecoderContext, p: JsonObject, path: string, v: MetricsVisitor) => void;
const POINT_READER: readonly PointReader[] = [numberPoint, numberPoint, numberPoint, histogramPoint, exponentialPoint, summaryPoint];

function metric(ctx: DecoderContext, m: JsonObject, path: string, v: MetricsVisitor): void {
  let field: string | undefined;
  for (const key of Object.keys(m)) {
    if (!(key in DATA_FIELDS) || m[key] === null) continue;
    if (field !== undefined) throw new JsonDecodeError(`both ${field} and ${key} are set`, path);
    field = key;
  }
  if (field === undefined) return;
  const type = DATA_FIELDS[field] as MetricType;
  const dataPath = `${path}.${field}`;
  const data = object(m[field], dataPath);
  const info = ctx.metric;
  info.name = interned(ctx, string(m.name, `${path}.name`));
  info.unit = interned(ctx, string(m.unit, `${path}.unit`));
  info.type = type;
  const hasTemporality = type === MetricType.SUM || type === MetricType.HISTOGRAM || type === MetricType.EXPONENTIAL_HISTOGRAM;
  info.temporality = hasTemporality ? temporality(data.aggregationTemporality, `${dataPath}.aggregationTemporality`) : 0;
  info.monotonic = type === MetricType.SUM && bool(data.isMonotonic, `${dataPath}.isMonotonic`);
  const points = list(data.dataPoints, `${dataPath}.dataPoints`);
  ctx.stats.metrics++;
  if (v.onMetric(info) === false) return;
  const readPoint = POINT_READER[type] as PointReader;
  for (let i = 0; i < points.length; i++) {
    const at = `${dataPath}.dataPoints[${i}]`;
    const p = object(points[i], at);
    ctx.point.reset();
    addJsonAttributes(ctx.point, p.attributes, `${at}.attributes`);
    ctx.point.finish();
    readPoint(ctx, p, at, v);
    ctx.stats.points++;
  }
}

/** Decodes with a given context (OtlpMetricsDecoder.decodeJson uses its own). */
export function decodeMetricsJsonWith(ctx: DecoderContext, input: Uint8Array | string, v: MetricsVisitor): DecodeStats {
  const stats = ctx.resetStats();
  let root: unknown;
  try {
    root = JSON.parse(typeof input === 'string' ? input : utf8.decode(input));
  } catch (e) {
    throw new JsonDecodeError(`not valid JSON: ${e instanceof Error ? e.message : String(e)}`, '');
  }
  const request = object(root, '');
  const resources = list(request.resourceMetrics, 'resourceMetrics');
  for (let i = 0; i < resources.length; i++) {
    const path = `resourceMetrics[${i}]`;
    const rm = object(resources[i], path);
    const attrs = ctx.resource;
    attrs.reset();
    if (rm.resource != null) addJsonAttributes(attrs, object(rm.resource, `${path}.resource`).attributes, `${path}.resource.attributes`);
    attrs.finish();
    stats.resources++;
    if (v.onResource(attrs) === false) continue;
    const scopes = list(rm.scopeMetrics, `${path}.scopeMetrics`);
    for (let j = 0; j < scopes.length; j++) {
      const scopePath = `${path}.scopeMetrics[${j}]`;
      const metrics = list(object(scopes[j], scopePath).metrics, `${scopePath}.metrics`);
      for (let k = 0; k < metrics.length; k++) {
        const at = `${scopePath}.metrics[${k}]`;
        metric(ctx, object(metrics[k], at), at, v);
      }
    }
  }
  return stats;
}

const contexts = new WeakMap<readonly string[], DecoderContext>();

/**
 * Decodes one otlp_json payload into `visitor` calls. Calls passing the same `extractKeys` array
 * (the same array object, as a processor holding its configuration does, even inside a fresh
 * options literal) share one context: intern table, scratch buffers and the returned stats
 * object, so interned strings stay identical across calls and nothing is rebuilt per payload;
 * the first call's intern bounds apply. OtlpMetricsDecoder.decodeJson does the same with the
 * protobuf decoder's own context, which also makes its strings the protobuf path's.
 */
export function decodeMetricsJson(bytes: Uint8Array | string, visitor: MetricsVisitor, options: MetricsDecoderOptions): DecodeStats {
  let ctx = contexts.get(options.extractKeys);
  if (!ctx) {
    ctx = new DecoderContext(options);
    contexts.set(options.extractKeys, ctx);
  }
  return decodeMetricsJsonWith(ctx, bytes, visitor);
}
