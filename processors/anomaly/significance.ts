import type { SignalValue } from '../../schemas/signal-values.js';
import type { SignalMetric } from './config.js';

/**
 * Practical significance: whether a deviation is big enough to matter, whatever its score. A
 * detector's band adapts to a series' own noise, so on a very steady series it becomes narrow
 * enough that a move nobody would act on scores high. Here a deviation |actual - expected| must
 * reach a floor that is the largest of
 * - the signal's own resolution, which says how far its value can move by chance or by the way
 *   it is measured (see {@link resolutionFloor}),
 * - `relative` times |expected|, and
 * - `absolute`,
 * with `relative` and `absolute` set per metric kind.
 */

/** How a metric is measured, which decides its resolution and its minimums. */
export type MetricKind = 'rate' | 'ratio' | 'quantile' | 'value';

/** The kind of each signal value the stage can watch. */
export function metricKind(metric: SignalMetric): MetricKind {
  switch (metric) {
    case 'rate':
    case 'count':
      return 'rate';
    case 'errorRatio':
      return 'ratio';
    case 'p50':
    case 'p95':
    case 'p99':
      return 'quantile';
    default:
      return 'value';
  }
}

const QUANTILE_OF: Partial<Record<SignalMetric, number>> = { p50: 0.5, p95: 0.95, p99: 0.99 };

/** Minimum deviation of one metric kind: the larger of relative * |expected| and absolute. */
export interface SignificanceMinimum {
  readonly relative: number;
  readonly absolute: number;
}

/** The significance settings (the stage's `significance:` section). */
export interface SignificanceConfig {
  /** Standard deviations of counting noise (rates, ratios, the rank of a quantile) a move must exceed. */
  readonly noiseSigmas: number;
  readonly rate: SignificanceMinimum;
  readonly ratio: SignificanceMinimum;
  readonly quantile: SignificanceMinimum;
  readonly value: SignificanceMinimum;
}

/**
 * The q-quantile of a histogram, interpolated within its bucket as evaluate computes p50/p95/p99
 * (processors/evaluate/quantile.ts); `total` is the sum of counts (> 0). Allocation-free.
 */
function quantileAt(q: number, bounds: readonly number[], counts: readonly number[], total: number): number {
  const rank = q * total;
  let cumulative = 0;
  for (let i = 0; i < counts.length; i++) {
    const inBucket = counts[i] as number;
    if (cumulative + inBucket >= rank && inBucket > 0) {
      if (i === bounds.length) return bounds[bounds.length - 1] as number;
      const upper = bounds[i] as number;
      const lower = i === 0 ? Math.min(0, upper) : (bounds[i - 1] as number);
      return lower + ((upper - lower) * (rank - cumulative)) / inBucket;
    }
    cumulative += inBucket;
  }
  return bounds[bounds.length - 1] as number;
}

/**
 * Width of the histogram bucket that holds `x` (the overflow bucket, and anything past the last
 * bound, count as wide as the last finite bucket: the value is saturated there).
 */
export function bucketWidthAt(x: number, bounds: readonly number[]): number {
  const n = bounds.length;
  if (n === 0 || !Number.isFinite(x)) return 0;
  for (let i = 0; i < n; i++) {
    const upper = bounds[i] as number;
    if (x <= upper) return upper - (i === 0 ? Math.min(0, upper) : (bounds[i - 1] as number));
  }
  return n === 1 ? (bounds[0] as number) : (bounds[n - 1] as number) - (bounds[n - 2] as number);
}

/**
 * The smallest meaningful move of a signal value, from how it is measured:
 * - a quantile interpolated inside a histogram bucket: half the width of the bucket it (or the
 *   expected value) falls in, since inside one bucket interpolation only spreads the rank
 *   linearly; and the spread of the quantile over its rank's counting noise, q +/- noiseSigmas *
 *   sqrt(q (1 - q) / N), halved (on a route with 15 requests a bucket one slow request sets the p95);
 * - a rate or count from N events (N = the larger of the expected and the observed count):
 *   noiseSigmas * sqrt(N) events, per second for a rate;
 * - an error ratio from N requests: noiseSigmas * sqrt(p (1 - p) / N), p the larger of the
 *   expected and the observed ratio (binomial noise);
 * - other values (mean, min, max): 0 (only the configured minimums apply).
 * Infinity when the bucket has no events to judge a ratio or quantile by.
 */
export function resolutionFloor(metric: SignalMetric, value: Readonly<SignalValue>, expected: number, actual: number, noiseSigmas: number): number {
  const kind = metricKind(metric);
  if (kind === 'rate') {
    const seconds = value.bucketMs / 1000;
    const perEvent = metric === 'rate' ? 1 / seconds : 1;
    const expectedCount = Number.isFinite(expected) ? Math.max(0, expected) / perEvent : 0;
    const n = Math.max(expectedCount, value.count, 1);
    return noiseSigmas * Math.sqrt(n) * perEvent;
  }
  if (kind === 'ratio') {
    const n = value.count;
    if (!(n > 0)) return Number.POSITIVE_INFINITY;
    const p = Math.min(1, Math.max(0, Number.isFinite(expected) ? expected : 0, actual));
    return noiseSigmas * Math.sqrt((p * (1 - p)) / n);
  }
  if (kind === 'quantile') {
    const q = QUANTILE_OF[metric] as number;
    const { bounds, bucketCounts } = value;
    if (bounds.length === 0 || bucketCounts.length !== bounds.length + 1) return 0;
    let total = 0;
    for (let i = 0; i < bucketCounts.length; i++) total += bucketCounts[i] as number;
    if (!(total > 0)) return Number.POSITIVE_INFINITY;
    const width = Math.max(bucketWidthAt(actual, bounds), bucketWidthAt(expected, bounds));
    const d = noiseSigmas * Math.sqrt((q * (1 - q)) / total);
    const spread = quantileAt(Math.min(1, q + d), bounds, bucketCounts, total) - quantileAt(Math.max(0, q - d), bounds, bucketCounts, total);
    return 0.5 * Math.max(width, spread);
  }
  return 0;
}

/** The floor a deviation must reach: the resolution, and the kind's relative and absolute minimums. */
export function significanceFloor(metric: SignalMetric, value: Readonly<SignalValue>, expected: number, actual: number, config: SignificanceConfig): number {
  const min = config[metricKind(metric)];
  const relative = Number.isFinite(expected) ? min.relative * Math.abs(expected) : 0;
  return Math.max(resolutionFloor(metric, value, expected, actual, config.noiseSigmas), relative, min.absolute);
}

/** Severity thresholds (the stage's `severity:` section). */
export interface SeverityConfig {
  /** Deviation in significance floors from which an event is a warning. */
  readonly warning: number;
  /** Deviation in significance floors from which an event is critical. */
  readonly critical: number;
  /** Points an event must have lasted before a critical deviation makes it critical (a deviation of twice `critical` needs no wait). */
  readonly sustainedPoints: number;
  /** Requests (count) per bucket below which an event of a request-based metric is at most a warning. */
  readonly minRequests: number;
}

/**
 * Severity from impact: how far beyond the floor (`magnitude`, the deviation in significance
 * floors), for how long (`points` since the event opened) and on how much traffic (`requests`
 * in the bucket; NaN when the metric is not request-based). info below `warning` floors;
 * warning from there; critical from `critical` floors once sustained for `sustainedPoints`
 * points (at once from twice that), on at least `minRequests` requests.
 */
export function impactSeverity(magnitude: number, points: number, requests: number, config: SeverityConfig): 'info' | 'warning' | 'critical' {
  if (!(magnitude >= config.warning)) return 'info';
  const enoughTraffic = Number.isNaN(requests) || requests >= config.minRequests;
  if (enoughTraffic && magnitude >= config.critical && (points >= config.sustainedPoints || magnitude >= 2 * config.critical)) return 'critical';
  return 'warning';
}
