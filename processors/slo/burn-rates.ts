/**
 * The multiwindow burn-rate alert rules of an SLO period, shared by the stream engine and the
 * exported Prometheus rules so both alert alike.
 *
 * The SRE Workbook's four rules for 30 days: page when 2% of the budget burns in 1h (checked
 * with 5m) or 5% in 6h (with 30m); ticket when 10% burns in 1d (with 2h) or 10% in 3d (with 6h):
 * factors 14.4, 6, 3 and 1. A rule's factor is budget share × period / long window.
 *
 * Periods of 30 days or more keep these windows (factors grow with the period: 90 days gives
 * 43.2, 18, 9, 3). Shorter periods scale the windows by period / 30 days, as the Workbook does,
 * so the factors stay near the 30-day ones; windows are then snapped to the nearest window the
 * engine keeps (5m, 30m, 1h, 2h, 6h, 1d, 3d; nearest on a log scale), the short window kept
 * shorter than the long one where there is one, and the factor recomputed for the snapped long
 * window. **No rule fires below a burn rate of 1**: a burn rate below 1 cannot exhaust the budget
 * within the period, so a rule whose factor would be below 1 takes the next shorter long window
 * (a higher factor) instead, and a rule left with the long window of an earlier rule of its tier
 * is dropped. Examples: 28 days gives page 13.44 (1h/5m), 5.6 (6h/30m), ticket 2.8 (1d/2h);
 * 7 days gives page 6.72 (30m/5m), 8.4 (1h/5m), ticket 2.8 (6h/30m); 1 hour gives
 * ticket 1.2 (5m/5m) only. A period under 50 minutes (`minPeriodMs`) has no rule at all: even 10%
 * of its budget in the shortest window, 5 minutes, is a burn rate below 1; the parser rejects it.
 */

import type { AlertWindow } from './types.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const REFERENCE_MS = 30 * DAY;

/** The windows the engine keeps: 5m, 30m, 1h, 2h, 6h, 1d, 3d (shortest first), in ms. */
export const standardWindowsMs: readonly number[] = Object.freeze([5 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 6 * HOUR, DAY, 3 * DAY]);

/** One multiwindow alert: fires when the burn rate over BOTH windows reaches factor. */
export interface BurnAlertRule {
  readonly tier: 'page' | 'ticket';
  readonly longMs: number;
  readonly shortMs: number;
  /** Burn rate both windows must reach: budgetShare × period / longMs, never below 1. */
  readonly factor: number;
  /** Share of the period's error budget spent over `longMs` at that burn rate. */
  readonly budgetShare: number;
}

/** The Workbook's rules with the budget share in percent (kept integral so factors divide exactly). */
const WORKBOOK_RULES: readonly { tier: 'page' | 'ticket'; longMs: number; shortMs: number; percent: number }[] = [
  { tier: 'page', longMs: HOUR, shortMs: 5 * MINUTE, percent: 2 },
  { tier: 'page', longMs: 6 * HOUR, shortMs: 30 * MINUTE, percent: 5 },
  { tier: 'ticket', longMs: DAY, shortMs: 2 * HOUR, percent: 10 },
  { tier: 'ticket', longMs: 3 * DAY, shortMs: 6 * HOUR, percent: 10 },
];

/** Shortest period with at least one rule: 10% of the budget in the 5-minute window at a burn rate of 1. */
export const minPeriodMs = (5 * MINUTE * 100) / 10;

/** Index of the standard window nearest to `ms` on a log scale (ties to the shorter). */
function nearest(ms: number): number {
  let best = 0;
  for (let i = 1; i < standardWindowsMs.length; i++) {
    if (Math.abs(Math.log((standardWindowsMs[i] as number) / ms)) < Math.abs(Math.log((standardWindowsMs[best] as number) / ms))) best = i;
  }
  return best;
}

/**
 * The alert rules for a period (see the module comment). `page` and `ticket` (default true)
 * leave a tier's rules out; order: page rules, then ticket rules, each in the Workbook's order.
 */
export function burnAlertRules(periodMs: number, options: { page?: boolean; ticket?: boolean } = {}): BurnAlertRule[] {
  if (!(periodMs > 0 && periodMs < Number.POSITIVE_INFINITY)) throw new RangeError(`period must be positive and finite, got ${periodMs}`);
  const page = options.page ?? true;
  const ticket = options.ticket ?? true;
  const scale = Math.min(1, periodMs / REFERENCE_MS);
  const out: BurnAlertRule[] = [];
  for (const r of WORKBOOK_RULES) {
    if (!(r.tier === 'page' ? page : ticket)) continue;
    let long = scale === 1 ? standardWindowsMs.indexOf(r.longMs) : nearest(r.longMs * scale);
    // Never below 1x: a shorter long window raises the factor.
    const factorOf = (i: number): number => (r.percent * periodMs) / (100 * (standardWindowsMs[i] as number));
    while (long > 0 && factorOf(long) < 1) long--;
    if (factorOf(long) < 1) continue;
    let short = scale === 1 ? standardWindowsMs.indexOf(r.shortMs) : nearest(r.shortMs * scale);
    if (short >= long) short = Math.max(0, long - 1);
    const longMs = standardWindowsMs[long] as number;
    const shortMs = standardWindowsMs[short] as number;
    if (out.some((o) => o.tier === r.tier && o.longMs === longMs)) continue;
    out.push(Object.freeze({ tier: r.tier, longMs, shortMs, factor: factorOf(long), budgetShare: r.percent / 100 }));
  }
  return out;
}

/**
 * The rules of an SLO: its custom windows (Sloth's AlertWindows; factor = share × period / long
 * window, validated by the parser to be at least 1) or the catalogue above; tiers left out as
 * `page` / `ticket` say.
 */
export function sloAlertRules(periodMs: number, alerting: { readonly page: boolean; readonly ticket: boolean; readonly windows?: readonly AlertWindow[] }): BurnAlertRule[] {
  if (!alerting.windows) return burnAlertRules(periodMs, { page: alerting.page, ticket: alerting.ticket });
  return alerting.windows
    .filter((w) => (w.tier === 'page' ? alerting.page : alerting.ticket))
    .map((w) => Object.freeze({ tier: w.tier, longMs: w.longMs, shortMs: w.shortMs, factor: (w.budgetShare * periodMs) / w.longMs, budgetShare: w.budgetShare }));
}
