/** OTLP metric data as plain objects: the reference shape, for tools, tests and replay. */

/** An attribute value; arrays and key-value lists are kept as JSON-like values. */
export type AttributeValue = string | number | boolean | null | Uint8Array | AttributeValue[] | { [key: string]: AttributeValue };

export type Attributes = Record<string, AttributeValue>;

/** OTLP AggregationTemporality. */
export const Temporality = { UNSPECIFIED: 0, DELTA: 1, CUMULATIVE: 2 } as const;
export type Temporality = (typeof Temporality)[keyof typeof Temporality];

export type MetricKind = 'gauge' | 'sum' | 'histogram' | 'exponentialHistogram' | 'summary';

interface PointBase {
  /** Point attributes. */
  attributes: Attributes;
  /** Start of the cumulative or delta interval, Unix ms (0 when absent). */
  startTimeMs: number;
  /** Observation time, Unix ms. */
  timeMs: number;
  /** Start and observation times in nanoseconds as decimal strings, exact. */
  startTimeUnixNano: string;
  timeUnixNano: string;
  flags: number;
}

export interface NumberPoint extends PointBase {
  value: number;
  /** True when the value was sent as an integer (as_int). */
  isInt: boolean;
}

export interface HistogramPoint extends PointBase {
  count: number;
  sum: number | undefined;
  min: number | undefined;
  max: number | undefined;
  bucketCounts: number[];
  explicitBounds: number[];
}

export interface ExponentialBuckets {
  offset: number;
  bucketCounts: number[];
}

export interface ExponentialHistogramPoint extends PointBase {
  count: number;
  sum: number | undefined;
  min: number | undefined;
  max: number | undefined;
  scale: number;
  zeroCount: number;
  zeroThreshold: number;
  positive: ExponentialBuckets;
  negative: ExponentialBuckets;
}

export interface SummaryPoint extends PointBase {
  count: number;
  sum: number;
  quantiles: { quantile: number; value: number }[];
}

export type Metric = {
  name: string;
  description: string;
  unit: string;
} & (
  | { kind: 'gauge'; points: NumberPoint[] }
  | { kind: 'sum'; temporality: Temporality; monotonic: boolean; points: NumberPoint[] }
  | { kind: 'histogram'; temporality: Temporality; points: HistogramPoint[] }
  | { kind: 'exponentialHistogram'; temporality: Temporality; points: ExponentialHistogramPoint[] }
  | { kind: 'summary'; points: SummaryPoint[] }
  | { kind: 'none'; points: [] }
);

export interface ScopeMetrics {
  scope: { name: string; version: string; attributes: Attributes };
  metrics: Metric[];
}

export interface ResourceMetrics {
  resource: Attributes;
  scopeMetrics: ScopeMetrics[];
}

export interface MetricsRequest {
  resourceMetrics: ResourceMetrics[];
}
