/**
 * What the SLO engine reports (engine.ts): alert tiers and their transitions, and the figures of
 * its windows and period ({@link SloSnapshot}).
 */
import { standardWindowsMs } from './burn-rates.js';

/** Alert tiers: the burn-rate tiers and the exhausted budget. */
export type AlertTier = 'page' | 'ticket' | 'budget';

/** A tier starting or stopping to fire, as {@link SloEngine.evaluate} reports it. */
export interface AlertTransition {
  readonly tier: AlertTier;
  /** Index in {@link SloEngine.rules} of the deciding rule; -1 for the budget tier. */
  readonly rule: number;
  readonly state: 'firing' | 'resolved';
  /** The deciding rule's windows and factor; budget: the period's length (both), factor 1. */
  readonly longMs: number;
  readonly shortMs: number;
  readonly factor: number;
  /** Burn rates over the two windows; budget: the period's burn rate (both). */
  readonly longBurn: number;
  readonly shortBurn: number;
  readonly budgetRemaining: number;
  /** Share of the period the figures cover (PeriodStats.observedShare). */
  readonly observedShare: number;
  readonly projectedExhaustionMs: number | null;
  /** The engine's now: end of the newest bucket. */
  readonly atMs: number;
}

/** Counts and burn rate over one standard window; part of {@link SloSnapshot}. */
export class WindowStats {
  readonly windowMs: number;
  good = 0;
  total = 0;
  /** total − good (never negative). */
  bad = 0;
  /** bad / total; 0 without events. */
  errorRatio = 0;
  /** errorRatio / (1 − objective); 0 without events. */
  burnRate = 0;

  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }
}

/** The SLO period and its error budget; part of {@link SloSnapshot}. */
export class PeriodStats {
  /** Rolling: now − duration; calendar: start of the current period. */
  periodStartMs = Number.NaN;
  /** Rolling: now; calendar: end (exclusive) of the current period. */
  periodEndMs = Number.NaN;
  good = 0;
  total = 0;
  badEvents = 0;
  errorRatio = 0;
  /** Burn rate over the period; budgetRemaining = 1 − burnRate. */
  burnRate = 0;
  /** (1 − objective) × total: bad events the period may have. */
  budgetEvents = 0;
  /** 1 − badEvents / budgetEvents; 1 without events; negative once overspent. */
  budgetRemaining = 1;
  /**
   * Share of the period the figures cover: the time since the engine's first bucket (or since
   * the period start, if later) over the period's length, at most 1. A fresh start covers little.
   */
  observedShare = 0;
  /**
   * When the remaining budget runs out at the current 1h bad-event rate (budgetEvents held
   * fixed): now + (budgetEvents − badEvents) × 1h / bad(1h). Now when budgetRemaining ≤ 0; null
   * when the period has no events or no bad event happened in the last hour.
   */
  projectedExhaustionMs: number | null = null;
}

/** What {@link SloEngine.snapshot} fills in; reuse one instance. */
export class SloSnapshot {
  /** End of the newest bucket (NaN before the first). */
  nowMs = Number.NaN;
  /** Buckets dropped for coming later than the engine's horizon. */
  late = 0;
  /** One per {@link standardWindowsMs}, same order. */
  readonly windows: WindowStats[] = standardWindowsMs.map((ms) => new WindowStats(ms));
  readonly period = new PeriodStats();
}

