import { describe, expect, it } from 'vitest';
import { periodBounds } from '../../../processors/slo/calendar.js';
import type { CalendarWindow } from '../../../processors/slo/calendar.js';
import { SloEngine, SloSnapshot, burnAlertRules, standardWindowsMs } from '../../../processors/slo/engine.js';
import type { AlertTransition } from '../../../processors/slo/engine.js';
import type { SloSpec, SloWindow } from '../../../processors/slo/types.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const SLOT = 15 * MINUTE;
/** 2026-03-01T00:00Z: aligned to every bucket size used here. */
const T0 = Date.UTC(2026, 2, 1);

type EngineSpec = Pick<SloSpec, 'objective' | 'window' | 'minEvents' | 'alerting'>;

function spec(o: { objective?: number; window?: SloWindow; minEvents?: number; page?: boolean; ticket?: boolean } = {}): EngineSpec {
  return {
    objective: o.objective ?? 0.999,
    window: o.window ?? { kind: 'rolling', durationMs: 30 * DAY },
    minEvents: o.minEvents ?? 0,
    alerting: { page: o.page ?? true, ticket: o.ticket ?? true, name: 'test', labels: {}, annotations: {} },
  };
}

/** Deterministic PRNG in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Feeds one bucket and evaluates, collecting transitions. */
function step(engine: SloEngine, startMs: number, good: number, total: number, out: AlertTransition[]): void {
  engine.add(startMs, good, total);
  engine.evaluate(out);
}

describe('the fresh-start rule', () => {
  it('keeps the budget tier quiet until a tenth of the period is observed, then fires it', () => {
    const e = new SloEngine(spec({ window: { kind: 'rolling', durationMs: 10 * DAY }, minEvents: 0 }), { bucketMs: 5 * MINUTE });
    const transitions: AlertTransition[] = [];
    const s = new SloSnapshot();
    // 1% errors, ten times the budget, from the first bucket on.
    let t = T0;
    for (; t < T0 + DAY - 5 * MINUTE; t += 5 * MINUTE) step(e, t, 99, 100, transitions);
    e.snapshot(s);
    expect(s.period.budgetRemaining).toBeLessThan(0);
    expect(s.period.observedShare).toBeCloseTo((DAY - 5 * MINUTE) / (10 * DAY), 12);
    expect(transitions.filter((x) => x.tier === 'budget')).toEqual([]);
    step(e, t, 99, 100, transitions);
    expect(e.snapshot(s).period.observedShare).toBeCloseTo(0.1, 12);
    expect(transitions.filter((x) => x.tier === 'budget')).toMatchObject([{ state: 'firing', atMs: T0 + DAY }]);
  });

  it('reads a version 1 header as observed long ago', () => {
    const e = new SloEngine(spec(), { bucketMs: MINUTE });
    e.add(T0, 10, 10);
    const v2 = e.writePage('h');
    const v1 = Buffer.from(v2.subarray(0, 40));
    v1.writeUInt8(1, 0);
    const r = new SloEngine(spec(), { bucketMs: MINUTE });
    r.readPage('h', v1);
    r.restored();
    expect(r.snapshot().period.observedShare).toBe(1);
  });
});

describe('burnAlertRules', () => {
  it('scales the Workbook factors to the period: exactly 14.4, 6, 3, 1 for 30 days', () => {
    const rules = burnAlertRules(30 * DAY);
    expect(rules.map((r) => r.factor)).toEqual([14.4, 6, 3, 1]);
    expect(rules.map((r) => [r.tier, r.longMs, r.shortMs, r.budgetShare])).toEqual([
      ['page', HOUR, 5 * MINUTE, 0.02],
      ['page', 6 * HOUR, 30 * MINUTE, 0.05],
      ['ticket', DAY, 2 * HOUR, 0.1],
      ['ticket', 3 * DAY, 6 * HOUR, 0.1],
    ]);
  });

  it('scales the windows of shorter periods, never firing below a burn rate of 1, and filters tiers', () => {
    // 7 days: windows scaled by 7/30 and snapped to the kept windows; no tier below 1x (it was 0.7 and 0.23).
    expect(burnAlertRules(7 * DAY).map((r) => [r.tier, r.longMs, r.shortMs, r.factor])).toEqual([
      ['page', 30 * MINUTE, 5 * MINUTE, 6.72],
      ['page', HOUR, 5 * MINUTE, 8.4],
      ['ticket', 6 * HOUR, 30 * MINUTE, 2.8],
    ]);
    expect(burnAlertRules(28 * DAY)[0]?.factor).toBeCloseTo(13.44, 12);
    expect(burnAlertRules(28 * DAY).map((r) => r.factor)).toEqual([13.44, 5.6, 2.8]);
    for (const days of [1, 7, 14, 28, 30, 90, 365]) for (const r of burnAlertRules(days * DAY)) expect(r.factor).toBeGreaterThanOrEqual(1);
    // 1 hour: one ticket rule; under 50 minutes, none.
    expect(burnAlertRules(HOUR).map((r) => [r.tier, r.longMs, r.factor])).toEqual([['ticket', 5 * MINUTE, 1.2]]);
    expect(burnAlertRules(49 * MINUTE)).toEqual([]);
    expect(burnAlertRules(30 * DAY, { ticket: false }).map((r) => r.tier)).toEqual(['page', 'page']);
    expect(burnAlertRules(30 * DAY, { page: false }).map((r) => r.factor)).toEqual([3, 1]);
    expect(() => burnAlertRules(0)).toThrow(RangeError);
  });

  it('exports the standard windows', () => {
    expect(standardWindowsMs).toEqual([5 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 6 * HOUR, DAY, 3 * DAY]);
  });
});

describe('SloEngine burn rates and budget', () => {
  it('computes burn rates by hand: 0.1% errors is burn 1, then 10 minutes of total failure', () => {
    const e = new SloEngine(spec(), { bucketMs: MINUTE });
    const transitions: AlertTransition[] = [];
    for (let i = 0; i < 60; i++) step(e, T0 + i * MINUTE, 999, 1000, transitions);
    let s = e.snapshot();
    expect(s.nowMs).toBe(T0 + HOUR);
    const h = s.windows[2];
    // 1h: 60 bad of 60000 = 0.001 = exactly the budget: burn 1.
    expect([h?.good, h?.total, h?.bad, h?.errorRatio, h?.burnRate]).toEqual([59_940, 60_000, 60, 0.001, 1]);
    expect(s.windows[0]?.burnRate).toBe(1); // 5 of 5000
    // Period: 60000 events, budget 60, 60 bad: remaining exactly 0, which counts as exhausted.
    expect([s.period.total, s.period.budgetEvents, s.period.badEvents, s.period.budgetRemaining]).toEqual([60_000, 60, 60, 0]);
    // Burning at exactly 1 from the first bucket: the 3d/6h ticket (factor 1) fires at once (≥ is
    // inclusive); the pages do not; the budget does not either: an hour of 30 days observed is a
    // fresh start, not an exhausted budget (BUDGET_MIN_OBSERVED_SHARE).
    expect(s.period.observedShare).toBeCloseTo(HOUR / (30 * DAY), 15);
    expect(transitions.map((t) => `${t.tier}:${t.state}:${t.rule}:${t.atMs - T0}`)).toEqual([`ticket:firing:3:${MINUTE}`]);

    for (let i = 60; i < 70; i++) step(e, T0 + i * MINUTE, 0, 1000, transitions);
    s = e.snapshot(s);
    // 5m: the last 5 buckets, all failed: ratio 1, burn 1 / 0.001 = 1000.
    expect(s.windows[0]?.errorRatio).toBe(1);
    expect(s.windows[0]?.burnRate).toBe(1000);
    // 30m: 20 buckets × 1 bad + 10 × 1000 bad = 10020 of 30000 = 0.334: burn 334.
    expect(s.windows[1]?.bad).toBe(10_020);
    expect(s.windows[1]?.burnRate).toBeCloseTo(334, 9);
    // 1h: 50 × 1 + 10 × 1000 = 10050 of 60000 = 0.1675: burn 167.5.
    expect(s.windows[2]?.bad).toBe(10_050);
    expect(s.windows[2]?.errorRatio).toBeCloseTo(0.1675, 12);
    expect(s.windows[2]?.burnRate).toBeCloseTo(167.5, 9);
    // 2h (only 70 buckets so far): 60 + 10000 of 70000: burn 143.714…
    expect(s.windows[3]?.total).toBe(70_000);
    expect(s.windows[3]?.burnRate).toBeCloseTo(10_060 / 70, 9);
    // The page fired on the first failed bucket (now = T0 + 61 min): 1h 59 + 1000 = 1059 of 60000
    // = burn 17.65 ≥ 14.4, 5m 1004 of 5000 = 200.8; 6h (all 61 buckets) 1060/61000 = 17.38 ≥ 6,
    // 30m 1029/30000 = 34.3 ≥ 6 also hold, and 17.38/6 beats 17.65/14.4: the 6h rule (index 1) decides.
    const page = transitions.filter((t) => t.tier === 'page');
    expect(page).toHaveLength(1);
    expect(page[0]).toMatchObject({ state: 'firing', rule: 1, longMs: 6 * HOUR, shortMs: 30 * MINUTE, factor: 6, atMs: T0 + 61 * MINUTE });
    expect(page[0]?.longBurn).toBeCloseTo(1060 / 61, 9);
    expect(page[0]?.shortBurn).toBeCloseTo(1029 / 30, 9);
    // The ticket was already firing: no further transition.
    expect(transitions.filter((t) => t.tier === 'ticket')).toHaveLength(1);
    expect(e.firing('page') && e.firing('ticket')).toBe(true);
    expect(e.firing('budget')).toBe(false);
  });

  it('fires the classic 14.4x page 52 s into a total outage (1 s buckets) and resolves when the 5m window drops below 14.4', () => {
    const e = new SloEngine(spec(), { bucketMs: SECOND });
    const transitions: AlertTransition[] = [];
    // Clean history of 3 days and an hour (longer than every window), 100 requests a second.
    const history = 3 * DAY / SECOND + 3600;
    for (let i = 0; i < history; i++) step(e, T0 + i * SECOND, 100, 100, transitions);
    expect(transitions).toEqual([]);
    const t0 = T0 + history * SECOND;
    // 120 s of 100% errors, then clean again.
    for (let i = 0; i < 120; i++) step(e, t0 + i * SECOND, 0, 100, transitions);
    for (let i = 120; i < 1200; i++) step(e, t0 + i * SECOND, 100, 100, transitions);
    // 1h needs 14.4 × 0.001 × 3600 s = 51.84 s of errors: 51 buckets give 14.17, 52 give 14.44.
    // The 5m window needs 4.32 s: long reached by then. The bucket ending at t0 + 52 s fires it.
    // Resolving: the 5m window [now − 300 s, now) holds 120 − (now − 300 − t0) failed buckets
    // once now − 300 s ≥ t0; it needs ≤ 4 (burn 4/300/0.001 = 13.3; 5 give 16.7): now ≥ t0 + 416 s.
    // Meanwhile 6h (120/21600/0.001 = 5.6 < 6), 1d (1.4 < 3), 3d (0.46 < 1) never fire.
    expect(transitions).toHaveLength(2);
    const [fire, resolve] = transitions;
    expect(fire).toMatchObject({ tier: 'page', rule: 0, state: 'firing', longMs: HOUR, shortMs: 5 * MINUTE, factor: 14.4, atMs: t0 + 52 * SECOND });
    expect(fire?.longBurn).toBeCloseTo(5200 / 360, 9);
    expect(fire?.shortBurn).toBeCloseTo(5200 / 30, 9);
    expect(resolve).toMatchObject({ tier: 'page', rule: 0, state: 'resolved', atMs: t0 + 416 * SECOND });
    expect(resolve?.shortBurn).toBeCloseTo(400 / 30, 9);
    // The long window still burns at 12000 / 360 = 33.3: the short window resolved it.
    expect(resolve?.longBurn).toBeCloseTo(12_000 / 360, 9);
    expect(resolve?.budgetRemaining).toBeGreaterThan(0);
  });

  it('projects budget exhaustion at the 1h bad-event rate', () => {
    const e = new SloEngine(spec(), { bucketMs: MINUTE });
    const s = new SloSnapshot();
    expect(e.snapshot(s).period.projectedExhaustionMs).toBeNull();
    for (let i = 0; i < 60; i++) e.add(T0 + i * MINUTE, 1000, 1000);
    expect(e.snapshot(s).period.projectedExhaustionMs).toBeNull(); // nothing bad in the last hour
    expect(s.period.budgetRemaining).toBe(1);
    for (let i = 60; i < 120; i++) e.add(T0 + i * MINUTE, 999, 1000);
    e.snapshot(s);
    // 120000 events: budget 120, 60 bad, 60 left; 60 bad in the last hour: one more hour.
    expect([s.period.budgetEvents, s.period.badEvents, s.period.budgetRemaining]).toEqual([120, 60, 0.5]);
    expect(s.period.projectedExhaustionMs).toBe(s.nowMs + HOUR);
    expect([s.period.periodStartMs, s.period.periodEndMs]).toEqual([s.nowMs - 30 * DAY, s.nowMs]);
    e.add(T0 + 120 * MINUTE, 0, 1000);
    e.snapshot(s);
    // 121000 events: budget 121, 1060 bad: overspent, exhaustion is now.
    expect(s.period.budgetRemaining).toBeCloseTo(1 - 1060 / 121, 12);
    expect(s.period.projectedExhaustionMs).toBe(s.nowMs);
  });

  it('projects exhaustion in whole milliseconds (the event field is an Avro long)', () => {
    const e = new SloEngine(spec(), { bucketMs: MINUTE });
    const s = new SloSnapshot();
    for (let i = 0; i < 60; i++) e.add(T0 + i * MINUTE, 1000, 1000);
    // 7 bad in the last hour against 60 of budget left: 60 / 7 hours = 30,857,142.857... ms ahead.
    for (let i = 60; i < 67; i++) e.add(T0 + i * MINUTE, 999, 1000);
    e.snapshot(s);
    expect([s.period.budgetEvents, s.period.badEvents]).toEqual([67, 7]);
    const ahead = (s.period.projectedExhaustionMs as number) - s.nowMs;
    expect(ahead).toBe(Math.round((60 * HOUR) / 7));
    expect(Number.isInteger(s.period.projectedExhaustionMs)).toBe(true);
  });

  it('does not page a 1-request-an-hour service for one error (minEvents), but would without the guard', () => {
    const run = (minEvents: number): AlertTransition[] => {
      const e = new SloEngine(spec({ minEvents }), { bucketMs: MINUTE });
      const out: AlertTransition[] = [];
      for (let h = 0; h < 96; h++) step(e, T0 + h * HOUR, h === 80 ? 0 : 1, 1, out);
      return out.filter((t) => t.tier === 'page');
    };
    expect(run(10)).toEqual([]);
    // Without the guard the one error is burn 1000 over 1h and 5m.
    expect(run(0)[0]).toMatchObject({ tier: 'page', state: 'firing', atMs: T0 + 80 * HOUR + MINUTE });
  });

  it('resets a Berlin calendar month budget at local midnight of the 1st', () => {
    // Monthly periods from 2026-01-01 00:00 CET = 2025-12-31T23:00Z; March 1st 00:00 CET = Feb 28 23:00Z.
    const window: CalendarWindow = { kind: 'calendar', unit: 'month', count: 1, timeZone: 'Europe/Berlin', startMs: Date.UTC(2025, 11, 31, 23) };
    const e = new SloEngine(spec({ window, page: false, ticket: false, minEvents: 50 }), { bucketMs: MINUTE });
    expect(e.periodMs).toBe(30 * DAY);
    const transitions: AlertTransition[] = [];
    const marchStart = Date.UTC(2026, 1, 28, 23);
    // From 20:00 local on Feb 28: 100 requests a minute with 1% errors (10x the budget) until midnight, then clean.
    const from = Date.UTC(2026, 1, 28, 19);
    const s = new SloSnapshot();
    // Observed since February 1st (no traffic until the 28th): enough of the period for the budget tier.
    step(e, Date.UTC(2026, 0, 31, 23), 0, 0, transitions);
    for (let t = from; t < marchStart; t += MINUTE) step(e, t, 99, 100, transitions);
    e.snapshot(s);
    expect([s.period.periodStartMs, s.period.periodEndMs]).toEqual([Date.UTC(2026, 0, 31, 23), marchStart]);
    expect([s.period.total, s.period.badEvents]).toEqual([24_000, 240]);
    expect(s.period.budgetRemaining).toBeCloseTo(1 - 240 / 24, 12);
    // minEvents 50: the first bucket (100 events) is enough.
    expect(transitions).toMatchObject([{ tier: 'budget', rule: -1, state: 'firing', atMs: from + MINUTE, factor: 1 }]);
    for (let t = marchStart; t < marchStart + HOUR; t += MINUTE) step(e, t, 100, 100, transitions);
    // The first bucket of March (starting at local midnight) starts a fresh budget: resolved.
    expect(transitions).toHaveLength(2);
    expect(transitions[1]).toMatchObject({ tier: 'budget', state: 'resolved', atMs: marchStart + MINUTE, budgetRemaining: 1 });
    e.snapshot(s);
    // The March period ends at April 1st 00:00 CEST = March 31 22:00Z.
    expect([s.period.periodStartMs, s.period.periodEndMs, s.period.total]).toEqual([marchStart, Date.UTC(2026, 2, 31, 22), 6000]);
    // The burn windows still see February's errors.
    expect(s.windows[5]?.bad).toBe(240);
  });
});

/** Sums of a dense per-bucket array over bucket indices [from, to]. */
function brute(a: Float64Array, from: number, to: number): number {
  let s = 0;
  for (let i = Math.max(0, from); i <= to; i++) s += a[i] as number;
  return s;
}

describe('SloEngine windows against brute force', () => {
  it('keeps every standard window and the period exact under a random feed with gaps and late buckets (60 s buckets)', () => {
    const bucketMs = MINUTE;
    const rand = mulberry32(42);
    const kolkata: CalendarWindow = { kind: 'calendar', unit: 'day', count: 1, timeZone: 'Asia/Kolkata', startMs: Date.UTC(2025, 11, 31, 18, 30) };
    const newYork: CalendarWindow = { kind: 'calendar', unit: 'week', count: 1, timeZone: 'America/New_York', startMs: Date.UTC(2026, 2, 2, 5) };
    const fine = new SloEngine(spec({ window: { kind: 'rolling', durationMs: DAY } }), { bucketMs });
    const coarse = new SloEngine(spec({ window: { kind: 'rolling', durationMs: 7 * DAY } }), { bucketMs });
    const day = new SloEngine(spec({ window: kolkata }), { bucketMs });
    const week = new SloEngine(spec({ window: newYork }), { bucketMs });
    const engines = [fine, coarse, day, week];
    const F = fine.horizonMs / bucketMs;
    expect(F).toBe(4680); // 3d + 1h in 60 s buckets, rounded up to 13 pages of 360
    const good = new Float64Array(400_000);
    const total = new Float64Array(400_000);
    const base = 10_000; // bucket index of the first bucket (relative to T0)
    let clock = -1;
    let late = 0;
    let accepted = 0;
    const mismatches: string[] = [];
    const s = new SloSnapshot();
    const bounds = [
      { w: kolkata, e: day, start: 0, end: Number.NEGATIVE_INFINITY },
      { w: newYork, e: week, start: 0, end: Number.NEGATIVE_INFINITY },
    ];
    for (let n = 0; n < 14_000; n++) {
      const r = rand();
      let b: number;
      if (clock < 0) b = base;
      else if (r < 0.8) b = clock + 1 + (rand() < 0.1 ? Math.floor(rand() * 30) : 0) + (rand() < 0.002 ? 2000 + Math.floor(rand() * 4000) : 0);
      else if (r < 0.97) b = clock - Math.floor(rand() * (F + 40)); // some beyond the horizon
      else b = clock;
      const t = rand() < 0.15 ? 0 : Math.floor(rand() * 200);
      const bad = Math.floor(t * rand() ** 3);
      // Dyadic fractions keep every sum exact in doubles, whatever the order of additions.
      const g = Math.max(0, t - bad - (rand() < 0.3 ? Math.floor(rand() * 64) / 64 : 0));
      const expectAccepted = clock < 0 || b > clock - F;
      const results = engines.map((e) => e.add(T0 + b * bucketMs, g, t));
      if (results.some((x) => x !== expectAccepted)) mismatches.push(`step ${n}: accepted ${results.join()} expected ${expectAccepted}`);
      if (expectAccepted) {
        good[b] = (good[b] as number) + g;
        total[b] = (total[b] as number) + t;
        clock = Math.max(clock, b);
        accepted++;
      } else late++;

      fine.snapshot(s);
      for (let j = 0; j < standardWindowsMs.length; j++) {
        const len = (standardWindowsMs[j] as number) / bucketMs;
        const w = s.windows[j];
        const bg = brute(good, clock - len + 1, clock);
        const bt = brute(total, clock - len + 1, clock);
        if (w?.good !== bg || w.total !== bt) mismatches.push(`step ${n} window ${j}: ${w?.good}/${w?.total} vs ${bg}/${bt}`);
      }
      if (s.period.good !== brute(good, clock - 1439, clock) || s.period.total !== brute(total, clock - 1439, clock)) mismatches.push(`step ${n} 1d period`);
      if (s.late !== late) mismatches.push(`step ${n} late ${s.late} vs ${late}`);
      if (n % 7 === 0) {
        // Rolling 7d: whole 15-minute slots from the one containing now − 7d.
        coarse.snapshot(s);
        const now = T0 + (clock + 1) * bucketMs;
        const from = (Math.floor((now - 7 * DAY) / SLOT) * SLOT - T0) / bucketMs;
        if (s.period.good !== brute(good, from, clock) || s.period.total !== brute(total, from, clock)) mismatches.push(`step ${n} 7d period ${s.period.total} vs ${brute(total, from, clock)}`);
        if (s.windows[4]?.total !== brute(total, clock - 359, clock)) mismatches.push(`step ${n} coarse engine 6h`);
        for (const c of bounds) {
          const at = T0 + clock * bucketMs;
          if (at >= c.end) ({ startMs: c.start, endMs: c.end } = periodBounds(c.w, at));
          c.e.snapshot(s);
          const from2 = (c.start - T0) / bucketMs;
          if (s.period.periodStartMs !== c.start || s.period.periodEndMs !== c.end) mismatches.push(`step ${n} ${c.w.timeZone} bounds`);
          if (s.period.good !== brute(good, from2, clock) || s.period.total !== brute(total, from2, clock)) mismatches.push(`step ${n} ${c.w.timeZone} period ${s.period.total} vs ${brute(total, from2, clock)}`);
        }
      }
      if (mismatches.length > 5) break;
    }
    expect(mismatches).toEqual([]);
    // The feed did exercise late data both ways and long gaps.
    expect(late).toBeGreaterThan(5);
    expect(accepted).toBeGreaterThan(13_000);
    expect(clock - base).toBeGreaterThan(20_000);
  });

  it('keeps windows exact with 10 s buckets and within rounding for arbitrary fractional counts', () => {
    const bucketMs = 10 * SECOND;
    const rand = mulberry32(7);
    const e = new SloEngine(spec({ window: { kind: 'rolling', durationMs: 30 * DAY } }), { bucketMs });
    const F = e.horizonMs / bucketMs;
    expect(F).toBe(26_280);
    const good = new Float64Array(400_000);
    const total = new Float64Array(400_000);
    let clock = -1;
    const base = 40_000; // first bucket index: late ones never go below 0
    let worst = 0;
    const s = new SloSnapshot();
    for (let n = 0; n < 60_000; n++) {
      const r = rand();
      let b: number;
      if (clock < 0) b = base;
      else if (r < 0.9) b = clock + 1 + (rand() < 0.05 ? Math.floor(rand() * 100) : 0);
      else b = clock - Math.floor(rand() * (F + 100));
      const t = rand() * 50; // not dyadic: sums round differently in each order
      const g = t * (1 - rand() * 0.01);
      if (e.add(b * bucketMs, g, t)) {
        good[b] = (good[b] as number) + g;
        total[b] = (total[b] as number) + t;
        clock = Math.max(clock, b);
      }
      if (n % 97 === 0) {
        e.snapshot(s);
        for (let j = 0; j < standardWindowsMs.length; j++) {
          const len = (standardWindowsMs[j] as number) / bucketMs;
          const bt = brute(total, clock - len + 1, clock);
          const bg = brute(good, clock - len + 1, clock);
          worst = Math.max(worst, Math.abs((s.windows[j]?.total as number) - bt) / Math.max(1, bt), Math.abs((s.windows[j]?.good as number) - bg) / Math.max(1, bg));
        }
      }
    }
    expect(worst).toBeLessThan(1e-12);
  });

  it('leaves no rounding ghost once fractional traffic has left a window', () => {
    const e = new SloEngine(spec(), { bucketMs: MINUTE });
    // 0.1 + 0.2 + 0.3 − 0.1 − 0.2 − 0.3 is 5.55e-17 in doubles, not 0.
    [0.1, 0.2, 0.3].forEach((t, i) => e.add(T0 + i * MINUTE, t * 0.7, t));
    for (let i = 3; i < 8; i++) e.add(T0 + i * MINUTE, 0, 0);
    const s = e.snapshot();
    expect([s.windows[0]?.good, s.windows[0]?.total, s.windows[0]?.burnRate]).toEqual([0, 0, 0]);
    expect(s.windows[1]?.total).toBeCloseTo(0.6, 15);
  });

  it('counts buckets older than the horizon as late without adding them, and takes those just inside', () => {
    const bucketMs = MINUTE;
    const e = new SloEngine(spec(), { bucketMs });
    const F = e.horizonMs / bucketMs;
    e.add(T0, 10, 10);
    e.add(T0 + F * bucketMs, 5, 5); // now = T0 + (F + 1) min: the horizon starts at T0 + 1 min
    const before = e.snapshot();
    expect(before.period.total).toBe(15);
    expect(e.add(T0, 0, 1000)).toBe(false);
    expect(e.add(T0 - 5 * DAY, 0, 1000)).toBe(false);
    expect(e.late).toBe(2);
    const after = e.snapshot();
    expect(after.late).toBe(2);
    expect(after.windows.map((w) => w.total)).toEqual(before.windows.map((w) => w.total));
    expect(after.period.total).toBe(15);
    // Just inside the horizon: older than 3 days (in no burn window) but in the 30-day period.
    expect(e.add(T0 + bucketMs, 0, 7)).toBe(true);
    const inside = e.snapshot();
    expect(inside.windows.map((w) => w.total)).toEqual(before.windows.map((w) => w.total));
    expect([inside.period.total, inside.period.badEvents]).toEqual([22, 7]);
    // A late bucket within the 5m window lands in every window.
    e.add(T0 + (F - 2) * bucketMs, 1, 4);
    expect(e.snapshot().windows.map((w) => w.total)).toEqual(before.windows.map((w) => w.total + 4));
  });

  it('drains on advanceTo and resolves its alerts', () => {
    const e = new SloEngine(spec(), { bucketMs: MINUTE });
    const out: AlertTransition[] = [];
    for (let i = 0; i < 120; i++) step(e, T0 + i * MINUTE, 1000, 1000, out);
    for (let i = 120; i < 130; i++) step(e, T0 + i * MINUTE, 0, 1000, out);
    expect(e.firing('page')).toBe(true);
    e.advanceTo(T0 + 130 * MINUTE + 4 * DAY);
    e.evaluate(out);
    expect(e.firing('page') || e.firing('ticket')).toBe(false);
    const s = e.snapshot();
    expect(s.nowMs).toBe(T0 + 130 * MINUTE + 4 * DAY);
    expect(s.windows.every((w) => w.total === 0 && w.burnRate === 0)).toBe(true);
    expect(s.period.total).toBe(130_000); // still within 30 days
    expect(out.filter((t) => t.state === 'resolved' && t.tier !== 'budget').map((t) => t.atMs)).toEqual([T0 + 130 * MINUTE + 4 * DAY, T0 + 130 * MINUTE + 4 * DAY]);
  });

  it('validates its configuration and input', () => {
    expect(() => new SloEngine(spec(), { bucketMs: 7000 })).toThrow(RangeError);
    expect(() => new SloEngine(spec(), { bucketMs: 15 * MINUTE })).toThrow(RangeError); // windows of 5m need a divisor of 5m
    expect(() => new SloEngine(spec(), { bucketMs: 0 })).toThrow(RangeError);
    expect(() => new SloEngine(spec({ objective: 1 }), { bucketMs: MINUTE })).toThrow(RangeError);
    expect(() => new SloEngine(spec({ window: { kind: 'rolling', durationMs: 30 * DAY + 1 } }), { bucketMs: MINUTE })).toThrow(RangeError);
    const window: CalendarWindow = { kind: 'calendar', unit: 'month', count: 1, timeZone: 'UTC', startMs: T0 + MINUTE };
    expect(() => new SloEngine(spec({ window }), { bucketMs: MINUTE })).toThrow(RangeError);
    expect(() => new SloEngine(spec({ window: { ...window, startMs: T0, timeZone: 'Nowhere/Land' } }), { bucketMs: MINUTE })).toThrow(RangeError);
    const e = new SloEngine(spec(), { bucketMs: MINUTE });
    expect(() => e.add(T0, -1, 1)).toThrow(RangeError);
    expect(() => e.add(T0, Number.NaN, 1)).toThrow(RangeError);
    expect(() => e.add(Number.NaN, 1, 1)).toThrow(RangeError);
    // good above total is taken as total
    e.add(T0, 12, 10);
    expect(e.snapshot().windows[0]).toMatchObject({ good: 10, total: 10, bad: 0 });
  });
});

describe('SloEngine serialisation', () => {
  /** Random traffic with an outage in [outageFrom, outageTo), gaps and late buckets. */
  function feed(engines: SloEngine[], rand: () => number, fromBucket: number, count: number, bucketMs: number, outage: [number, number], log: AlertTransition[][]): number {
    let b = fromBucket;
    for (let n = 0; n < count; n++) {
      const r = rand();
      let at = b;
      if (r < 0.05) at = b - 1 - Math.floor(rand() * 500); // late, within the horizon
      else if (r < 0.07) b += 1 + Math.floor(rand() * 20); // gap
      else b += 1;
      if (r >= 0.05) at = b;
      const total = Math.floor(50 + rand() * 100);
      const inOutage = at >= outage[0] && at < outage[1];
      const bad = inOutage ? Math.floor(total * 0.5) : rand() < 0.02 ? 1 : 0;
      engines.forEach((e, i) => {
        e.add(at * bucketMs, total - bad, total);
        e.evaluate(log[i] as AlertTransition[]);
      });
    }
    return b;
  }

  function flush(e: SloEngine, log: Map<string, Buffer>): number {
    let n = 0;
    for (const key of e.dirtyPages()) {
      log.set(key, e.writePage(key));
      n++;
    }
    e.clearDirty();
    return n;
  }

  const windows: [string, SloWindow][] = [
    ['rolling 30d', { kind: 'rolling', durationMs: 30 * DAY }],
    ['rolling 1d', { kind: 'rolling', durationMs: DAY }],
    ['calendar week', { kind: 'calendar', unit: 'week', count: 1, timeZone: 'Europe/Berlin', startMs: Date.UTC(2026, 2, 1, 23) }],
  ];

  for (const [name, window] of windows) {
    it(`restores from a compacted page log and then behaves identically (${name})`, () => {
      const bucketMs = MINUTE;
      const rand = mulberry32(1234);
      const a = new SloEngine(spec({ window, minEvents: 100 }), { bucketMs });
      const pageLog = new Map<string, Buffer>();
      const logA: AlertTransition[][] = [[]];
      // 6000 buckets in batches, flushing dirty pages after each: a compacted changelog.
      let b = T0 / bucketMs;
      let written = 0;
      for (let batch = 0; batch < 60; batch++) {
        b = feed([a], rand, b, 100, bucketMs, [T0 / bucketMs + 5900, Number.POSITIVE_INFINITY], logA);
        written += flush(a, pageLog);
      }
      expect(a.firing('page')).toBe(true); // serialised mid-outage: alert state must carry over
      expect(written).toBeLessThan(60 * a.pageKeys().length);
      // Restore in a scrambled order.
      const keys = [...pageLog.keys()].sort(() => rand() - 0.5);
      const restored = new SloEngine(spec({ window, minEvents: 100 }), { bucketMs });
      for (const key of keys) restored.readPage(key, pageLog.get(key) as Buffer);
      restored.restored();
      expect([...restored.dirtyPages()]).toEqual([]);
      expect(restored.snapshot()).toEqual(a.snapshot());
      expect(restored.firing('page')).toBe(true);
      // Feed both the same 4000 more buckets (the outage ends after 300 more, alerts resolve).
      const logs: AlertTransition[][] = [[], []];
      feed([a, restored], rand, b, 4000, bucketMs, [T0 / bucketMs + 5900, b + 300], logs);
      expect(logs[0]?.some((t) => t.tier === 'page' && t.state === 'resolved')).toBe(true);
      expect(logs[1]).toEqual(logs[0]);
      expect(restored.snapshot()).toEqual(a.snapshot());
      expect(restored.late).toBe(a.late);
    });
  }

  it('writes every page of a full snapshot and rejects foreign pages', () => {
    const a = new SloEngine(spec(), { bucketMs: 10 * SECOND });
    a.add(T0, 5, 10);
    const keys = a.pageKeys();
    expect(keys[0]).toBe('h');
    expect(keys).toContain('f72');
    expect(keys).not.toContain('f73'); // 26280 buckets = 73 pages
    expect(keys.filter((k) => k.startsWith('c'))).toHaveLength(31); // 30 days + 3 slots in pages of 96
    expect([...a.dirtyPages()].sort()).toEqual(['c' + Math.floor(((T0 / SLOT) % (31 * 96)) / 96), 'f' + Math.floor(((T0 / 10_000) % 26_280) / 360), 'h'].sort());
    const b = new SloEngine(spec(), { bucketMs: 10 * SECOND });
    for (const k of keys) b.readPage(k, a.writePage(k));
    b.restored();
    expect(b.snapshot()).toEqual(a.snapshot());
    const other = new SloEngine(spec(), { bucketMs: MINUTE });
    expect(() => other.readPage('h', a.writePage('h'))).toThrow(RangeError);
    expect(() => b.readPage('f999', Buffer.alloc(5760))).toThrow(RangeError);
    expect(() => b.readPage('f1', Buffer.alloc(10))).toThrow(RangeError);
    expect(() => b.writePage('x1')).toThrow(RangeError);
  });
});
