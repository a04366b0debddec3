/**
 * The contract of the streaming OTLP metrics decoder: it walks one ExportMetricsServiceRequest
 * and calls a visitor per resource, metric and data point, allocating nothing per point. Values
 * handed to the visitor (typed-array views, attribute sets) are valid only during the call:
 * a visitor copies what it keeps.
 */

/** Metric data kinds as small integers, for the hot path. */
export const MetricType = { GAUGE: 1, SUM: 2, HISTOGRAM: 3, EXPONENTIAL_HISTOGRAM: 4, SUMMARY: 5 } as const;
export type MetricType = (typeof MetricType)[keyof typeof MetricType];

/**
 * The attributes of the current resource or data point, read in one pass over their bytes.
 * Only the keys the decoder was configured to extract are decoded into strings (interned, so
 * the same value is the same string object each time); the rest only feed the hash.
 */
export interface AttributeSet {
  /** Number of attributes. */
  readonly count: number;
  /**
   * Two 32-bit lanes (unsigned, 0 .. 2^32-1) of a hash over every key/value pair, combined
   * order-independently: equal sets hash equal whatever order the producer wrote them in, and
   * whichever encoding (otlp_proto or otlp_json) carried them. The value's type is part of the
   * hash (int 1, double 1 and string "1" differ). The empty set hashes to (0, 0).
   */
  readonly hashHi: number;
  readonly hashLo: number;
  /**
   * The value of the extract key at `slot` (its index in the decoder's `extractKeys`) as a
   * string, or undefined when the key is absent or has no value set. Strings as they are, ints
   * in exact decimal (also beyond 2^53), bools as true/false, doubles as String(d), bytes as
   * base64, arrays and key-value lists as JSON text. The same value yields the same (interned)
   * string object. When a key occurs twice, the last occurrence wins.
   */
  value(slot: number): string | undefined;
}

/** Description of the metric whose points follow. */
export interface MetricInfo {
  /** Interned metric name. */
  readonly name: string;
  /** Interned unit. */
  readonly unit: string;
  readonly type: MetricType;
  /** 0 unspecified, 1 delta, 2 cumulative (gauges and summaries: 0). */
  readonly temporality: 0 | 1 | 2;
  readonly monotonic: boolean;
}

/** Receives what the decoder reads. Return false from onResource/onMetric to skip their content. */
export interface MetricsVisitor {
  /**
   * A resource begins (once per ResourceMetrics, with an empty set when it has no resource);
   * its attributes stay readable until the next onResource. Returning false skips its metrics.
   */
  onResource(resource: AttributeSet): boolean | void;
  /**
   * A metric begins, with complete info (name, unit, temporality, monotonic) even when the
   * producer wrote those after the points. Only metrics carrying a data field are visited. Its
   * MetricInfo object is reused across calls: copy fields you keep. Returning false skips its
   * points.
   */
  onMetric(metric: MetricInfo): boolean | void;
  /**
   * Gauge or sum point. Times are Unix milliseconds with a fraction (ns / 1e6, within ~0.25 µs),
   * 0 when absent. `value` is as_double, or as_int converted to a number (exact below 2^53).
   */
  onNumberPoint(attrs: AttributeSet, startTimeMs: number, timeMs: number, value: number): void;
  /**
   * Histogram point. `bounds` and `counts` are reused buffers, usually longer than needed: read
   * the first `bucketCount - 1` bounds and `bucketCount` counts. bucketCount is 0 when the point
   * carries no buckets (a payload whose counts and bounds disagree is rejected instead). `sum`,
   * `min` and `max` are NaN when absent.
   */
  onHistogramPoint(
    attrs: AttributeSet,
    startTimeMs: number,
    timeMs: number,
    count: number,
    sum: number,
    bounds: Float64Array,
    counts: Float64Array,
    bucketCount: number,
    min: number,
    max: number,
  ): void;
  /**
   * Exponential histogram point; `positive`/`negative` are reused buffers whose first
   * nPositive/nNegative entries are the bucket counts. `sum`, `min` and `max` are NaN when
   * absent. min, max and zeroThreshold are trailing parameters, so a visitor that does not need
   * them can leave them out.
   */
  onExponentialHistogramPoint(
    attrs: AttributeSet,
    startTimeMs: number,
    timeMs: number,
    count: number,
    sum: number,
    scale: number,
    zeroCount: number,
    positiveOffset: number,
    positive: Float64Array,
    nPositive: number,
    negativeOffset: number,
    negative: Float64Array,
    nNegative: number,
    min: number,
    max: number,
    zeroThreshold: number,
  ): void;
  /** Summary point; the first 2 * nQuantiles entries of `quantiles` are (quantile, value) pairs. */
  onSummaryPoint(attrs: AttributeSet, startTimeMs: number, timeMs: number, count: number, sum: number, quantiles: Float64Array, nQuantiles: number): void;
}
