import type { SignalRule } from '../ingest/config.js';
import type { SignalValue } from '../../schemas/signal-values.js';
import type { Sli, SloSpec } from './types.js';

/** Prefix of the ingest rules that feed SLOs: rule `slo.<name>` yields the signal of SLO `<name>`. */
export const sloRulePrefix = 'slo.';

/** A group-by attribute no point carries: every series of such a rule is one signal. */
export const sloOneSignal = 'aiops.slo';

/**
 * The ingest rule of each SLO: the SLI's metric, filtered by its selector and matchers, so every
 * SLO is exactly one signal (one key, one evaluate partition) however many instances, routes and
 * ingest partitions feed it: grouped by service.name when the selector names one service,
 * otherwise by an attribute no point has. An SLI written in PromQL is matched by the Prometheus
 * name of the OTLP metric (`prometheusName`); a bad-events matcher classifies the series.
 */
export function sloIngestRules(specs: readonly SloSpec[]): SignalRule[] {
  return specs.map((spec) => {
    const sli = spec.sli;
    const services = sli.selector['service.name'];
    return {
      name: `${sloRulePrefix}${spec.name}`,
      metric: sli.prometheusName ?? sli.metric,
      ...(sli.prometheusName !== undefined ? { prometheusName: sli.prometheusName } : {}),
      kind: 'http',
      groupBy: [services?.length === 1 ? 'service.name' : sloOneSignal],
      statusAttribute: sli.statusAttribute,
      filter: Object.fromEntries(Object.entries(sli.selector).map(([k, v]) => [k, [...v]])),
      ...(sli.matchers && sli.matchers.length > 0 ? { matchers: sli.matchers.map((m) => ({ ...m })) } : {}),
      ...(sli.kind === 'availability' && sli.badMatcher ? { badWhen: { ...sli.badMatcher } } : {}),
    };
  });
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
