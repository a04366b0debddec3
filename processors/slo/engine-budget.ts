/**
 * The SLO period's budget as the engine reports it: counts, burn rate, budget left, projected
 * exhaustion and the share of the period observed (the fresh-start rule's measure).
 */
import { EngineWindows } from './engine-windows.js';
import { HOUR, MODE_CALENDAR, MODE_ROLLING_FINE } from './engine-rings.js';
import type { PeriodStats } from './engine-stats.js';

/**
 * The fresh-start rule: the budget tier fires only once this share of the period has been
 * observed (3 days of 30), so a platform that has just started, having seen a few minutes of a
 * 30-day period, does not call the budget exhausted. Burn-rate tiers are not held back: their
 * windows are short and their factors already say what the period can afford.
 */
export const BUDGET_MIN_OBSERVED_SHARE = 0.1;
/** The engine with the period's budget. */
export class EngineBudget extends EngineWindows {
  /** Fills `out` with the period's counts and budget. */
  protected period(out: PeriodStats): PeriodStats {
    const now = this.nowMs;
    let good: number;
    let total: number;
    if (this.mode === MODE_ROLLING_FINE) {
      const j = this.lens.length - 1;
      good = this.goodSum[j] as number;
      total = this.totalSum[j] as number;
    } else {
      good = this.pGood;
      total = this.pTotal;
    }
    if (this.mode === MODE_CALENDAR) {
      out.periodStartMs = this.started ? this.pStart : Number.NaN;
      out.periodEndMs = this.started ? this.pEnd : Number.NaN;
    } else {
      out.periodStartMs = now - this.durationMs;
      out.periodEndMs = now;
    }
    const bad = total > good ? total - good : 0;
    const budgetEvents = this.errorBudget * total;
    out.good = good;
    out.total = total;
    out.badEvents = bad;
    out.errorRatio = total > 0 ? bad / total : 0;
    out.burnRate = total > 0 ? bad / budgetEvents : 0;
    out.budgetEvents = budgetEvents;
    out.budgetRemaining = total > 0 ? 1 - out.burnRate : 1;
    const length = this.mode === MODE_CALENDAR ? out.periodEndMs - out.periodStartMs : this.durationMs;
    const from = this.mode === MODE_CALENDAR ? Math.max(out.periodStartMs, this.firstMs) : Math.max(now - this.durationMs, this.firstMs);
    out.observedShare = this.started && length > 0 ? Math.min(1, Math.max(0, (now - from) / length)) : 0;
    // Bad events of the last hour (standard window 2).
    const hourBad = Math.max(0, (this.totalSum[2] as number) - (this.goodSum[2] as number));
    if (total > 0 && out.budgetRemaining <= 0) out.projectedExhaustionMs = now;
    // Whole milliseconds: the event's projected_exhaustion is an Avro long.
    else if (total > 0 && hourBad > 0 && (this.totalSum[2] as number) > 0) out.projectedExhaustionMs = now + Math.round(((budgetEvents - bad) * HOUR) / hourBad);
    else out.projectedExhaustionMs = null;
    return out;
  }
}
