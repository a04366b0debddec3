/**
 * Latency SLIs over a Prometheus native histogram (the collector's Prometheus exporter serves an
 * OpenTelemetry exponential histogram as one; so does a client library with native histograms).
 * The PromQL a user writes for them is a fraction of the histogram, not a ratio of two series:
 *
 *     1 - histogram_fraction(0, 0.25, sum(rate(http_server_request_duration_seconds{job="shop"}[{{.window}}])))
 *     histogram_fraction(0.25, +Inf, sum(rate(http_server_request_duration_seconds{job="shop"}[{{.window}}])))
 *
 * Both read as "requests slower than 0.25 s"; the stream reads the same OTLP histogram (its
 * exponential buckets) and the rules query the histogram exactly as written.
 */

import type { Scope } from './model.js';
import { otelMetric, prometheusSeries } from './names.js';
import type { AttributeOverrides } from './names.js';
import type { SliExpression, SliQuery } from './promql.js';
import { operandFromQuery, toSeconds, writtenSelector } from './sli.js';
import type { Draft } from './sli.js';
import { statusAttribute } from './model.js';

/** The histogram_fraction query of a native latency error ratio, and whether it counts good (≤ threshold) or bad requests. */
export function nativeFraction(e: SliExpression): { query: SliQuery; role: 'good' | 'bad' } | undefined {
  if (e.type === 'query' && e.query.histogram?.fn === 'fraction') return { query: e.query, role: 'bad' };
  if (e.type === 'binary' && e.op === '-' && e.left.type === 'number' && e.left.value === 1 && e.right.type === 'query' && e.right.query.histogram?.fn === 'fraction') {
    return { query: e.right.query, role: 'good' };
  }
  return undefined;
}

/**
 * A latency draft from `1 - histogram_fraction(0, T, q)` (good: at most T) or
 * `histogram_fraction(T, +Inf, q)` (bad: above T), q a selector of a native histogram.
 */
export function nativeLatencyDraft(s: Scope, fraction: { query: SliQuery; role: 'good' | 'bad' }, path: string, overrides: AttributeOverrides = {}): Draft | undefined {
  const { query, role } = fraction;
  const f = query.histogram;
  if (f?.fn !== 'fraction') return s.fail(path, 'expected histogram_fraction(lower, upper, ...)');
  const threshold = role === 'good' ? f.upper : f.lower;
  if (role === 'good' && !(f.lower <= 0 && Number.isFinite(f.upper) && f.upper > 0)) {
    return s.fail(path, `1 - histogram_fraction(lower, upper, ...) reads requests slower than upper: lower must be 0 (or -Inf) and upper a positive number, got ${f.lower} and ${f.upper}`);
  }
  if (role === 'bad' && !(f.upper === Infinity && Number.isFinite(f.lower) && f.lower > 0)) {
    return s.fail(path, `histogram_fraction(lower, upper, ...) as an error ratio reads requests slower than lower: upper must be +Inf and lower a positive number, got ${f.lower} and ${f.upper}`);
  }
  const plain: SliQuery = { metric: query.metric, matchers: query.matchers };
  const series = prometheusSeries(query.metric);
  const m = otelMetric(query.metric);
  if ('error' in m) return s.fail(path, m.error);
  if (series.part !== 'none') {
    return s.fail(path, `histogram_fraction() reads a native histogram, named without a series suffix (${series.base}), got ${query.metric}; over classic buckets write 1 - (X_bucket{le="T"} / X_count)`);
  }
  const op = operandFromQuery(s, plain, path, overrides);
  if (!op) return undefined;
  if (op.status || op.le !== undefined) return s.fail(path, 'a native-histogram latency SLI counts requests of every status; status and le matchers are not supported here');
  const thresholdSeconds = toSeconds(s, threshold, op.unit, query.metric, path);
  if (thresholdSeconds === undefined) return undefined;
  return {
    kind: 'latency',
    metric: op.metric,
    selector: op.selector,
    thresholdSeconds,
    matchers: op.matchers,
    statusAttribute,
    prometheusName: series.base,
    prom: { total: writtenSelector(plain), nativeThreshold: threshold },
  };
}
