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
   * Two 32-bit lanes of a hash over every key/value pair, combined order-independently: equal
   * sets hash equal whatever order the producer wrote them in.
   */
  readonly hashHi: number;
  readonly hashLo: number;
  /**
   * The value of the extract key at `slot` (its index in the decoder's `extractKeys`) as a
   * string, or undefined when absent. Ints render as decimal, bools as true/false, doubles as
   * JavaScript renders them; arrays, maps and bytes as JSON.
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
  /** A resource begins; its attributes stay readable until the next onResource. */
  onResource(resource: AttributeSet): boolean | void;
  /** A metric begins (its MetricInfo object is reused across calls: copy fields you keep). */
  onMetric(metric: MetricInfo): boolean | void;
  /** Gauge or sum point. Times are Unix milliseconds with a fraction (ns / 1e6). */
  onNumberPoint(attrs: AttributeSet, startTimeMs: number, timeMs: number, value: number): void;
  /**
   * Histogram point. `bounds` holds `bucketCount - 1` explicit bounds, `counts` holds
   * `bucketCount` counts; both are views over reused buffers. `sum`, `min` and `max` are NaN
   * when absent.
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
  /** Exponential histogram point; `positive`/`negative` counts are views of length nPositive/nNegative. */
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
  ): void;
  /** Summary point; `quantiles` holds nQuantiles (quantile, value) pairs, flattened. */
  onSummaryPoint(attrs: AttributeSet, startTimeMs: number, timeMs: number, count: number, sum: number, quantiles: Float64Array, nQuantiles: number): void;
}
