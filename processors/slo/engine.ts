import { burnAlertRules, standardWindowsMs } from './burn-rates.js';
import type { BurnAlertRule } from './burn-rates.js';
import { BUDGET_MIN_OBSERVED_SHARE } from './engine-budget.js';
import { TIERS } from './engine-rings.js';
import { EngineState } from './engine-state.js';
import { PeriodStats, SloSnapshot, WindowStats } from './engine-stats.js';
import type { AlertTier, AlertTransition } from './engine-stats.js';

export { BUDGET_MIN_OBSERVED_SHARE, PeriodStats, SloSnapshot, WindowStats, burnAlertRules, standardWindowsMs };
export type { AlertTier, AlertTransition, BurnAlertRule };

/**
 * Error-budget and burn-rate state of one SLO, fed one closed bucket of (good, total) counts at a
 * time. State is a few typed arrays; `add` allocates nothing.
 *
 * Time. Buckets are `bucketMs` long (a divisor of 5 minutes, so every standard window is whole
 * buckets and every 15-minute slot too). After the newest bucket [s, s + bucketMs), now is
 * s + bucketMs, and a window of length W covers the buckets whose start is in [now − W, now).
 * Skipped buckets count as empty. A late bucket (older than the newest) is added into every
 * window that contains it, as long as its start is at or after now − {@link horizonMs} (3 days
 * and an hour or more, in whole pages); older ones are counted in `late` and dropped.
 *
 * State.
 * - A fine ring of good/total per bucket over the horizon, with running sums per standard
 *   window, updated as buckets enter and leave (a gap clears the skipped slots; one longer than
 *   the ring clears it once). The standard windows are exact: equal to summing the buckets fed
 *   (bit for bit when the counts add up exactly in doubles, e.g. integers; otherwise to
 *   rounding, the sums being recomputed from the ring every 4 window lengths and zeroed when a
 *   window holds no traffic, so drift neither accumulates nor leaves ghosts).
 * - A coarse ring of 15-minute slots over the SLO period, for the budget:
 *   - rolling, at most the fine horizon long: a window of the fine ring, exact;
 *   - rolling, longer: whole 15-minute slots from the one containing now − duration to now,
 *     i.e. exact at the near edge and up to one slot (15 minutes) too long at the far edge;
 *   - calendar: the buckets since the current period's start (the period containing the newest
 *     bucket, so the budget resets when the first bucket of a new period arrives, or when
 *     {@link advanceTo} passes its start), exact, since periods start on slot boundaries (the
 *     anchor must be 15-minute aligned). The alert factors use the nominal period length
 *     (month 30 days, year 365 ...; see nominalPeriodMs), not the current period's length.
 *
 * Burn rate = errorRatio / errorBudget, computed as bad / (total × errorBudget) (0 without
 * events); budgetRemaining = 1 − the period's burn rate.
 *
 * Alerts. {@link evaluate} fires a tier (page, ticket) when any of its rules holds: burn over
 * both windows ≥ factor with at least minEvents events in the long window; it resolves when none
 * does. The budget tier fires when budgetRemaining ≤ 0 with at least minEvents events in the
 * period and at least {@link BUDGET_MIN_OBSERVED_SHARE} of the period observed (the fresh-start
 * rule), and resolves when that no longer holds (e.g. a new calendar period starts).
 *
 * Persistence. Both rings are cut into pages (360 fine buckets, 96 coarse slots) plus a header;
 * see {@link dirtyPages}, {@link writePage}, {@link readPage}, {@link restored}.
 */
export class SloEngine extends EngineState {
  /** Whether a tier is firing. */
  firing(tier: AlertTier): boolean {
    return this.tierState[TIERS.indexOf(tier)] === 1;
  }

  /**
   * Adds one closed bucket starting at `bucketStartMs` (floored to a multiple of bucketMs).
   * Counts must be finite and non-negative; good above total is taken as total (interpolation
   * noise). A newer bucket than any so far moves now forward (skipped buckets are empty). Returns
   * false, counting it in `late`, when the bucket is older than the horizon.
   */
  add(bucketStartMs: number, good: number, total: number): boolean {
    if (!(good >= 0 && total >= 0 && good < Number.POSITIVE_INFINITY && total < Number.POSITIVE_INFINITY && Number.isFinite(bucketStartMs))) {
      throw new RangeError(`bucket needs finite non-negative counts and a finite start, got (${bucketStartMs}, ${good}, ${total})`);
    }
    const b = Math.floor(bucketStartMs / this.bucketMs);
    if (!this.started) this.begin(b);
    if (b > this.clock) this.advance(b);
    else if (b <= this.clock - this.fineSize) {
      this.lateCount++;
      this.headerDirty = true;
      return false;
    }
    this.put(b, good > total ? total : good, total);
    return true;
  }

  /**
   * Moves now forward to `nowMs` (floored to a bucket boundary) without data, as if empty buckets
   * had been added: windows drain and a new calendar period can start. Never moves it back.
   */
  advanceTo(nowMs: number): void {
    if (!Number.isFinite(nowMs)) throw new RangeError(`now must be finite, got ${nowMs}`);
    const to = Math.floor(nowMs / this.bucketMs) - 1;
    if (!this.started) this.begin(to);
    if (to > this.clock) this.advance(to);
  }

  /** Fills `out` (returned) with every standard window and the period's budget. */
  snapshot(out: SloSnapshot = new SloSnapshot()): SloSnapshot {
    out.nowMs = this.nowMs;
    out.late = this.lateCount;
    const eb = this.errorBudget;
    for (let j = 0; j < out.windows.length; j++) {
      const w = out.windows[j] as WindowStats;
      const good = this.goodSum[j] as number;
      const total = this.totalSum[j] as number;
      const bad = total > good ? total - good : 0;
      w.good = good;
      w.total = total;
      w.bad = bad;
      w.errorRatio = total > 0 ? bad / total : 0;
      w.burnRate = total > 0 ? bad / (total * eb) : 0;
    }
    this.period(out.period);
    return out;
  }

  /**
   * Updates the alert state machine from the current sums and pushes the tiers' transitions
   * (page, ticket, budget, in that order) onto `transitions`; returns how many it pushed. Call it
   * after each add or batch of adds. A tier transition names the deciding rule: when firing, the
   * holding rule with the highest long burn relative to its factor; when resolving, the tier's
   * rule with the highest long burn relative to its factor (the closest to still firing).
   * `repeat(tier)`, asked only of a tier that fires and keeps firing, pushes it again as 'firing'.
   */
  evaluate(transitions: AlertTransition[], repeat?: (tier: AlertTier) => boolean): number {
    if (!this.started) return 0;
    const p = this.period(this.scratch);
    const now = this.nowMs;
    let pushed = 0;
    for (let tier = 0; tier < 2; tier++) {
      let holds = false;
      let firing = -1;
      let firingScore = Number.NEGATIVE_INFINITY;
      let any = -1;
      let anyScore = Number.NEGATIVE_INFINITY;
      for (let r = 0; r < this.rules.length; r++) {
        if (this.ruleTier[r] !== tier) continue;
        const rule = this.rules[r] as BurnAlertRule;
        const long = this.ruleLong[r] as number;
        const longBurn = this.burn(long);
        const score = longBurn / rule.factor;
        if (longBurn >= rule.factor && this.burn(this.ruleShort[r] as number) >= rule.factor && (this.totalSum[long] as number) >= this.minEvents) {
          holds = true;
          if (score > firingScore) {
            firing = r;
            firingScore = score;
          }
        }
        if (score > anyScore) {
          any = r;
          anyScore = score;
        }
      }
      // `repeat` asks for a still-firing tier to be pushed again (a heartbeat for the sinks).
      if (any < 0 || (holds === (this.tierState[tier] === 1) && !(holds && repeat?.(TIERS[tier] as AlertTier)))) continue;
      this.tierState[tier] = holds ? 1 : 0;
      this.headerDirty = true;
      const r = holds ? firing : any;
      const rule = this.rules[r] as BurnAlertRule;
      transitions.push({
        tier: TIERS[tier] as AlertTier,
        rule: r,
        state: holds ? 'firing' : 'resolved',
        longMs: rule.longMs,
        shortMs: rule.shortMs,
        factor: rule.factor,
        longBurn: this.burn(this.ruleLong[r] as number),
        shortBurn: this.burn(this.ruleShort[r] as number),
        budgetRemaining: p.budgetRemaining,
        observedShare: p.observedShare,
        projectedExhaustionMs: p.projectedExhaustionMs,
        atMs: now,
      });
      pushed++;
    }
    const exhausted = p.budgetRemaining <= 0 && p.total >= this.minEvents && p.observedShare >= BUDGET_MIN_OBSERVED_SHARE;
    if (exhausted !== (this.tierState[2] === 1) || (exhausted && repeat?.('budget'))) {
      this.tierState[2] = exhausted ? 1 : 0;
      this.headerDirty = true;
      const length = p.periodEndMs - p.periodStartMs;
      transitions.push({
        tier: 'budget',
        rule: -1,
        state: exhausted ? 'firing' : 'resolved',
        longMs: length,
        shortMs: length,
        factor: 1,
        longBurn: p.burnRate,
        shortBurn: p.burnRate,
        budgetRemaining: p.budgetRemaining,
        observedShare: p.observedShare,
        projectedExhaustionMs: p.projectedExhaustionMs,
        atMs: now,
      });
      pushed++;
    }
    return pushed;
  }
}
