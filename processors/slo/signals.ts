import type { SignalRule } from '../ingest/config.js';
import type { SignalValue } from '../../schemas/signal-values.js';
import type { Sli, SloSpec } from './types.js';

/** Prefix of the ingest rules that feed SLOs: rule `slo.<name>` yields the signal of SLO `<name>`. */
export const sloRulePrefix = 'slo.';

/**
 * The ingest rule of each SLO: the SLI's metric, filtered by its selector, grouped by service
 * only, so every SLO is exactly one signal (one key, one evaluate partition) however many
 * instances, routes and ingest partitions feed it.
 */
export function sloIngestRules(specs: readonly SloSpec[]): SignalRule[] {
  return specs.map((spec) => ({
    name: `${sloRulePrefix}${spec.name}`,
    metric: spec.sli.metric,
    kind: 'http',
    groupBy: ['service.name'],
    statusAttribute: spec.sli.statusAttribute,
    filter: Object.fromEntries(Object.entries(spec.sli.selector).map(([k, v]) => [k, [...v]])),
  }));
}

/** The SLO name of a signal value's rule, or undefined when it does not feed an SLO. */
export function sloNameOf(rule: string): string | undefined {
  return rule.startsWith(sloRulePrefix) ? rule.slice(sloRulePrefix.length) : undefined;
}

/**
 * Requests at or below `threshold` seconds from explicit-bucket histogram counts (bucket i holds
 * (bounds[i-1], bounds[i]], the first starts at 0, the last is the overflow above the last
 * bound). Within the bucket that holds the threshold the requests are taken as spread evenly, as
 * Prometheus' histogram_quantile assumes, so the bucket contributes
 * count * (threshold - lower) / (upper - lower). Requests in the overflow bucket are never
 * counted as good: their durations are unknown beyond the last bound.
 */
export function countAtOrBelow(threshold: number, bounds: readonly number[], bucketCounts: readonly number[]): number {
  let good = 0;
  for (let i = 0; i < bounds.length; i++) {
    const upper = bounds[i] as number;
    const count = bucketCounts[i] ?? 0;
    if (threshold >= upper) {
      good += count;
      continue;
    }
    const lower = i === 0 ? 0 : (bounds[i - 1] as number);
    if (threshold > lower && upper > lower) good += (count * (threshold - lower)) / (upper - lower);
    break;
  }
  return good;
}

/** Good and total events of one closed bucket of an SLO's signal. */
export function goodAndTotal(sli: Sli, value: Readonly<SignalValue>): { good: number; total: number } {
  const total = value.count;
  if (sli.kind === 'availability') {
    let bad = 0;
    for (const c of sli.badClasses) bad += value.statusClasses[c] ?? 0;
    return { good: Math.max(0, total - bad), total };
  }
  return { good: Math.min(total, countAtOrBelow(sli.thresholdSeconds, value.bounds, value.bucketCounts)), total };
}
