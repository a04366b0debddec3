import { burnAlertRules, sloAlertRules, standardWindowsMs } from './burn-rates.js';
import type { BurnAlertRule } from './burn-rates.js';
import { nominalPeriodMs, periodBounds, periodUpperBoundMs } from './calendar.js';
import type { CalendarWindow } from './calendar.js';
import { PeriodStats, SloSnapshot, WindowStats } from './engine-stats.js';
import type { AlertTier, AlertTransition } from './engine-stats.js';
import type { SloSpec, SloWindow } from './types.js';

export { PeriodStats, SloSnapshot, WindowStats, burnAlertRules, standardWindowsMs };
export type { AlertTier, AlertTransition, BurnAlertRule };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Coarse slot: 15 minutes. Every IANA offset in use is a multiple of it, so calendar periods start on slot boundaries. */
const SLOT_MS = 15 * MINUTE;
/** Fine buckets per serialised page, coarse slots per page (one day). */
const FINE_PAGE = 360;
const COARSE_PAGE = 96;
/** Fine-ring span beyond the longest window (at least; rounded up to whole pages). */
const FINE_SLACK_MS = HOUR;
/** A window's running sums are recomputed from the ring every RESYNC of its lengths (bounds float drift). */
const RESYNC = 4;
/** The rolling coarse period sum is recomputed whenever its far edge passes a multiple of this many slots. */
const COARSE_RESYNC = 96;
const HEADER_VERSION = 2;
const HEADER_BYTES = 48;
/** Version 1 headers (before the first bucket was kept) are read as observed from long ago. */
const HEADER_V1_BYTES = 40;

/**
 * The fresh-start rule: the budget tier fires only once this share of the period has been
 * observed (3 days of 30), so a platform that has just started, having seen a few minutes of a
 * 30-day period, does not call the budget exhausted. Burn-rate tiers are not held back: their
 * windows are short and their factors already say what the period can afford.
 */
export const BUDGET_MIN_OBSERVED_SHARE = 0.1;
const MODE_ROLLING_FINE = 0;
const MODE_ROLLING_COARSE = 1;
const MODE_CALENDAR = 2;
const TIERS: readonly AlertTier[] = ['page', 'ticket', 'budget'];
const PAGE_KEY = /^([fc])(0|[1-9][0-9]{0,8})$/;

function mod(a: number, n: number): number {
  const r = a % n;
  return r < 0 ? r + n : r;
}

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
export class SloEngine {
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

  private readonly fineSize: number;
  private readonly coarseSize: number;
  private readonly bucketsPerSlot: number;
  private readonly mode: number;
  private readonly durationMs: number;
  /** Window lengths in buckets: the standard windows, plus the period when it is a fine window. */
  private readonly lens: Int32Array;
  private readonly goodSum: Float64Array;
  private readonly totalSum: Float64Array;
  /** Buckets with traffic inside each window: at 0 the sums are set to exactly 0. */
  private readonly active: Int32Array;
  private readonly fineGood: Float64Array;
  private readonly fineTotal: Float64Array;
  private readonly coarseGood: Float64Array;
  private readonly coarseTotal: Float64Array;
  private readonly fineDirty: Uint8Array;
  private readonly coarseDirty: Uint8Array;
  private headerDirty = false;
  private readonly ruleTier: Uint8Array;
  private readonly ruleLong: Uint8Array;
  private readonly ruleShort: Uint8Array;
  private readonly tierState = new Uint8Array(3);
  private started = false;
  /** Start of the first bucket ever added (−Infinity for state restored from a version 1 header). */
  private firstMs = Number.NaN;
  /** Index (start / bucketMs) of the newest bucket; its fine-ring slot; its coarse slot index and ring slot. */
  private clock = Number.NaN;
  private head = 0;
  private cIndex = 0;
  private cHead = 0;
  /** Bucket index at which each window's sums are next recomputed: the next multiple of 4 × its length. */
  private readonly nextResync: Float64Array;
  private lateCount = 0;
  // Period sums when not a fine window: rolling from coarse slot `farSlot`, calendar from `pStart`.
  private farSlot = 0;
  private pGood = 0;
  private pTotal = 0;
  private pActive = 0;
  private pStart = Number.NEGATIVE_INFINITY;
  private pEnd = Number.NEGATIVE_INFINITY;
  private readonly scratch = new PeriodStats();

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

  // --- Persistence -------------------------------------------------------------------------

  /** Every page key: `h` (header), `f0` … (fine ring), `c0` … (coarse ring). */
  pageKeys(): string[] {
    const keys = ['h'];
    for (let i = 0; i < this.fineDirty.length; i++) keys.push(`f${i}`);
    for (let i = 0; i < this.coarseDirty.length; i++) keys.push(`c${i}`);
    return keys;
  }

  /**
   * Keys of the pages changed since the last {@link clearDirty}: `h` (header: newest bucket,
   * late counter, alert states), `f<i>` (fine buckets 360i … 360i + 359 of the ring), `c<i>`
   * (coarse slots 96i …). Write them all, then clear; a page never written is all zeros.
   */
  dirtyPages(): Iterable<string> {
    const keys: string[] = [];
    if (this.headerDirty) keys.push('h');
    for (let i = 0; i < this.fineDirty.length; i++) if (this.fineDirty[i] === 1) keys.push(`f${i}`);
    for (let i = 0; i < this.coarseDirty.length; i++) if (this.coarseDirty[i] === 1) keys.push(`c${i}`);
    return keys;
  }

  /** Forgets which pages changed. */
  clearDirty(): void {
    this.headerDirty = false;
    this.fineDirty.fill(0);
    this.coarseDirty.fill(0);
  }

  /** The page's bytes: header 40 bytes; a fine page 360 good then 360 total doubles (LE); a coarse page 96 + 96. */
  writePage(key: string): Buffer {
    if (key === 'h') {
      const buf = Buffer.alloc(HEADER_BYTES);
      buf.writeUInt8(HEADER_VERSION, 0);
      buf.writeUInt8(this.started ? 1 : 0, 1);
      for (let t = 0; t < 3; t++) buf.writeUInt8(this.tierState[t] as number, 2 + t);
      buf.writeDoubleLE(this.bucketMs, 8);
      buf.writeUInt32LE(this.fineSize, 16);
      buf.writeUInt32LE(this.coarseSize, 20);
      buf.writeDoubleLE(this.clock, 24);
      buf.writeDoubleLE(this.lateCount, 32);
      buf.writeDoubleLE(this.firstMs, 40);
      return buf;
    }
    const [good, total, from, size] = this.pageOf(key);
    const buf = Buffer.alloc(size * 16);
    for (let i = 0; i < size; i++) {
      buf.writeDoubleLE(good[from + i] as number, i * 8);
      buf.writeDoubleLE(total[from + i] as number, (size + i) * 8);
    }
    return buf;
  }

  /**
   * Restores a page written by {@link writePage} (of an engine with the same spec and bucketMs:
   * a header of another configuration throws a RangeError). Read every stored page, in any
   * order, into a fresh engine, then call {@link restored}.
   */
  readPage(key: string, buf: Buffer): void {
    if (key === 'h') {
      const v1 = buf.length === HEADER_V1_BYTES && buf.readUInt8(0) === 1;
      if (!v1 && (buf.length !== HEADER_BYTES || buf.readUInt8(0) !== HEADER_VERSION)) throw new RangeError(`SLO engine header must be ${HEADER_BYTES} bytes of version ${HEADER_VERSION}`);
      if (buf.readDoubleLE(8) !== this.bucketMs || buf.readUInt32LE(16) !== this.fineSize || buf.readUInt32LE(20) !== this.coarseSize) {
        throw new RangeError('SLO engine header is of another bucket size or period');
      }
      this.started = buf.readUInt8(1) === 1;
      for (let t = 0; t < 3; t++) this.tierState[t] = buf.readUInt8(2 + t) === 1 ? 1 : 0;
      this.clock = buf.readDoubleLE(24);
      this.lateCount = buf.readDoubleLE(32);
      this.firstMs = v1 ? Number.NEGATIVE_INFINITY : buf.readDoubleLE(40);
      this.headerDirty = v1;
      return;
    }
    const [good, total, from, size, dirty, page] = this.pageOf(key);
    if (buf.length !== size * 16) throw new RangeError(`SLO engine page ${key} must be ${size * 16} bytes, got ${buf.length}`);
    for (let i = 0; i < size; i++) {
      good[from + i] = buf.readDoubleLE(i * 8);
      total[from + i] = buf.readDoubleLE((size + i) * 8);
    }
    dirty[page] = 0;
  }

  /** Recomputes the running sums from the rings after pages were read. */
  restored(): void {
    this.goodSum.fill(0);
    this.totalSum.fill(0);
    this.active.fill(0);
    this.pGood = 0;
    this.pTotal = 0;
    this.pActive = 0;
    this.pStart = Number.NEGATIVE_INFINITY;
    this.pEnd = Number.NEGATIVE_INFINITY;
    if (!this.started) return;
    this.cursors();
    for (let j = 0; j < this.lens.length; j++) this.resyncWindow(j, this.clock);
    if (this.mode === MODE_ROLLING_COARSE) {
      this.resyncPeriod(this.clock);
    } else if (this.mode === MODE_CALENDAR) {
      const { startMs, endMs } = periodBounds(this.window as CalendarWindow, this.clock * this.bucketMs);
      this.pStart = startMs;
      this.pEnd = endMs;
      const last = Math.floor(this.clock / this.bucketsPerSlot);
      for (let c = Math.floor(startMs / SLOT_MS); c <= last; c++) {
        const k = mod(c, this.coarseSize);
        this.pGood += this.coarseGood[k] as number;
        this.pTotal += this.coarseTotal[k] as number;
      }
    }
  }

  // --- Internals ---------------------------------------------------------------------------

  /** Ring arrays, first index and length, dirty flags and page number of a page key. */
  private pageOf(key: string): [Float64Array, Float64Array, number, number, Uint8Array, number] {
    const m = PAGE_KEY.exec(key);
    const page = m ? Number(m[2]) : -1;
    if (m?.[1] === 'f' && page < this.fineDirty.length) return [this.fineGood, this.fineTotal, page * FINE_PAGE, FINE_PAGE, this.fineDirty, page];
    if (m?.[1] === 'c' && page < this.coarseDirty.length) return [this.coarseGood, this.coarseTotal, page * COARSE_PAGE, COARSE_PAGE, this.coarseDirty, page];
    throw new RangeError(`unknown SLO engine page ${key}`);
  }

  private begin(b: number): void {
    this.started = true;
    this.firstMs = b * this.bucketMs;
    this.clock = b - 1;
    this.cursors();
    this.headerDirty = true;
  }

  /** Derives the ring cursors, far edge and resync schedule from the clock. */
  private cursors(): void {
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
  private farOf(clock: number): number {
    return Math.floor(((clock + 1) * this.bucketMs - this.durationMs) / SLOT_MS);
  }

  private burn(j: number): number {
    const good = this.goodSum[j] as number;
    const total = this.totalSum[j] as number;
    return total > 0 && total > good ? (total - good) / (total * this.errorBudget) : 0;
  }

  /** Moves the newest bucket to `to` (> clock): buckets leave windows, skipped slots are cleared. */
  private advance(to: number): void {
    const from = this.clock;
    const gap = to - from;
    const F = this.fineSize;
    const head = this.head;
    const lens = this.lens;
    const fineGood = this.fineGood;
    const fineTotal = this.fineTotal;
    const goodSum = this.goodSum;
    const totalSum = this.totalSum;
    const activeSum = this.active;
    // Fine windows: the buckets from + 1 − len … to − len leave window j.
    for (let j = 0; j < lens.length; j++) {
      const len = lens[j] as number;
      if (gap >= len) {
        goodSum[j] = 0;
        totalSum[j] = 0;
        activeSum[j] = 0;
        continue;
      }
      let active = activeSum[j] as number;
      if (active > 0) {
        let good = goodSum[j] as number;
        let total = totalSum[j] as number;
        let k = head + 1 - len;
        if (k < 0) k += F;
        for (let i = 0; i < gap; i++) {
          const t = fineTotal[k] as number;
          if (t > 0) {
            good -= fineGood[k] as number;
            total -= t;
            active--;
          }
          if (++k === F) k = 0;
        }
        if (active === 0) {
          good = 0;
          total = 0;
        }
        goodSum[j] = good;
        totalSum[j] = total;
        activeSum[j] = active;
      }
    }
    // Rolling coarse period: slots before the new far edge leave (before the ring moves on).
    let resyncPeriod = false;
    const cFrom = this.cIndex;
    const cTo = Math.floor(to / this.bucketsPerSlot);
    const C = this.coarseSize;
    if (this.mode === MODE_ROLLING_COARSE) {
      const farTo = this.farOf(to);
      const farFrom = this.farSlot;
      if (farTo > farFrom) {
        if (farTo > cFrom) {
          this.pGood = 0;
          this.pTotal = 0;
          this.pActive = 0;
        } else if (this.pActive > 0) {
          let k = this.cHead - (cFrom - farFrom);
          if (k < 0) k += C;
          for (let c = farFrom; c < farTo; c++) {
            const t = this.coarseTotal[k] as number;
            if (t > 0) {
              this.pGood -= this.coarseGood[k] as number;
              this.pTotal -= t;
              this.pActive--;
            }
            if (++k === C) k = 0;
          }
          if (this.pActive === 0) {
            this.pGood = 0;
            this.pTotal = 0;
          }
        }
        this.farSlot = farTo;
        resyncPeriod = Math.floor(farTo / COARSE_RESYNC) > Math.floor(farFrom / COARSE_RESYNC);
      }
    }
    // Clear the fine slots of the new buckets.
    if (gap >= F) {
      fineGood.fill(0);
      fineTotal.fill(0);
      this.fineDirty.fill(1);
      this.head = mod(to, F);
    } else {
      let k = head;
      for (let i = 0; i < gap; i++) {
        if (++k === F) k = 0;
        if ((fineTotal[k] as number) !== 0 || (fineGood[k] as number) !== 0) {
          fineGood[k] = 0;
          fineTotal[k] = 0;
          this.fineDirty[(k / FINE_PAGE) | 0] = 1;
        }
      }
      this.head = k;
    }
    // Clear the coarse slots the newest bucket moved into.
    if (cTo > cFrom) {
      if (cTo - cFrom >= C) {
        this.coarseGood.fill(0);
        this.coarseTotal.fill(0);
        this.coarseDirty.fill(1);
        this.cHead = mod(cTo, C);
      } else {
        let k = this.cHead;
        for (let c = cFrom; c < cTo; c++) {
          if (++k === C) k = 0;
          if ((this.coarseTotal[k] as number) !== 0 || (this.coarseGood[k] as number) !== 0) {
            this.coarseGood[k] = 0;
            this.coarseTotal[k] = 0;
            this.coarseDirty[(k / COARSE_PAGE) | 0] = 1;
          }
        }
        this.cHead = k;
      }
      this.cIndex = cTo;
    }
    this.clock = to;
    this.headerDirty = true;
    // Periodic recomputation (at fixed bucket indices, so a restored engine keeps the schedule)
    // bounds floating-point drift of the running sums.
    for (let j = 0; j < lens.length; j++) {
      if (to < (this.nextResync[j] as number)) continue;
      const len = lens[j] as number;
      if (gap < len) this.resyncWindow(j, to);
      this.nextResync[j] = (Math.floor(to / (len * RESYNC)) + 1) * len * RESYNC;
    }
    if (resyncPeriod) this.resyncPeriod(to);
    if (this.mode === MODE_CALENDAR && to * this.bucketMs >= this.pEnd) {
      const { startMs, endMs } = periodBounds(this.window as CalendarWindow, to * this.bucketMs);
      this.pStart = startMs;
      this.pEnd = endMs;
      this.pGood = 0;
      this.pTotal = 0;
    }
  }

  /** Adds counts to bucket `b` (within the horizon, at most the newest) and every window holding it. */
  private put(b: number, good: number, total: number): void {
    const age = this.clock - b;
    let k = this.head - age;
    if (k < 0) k += this.fineSize;
    const before = this.fineTotal[k] as number;
    this.fineGood[k] = (this.fineGood[k] as number) + good;
    this.fineTotal[k] = before + total;
    this.fineDirty[(k / FINE_PAGE) | 0] = 1;
    const fresh = before === 0 && total > 0 ? 1 : 0;
    const lens = this.lens;
    const goodSum = this.goodSum;
    const totalSum = this.totalSum;
    const activeSum = this.active;
    for (let j = 0; j < lens.length; j++) {
      if (age < (lens[j] as number)) {
        goodSum[j] = (goodSum[j] as number) + good;
        totalSum[j] = (totalSum[j] as number) + total;
        activeSum[j] = (activeSum[j] as number) + fresh;
      }
    }
    const c = age === 0 ? this.cIndex : Math.floor(b / this.bucketsPerSlot);
    let ck = this.cHead - (this.cIndex - c);
    if (ck < 0) ck += this.coarseSize;
    const slotBefore = this.coarseTotal[ck] as number;
    this.coarseGood[ck] = (this.coarseGood[ck] as number) + good;
    this.coarseTotal[ck] = slotBefore + total;
    this.coarseDirty[(ck / COARSE_PAGE) | 0] = 1;
    if (this.mode === MODE_ROLLING_COARSE) {
      if (c >= this.farSlot) {
        this.pGood += good;
        this.pTotal += total;
        if (slotBefore === 0 && total > 0) this.pActive++;
      }
    } else if (this.mode === MODE_CALENDAR) {
      if (b * this.bucketMs >= this.pStart) {
        this.pGood += good;
        this.pTotal += total;
      }
    }
  }

  /** Recomputes window j's sums from the fine ring, for newest bucket `clock`. */
  private resyncWindow(j: number, clock: number): void {
    const len = this.lens[j] as number;
    const F = this.fineSize;
    let good = 0;
    let total = 0;
    let active = 0;
    let k = mod(clock - len + 1, F);
    for (let i = 0; i < len; i++) {
      const t = this.fineTotal[k] as number;
      if (t > 0) {
        good += this.fineGood[k] as number;
        total += t;
        active++;
      }
      if (++k === F) k = 0;
    }
    this.goodSum[j] = good;
    this.totalSum[j] = total;
    this.active[j] = active;
  }

  /** Recomputes the rolling coarse period's sums from the coarse ring. */
  private resyncPeriod(clock: number): void {
    let good = 0;
    let total = 0;
    let active = 0;
    const last = Math.floor(clock / this.bucketsPerSlot);
    for (let c = this.farSlot; c <= last; c++) {
      const k = mod(c, this.coarseSize);
      const t = this.coarseTotal[k] as number;
      if (t > 0) {
        good += this.coarseGood[k] as number;
        total += t;
        active++;
      }
    }
    this.pGood = good;
    this.pTotal = total;
    this.pActive = active;
  }

  /** Fills `out` with the period's counts and budget. */
  private period(out: PeriodStats): PeriodStats {
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
