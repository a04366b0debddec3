/**
 * The SLO engine's state layout (see engine.ts for what it computes): the fine ring of buckets
 * and the coarse ring of 15-minute slots, the running sums per window, the rule tables, the
 * clock and cursors, and the page geometry the state is persisted in. The engine is built up in
 * layers, one concern each: this file (layout), engine-windows.ts (window sums),
 * engine-budget.ts (period budget and observed share), engine-state.ts (snapshot to pages and
 * restore), engine.ts (feeding and tier evaluation).
 */
import { sloAlertRules, standardWindowsMs } from './burn-rates.js';
import type { BurnAlertRule } from './burn-rates.js';
import { nominalPeriodMs, periodBounds, periodUpperBoundMs } from './calendar.js';
import { PeriodStats } from './engine-stats.js';
import type { AlertTier } from './engine-stats.js';
import type { SloSpec, SloWindow } from './types.js';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** Coarse slot: 15 minutes. Every IANA offset in use is a multiple of it, so calendar periods start on slot boundaries. */
export const SLOT_MS = 15 * MINUTE;
/** Fine buckets per serialised page, coarse slots per page (one day). */
export const FINE_PAGE = 360;
export const COARSE_PAGE = 96;
/** Fine-ring span beyond the longest window (at least; rounded up to whole pages). */
export const FINE_SLACK_MS = HOUR;
/** A window's running sums are recomputed from the ring every RESYNC of its lengths (bounds float drift). */
export const RESYNC = 4;
/** The rolling coarse period sum is recomputed whenever its far edge passes a multiple of this many slots. */
export const COARSE_RESYNC = 96;
export const HEADER_VERSION = 2;
export const HEADER_BYTES = 48;
/** Version 1 headers (before the first bucket was kept) are read as observed from long ago. */
export const HEADER_V1_BYTES = 40;

export const MODE_ROLLING_FINE = 0;
export const MODE_ROLLING_COARSE = 1;
export const MODE_CALENDAR = 2;
export const TIERS: readonly AlertTier[] = ['page', 'ticket', 'budget'];
export const PAGE_KEY = /^([fc])(0|[1-9][0-9]{0,8})$/;

export function mod(a: number, n: number): number {
  const r = a % n;
  return r < 0 ? r + n : r;
}

/** State and geometry of one SLO engine; the layers above add behaviour. */
export class EngineRings {
  readonly bucketMs: number;
  readonly objective: number;
  /** 1 − objective rounded to 12 significant digits: 99.9% gives exactly 0.001, not 0.0010000000000000009. */
  readonly errorBudget: number;
  readonly minEvents: number;
  readonly window: SloWindow;
  /** Nominal period length the rule factors are scaled to. */
  readonly periodMs: number;
  /** The alert rules, from the spec's page/ticket switches; `rule` in a transition indexes this. */
  readonly rules: readonly BurnAlertRule[];
  /** Late buckets are taken when they start at or after now − horizonMs. */
  readonly horizonMs: number;

  protected readonly fineSize: number;
  protected readonly coarseSize: number;
  protected readonly bucketsPerSlot: number;
  protected readonly mode: number;
  protected readonly durationMs: number;
  /** Window lengths in buckets: the standard windows, plus the period when it is a fine window. */
  protected readonly lens: Int32Array;
  protected readonly goodSum: Float64Array;
  protected readonly totalSum: Float64Array;
  /** Buckets with traffic inside each window: at 0 the sums are set to exactly 0. */
  protected readonly active: Int32Array;
  protected readonly fineGood: Float64Array;
  protected readonly fineTotal: Float64Array;
  protected readonly coarseGood: Float64Array;
  protected readonly coarseTotal: Float64Array;
  protected readonly fineDirty: Uint8Array;
  protected readonly coarseDirty: Uint8Array;
  protected headerDirty = false;
  protected readonly ruleTier: Uint8Array;
  protected readonly ruleLong: Uint8Array;
  protected readonly ruleShort: Uint8Array;
  protected readonly tierState = new Uint8Array(3);
  protected started = false;
  /** Start of the first bucket ever added (−Infinity for state restored from a version 1 header). */
  protected firstMs = Number.NaN;
  /** Index (start / bucketMs) of the newest bucket; its fine-ring slot; its coarse slot index and ring slot. */
  protected clock = Number.NaN;
  protected head = 0;
  protected cIndex = 0;
  protected cHead = 0;
  /** Bucket index at which each window's sums are next recomputed: the next multiple of 4 × its length. */
  protected readonly nextResync: Float64Array;
  protected lateCount = 0;
  // Period sums when not a fine window: rolling from coarse slot `farSlot`, calendar from `pStart`.
  protected farSlot = 0;
  protected pGood = 0;
  protected pTotal = 0;
  protected pActive = 0;
  protected pStart = Number.NEGATIVE_INFINITY;
  protected pEnd = Number.NEGATIVE_INFINITY;
  protected readonly scratch = new PeriodStats();

  constructor(spec: Pick<SloSpec, 'objective' | 'window' | 'minEvents' | 'alerting'>, options: { bucketMs: number }) {
    const b = options.bucketMs;
    if (!Number.isInteger(b) || b <= 0 || (5 * MINUTE) % b !== 0) throw new RangeError(`bucketMs must be a positive integer dividing 5 minutes (300000), got ${b}`);
    if (!(spec.objective > 0 && spec.objective < 1)) throw new RangeError(`objective must be in (0, 1), got ${spec.objective}`);
    if (!(spec.minEvents >= 0 && spec.minEvents < Number.POSITIVE_INFINITY)) throw new RangeError(`minEvents must be a non-negative number, got ${spec.minEvents}`);
    const w = spec.window;
    this.bucketMs = b;
    this.objective = spec.objective;
    this.errorBudget = Number((1 - spec.objective).toPrecision(12));
    this.minEvents = spec.minEvents;
    this.window = w;
    this.fineSize = Math.ceil((3 * DAY + FINE_SLACK_MS) / b / FINE_PAGE) * FINE_PAGE;
    this.horizonMs = this.fineSize * b;
    this.bucketsPerSlot = SLOT_MS / b;
    let span: number;
    if (w.kind === 'rolling') {
      if (!Number.isInteger(w.durationMs) || w.durationMs <= 0 || w.durationMs % b !== 0) throw new RangeError(`rolling duration must be a positive multiple of bucketMs, got ${w.durationMs}`);
      span = w.durationMs;
      this.durationMs = w.durationMs;
      this.mode = w.durationMs / b <= this.fineSize ? MODE_ROLLING_FINE : MODE_ROLLING_COARSE;
    } else {
      if (!Number.isFinite(w.startMs) || w.startMs % SLOT_MS !== 0) throw new RangeError(`calendar period start must be 15-minute aligned, got ${w.startMs}`);
      span = periodUpperBoundMs(w);
      periodBounds(w, w.startMs); // throws on an unknown time zone
      this.durationMs = 0;
      this.mode = MODE_CALENDAR;
    }
    this.coarseSize = Math.ceil((Math.ceil(Math.max(span, this.horizonMs) / SLOT_MS) + 2) / COARSE_PAGE) * COARSE_PAGE;
    const lens = standardWindowsMs.map((ms) => ms / b);
    if (this.mode === MODE_ROLLING_FINE) lens.push(this.durationMs / b);
    this.lens = Int32Array.from(lens);
    this.goodSum = new Float64Array(lens.length);
    this.totalSum = new Float64Array(lens.length);
    this.active = new Int32Array(lens.length);
    this.nextResync = new Float64Array(lens.length);
    this.fineGood = new Float64Array(this.fineSize);
    this.fineTotal = new Float64Array(this.fineSize);
    this.coarseGood = new Float64Array(this.coarseSize);
    this.coarseTotal = new Float64Array(this.coarseSize);
    this.fineDirty = new Uint8Array(this.fineSize / FINE_PAGE);
    this.coarseDirty = new Uint8Array(this.coarseSize / COARSE_PAGE);
    this.periodMs = nominalPeriodMs(w);
    this.rules = sloAlertRules(this.periodMs, spec.alerting);
    this.ruleTier = Uint8Array.from(this.rules, (r) => (r.tier === 'page' ? 0 : 1));
    this.ruleLong = Uint8Array.from(this.rules, (r) => standardWindowsMs.indexOf(r.longMs));
    this.ruleShort = Uint8Array.from(this.rules, (r) => standardWindowsMs.indexOf(r.shortMs));
  }

  /** End of the newest bucket (NaN before the first). */
  get nowMs(): number {
    return this.started ? (this.clock + 1) * this.bucketMs : Number.NaN;
  }

  /** Buckets dropped for coming later than the horizon. */
  get late(): number {
    return this.lateCount;
  }

  /** Ring arrays, first index and length, dirty flags and page number of a page key. */
  protected pageOf(key: string): [Float64Array, Float64Array, number, number, Uint8Array, number] {
    const m = PAGE_KEY.exec(key);
    const page = m ? Number(m[2]) : -1;
    if (m?.[1] === 'f' && page < this.fineDirty.length) return [this.fineGood, this.fineTotal, page * FINE_PAGE, FINE_PAGE, this.fineDirty, page];
    if (m?.[1] === 'c' && page < this.coarseDirty.length) return [this.coarseGood, this.coarseTotal, page * COARSE_PAGE, COARSE_PAGE, this.coarseDirty, page];
    throw new RangeError(`unknown SLO engine page ${key}`);
  }

  protected begin(b: number): void {
    this.started = true;
    this.firstMs = b * this.bucketMs;
    this.clock = b - 1;
    this.cursors();
    this.headerDirty = true;
  }

  /** Derives the ring cursors, far edge and resync schedule from the clock. */
  protected cursors(): void {
    const clock = this.clock;
    this.head = mod(clock, this.fineSize);
    this.cIndex = Math.floor(clock / this.bucketsPerSlot);
    this.cHead = mod(this.cIndex, this.coarseSize);
    this.farSlot = this.farOf(clock);
    for (let j = 0; j < this.lens.length; j++) {
      const every = (this.lens[j] as number) * RESYNC;
      this.nextResync[j] = (Math.floor(clock / every) + 1) * every;
    }
  }

  /** First coarse slot of the rolling coarse period when the newest bucket is `clock`. */
  protected farOf(clock: number): number {
    return Math.floor(((clock + 1) * this.bucketMs - this.durationMs) / SLOT_MS);
  }
}
