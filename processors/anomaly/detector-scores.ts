import type { DetectorConfig } from './config.js';
import { BLOCK_INDEX, BLOCK_MAX, BLOCK_POINTS, BLOCK_START, COUNT, LOG10_2, LONG_MEAN, LONG_VAR, MAX_VALUE, MIN_VALUE, RING_MAX, SCALE_FLOOR, SHIFT_FAST, SHIFT_GAP_VAR, SHIFT_RUN, SHIFT_SLOW, SHIFT_SLOW_VAR, SHORT_A, STRIDE } from './detector-layout.js';
import { normalTailLog10 } from './stats.js';

/*
 * The detector's scores besides the residual's own (see DetectorBank): novelty of a residual,
 * likelihood of a sustained rise of surprise, level shift, and range. Each reads and updates one
 * series' record in place (`st` at base `b`); O(1) per point (novelty O(noveltyBlocks) once per
 * block), no allocation.
 */

/**
 * Novelty factor of a residual of this size, in [0, 1]: 0 up to the largest residual of the
 * recent past, 1 from noveltyMargin above it. Records the size, then closes the open block
 * once it is long enough (see the config) or spans noveltyMaxMs / noveltyBlocks; the ring's
 * maximum is refreshed then, so the cost is O(noveltyBlocks) once per block.
 */
export function novelty(st: Float64Array, ring: Float32Array, ringSize: number, slot: number, c: DetectorConfig, size: number, timestampMs: number): number {
  const b = slot * STRIDE;
  const open = st[b + BLOCK_MAX] as number;
  const record = Math.max(open, st[b + RING_MAX] as number);
  const ratio = record > 0 ? size / record : Number.POSITIVE_INFINITY;
  if (size > open) st[b + BLOCK_MAX] = size;
  const points = (st[b + BLOCK_POINTS] as number) + 1;
  let start = st[b + BLOCK_START] as number;
  if (Number.isNaN(start)) {
    start = timestampMs;
    st[b + BLOCK_START] = start;
  }
  const elapsed = timestampMs - start;
  const long = elapsed >= c.noveltyBlockMs && points >= c.noveltyBlockPoints && points * ringSize >= c.noveltyHistoryShare * (st[b + COUNT] as number);
  if (!long && elapsed * ringSize < c.noveltyMaxMs) {
    st[b + BLOCK_POINTS] = points;
  } else {
    const base = slot * ringSize;
    const index = st[b + BLOCK_INDEX] as number;
    ring[base + (index % ringSize)] = st[b + BLOCK_MAX] as number;
    st[b + BLOCK_INDEX] = (index + 1) % ringSize;
    st[b + BLOCK_START] = timestampMs;
    st[b + BLOCK_POINTS] = 0;
    st[b + BLOCK_MAX] = 0;
    let m = 0;
    for (let i = base; i < base + ringSize; i++) if ((ring[i] as number) > m) m = ring[i] as number;
    st[b + RING_MAX] = m;
  }
  return ratio <= 1 ? 0 : Math.min(1, (ratio - 1) / c.noveltyMargin);
}

/**
 * Sustained-change score: the short-run mean of residual sizes (mapped to [0, 1]) against its
 * long-run mean and variance; only a rise counts.
 */
export function likelihood(st: Float64Array, b: number, c: DetectorConfig, calibrated: number, n: number): number {
  const a = calibrated <= c.rawLow ? 0 : calibrated >= c.rawHigh ? 1 : (calibrated - c.rawLow) / (c.rawHigh - c.rawLow);
  const shortA = (st[b + SHORT_A] as number) + c.shortRate * (a - (st[b + SHORT_A] as number));
  st[b + SHORT_A] = shortA;
  const lm = st[b + LONG_MEAN] as number;
  const lv = st[b + LONG_VAR] as number;
  const rise = shortA - Math.max(lm, c.likelihoodMeanFloor);
  const log = rise <= 0 ? 0 : normalTailLog10(rise / Math.max(Math.sqrt(lv), c.likelihoodSdFloor));
  const dl = shortA - lm;
  const rate = Math.max(c.longRate, 1 / (n + 1));
  st[b + LONG_MEAN] = lm + rate * dl;
  st[b + LONG_VAR] = (1 - rate) * (lv + rate * dl * dl);
  return Math.min(1, (c.likelihoodWeight * log) / c.likelihoodDecades);
}

/**
 * Level-shift score of a deseasonalised value `x` (the `n`-th point): fast against slow mean of
 * the clipped values, in units of the long-run spread of their gap. Until shiftPersist
 * consecutive points reach the alerting level, the score stays just below it.
 */
export function levelShift(st: Float64Array, b: number, c: DetectorConfig, x0: number, n: number, floor: number): number {
  const slow = st[b + SHIFT_SLOW] as number;
  const slowVar = st[b + SHIFT_SLOW_VAR] as number;
  const lim = c.shiftClip * Math.sqrt(slowVar);
  const x = n < 2 ? x0 : x0 > slow + lim ? slow + lim : x0 < slow - lim ? slow - lim : x0;
  const fast = n === 0 ? x : (st[b + SHIFT_FAST] as number) + c.fastRate * (x - (st[b + SHIFT_FAST] as number));
  st[b + SHIFT_FAST] = fast;
  const slowRate = Math.max(c.slowRate, 1 / (n + 1));
  st[b + SHIFT_SLOW] = n === 0 ? x : slow + slowRate * (x - slow);
  st[b + SHIFT_SLOW_VAR] = n === 0 ? 0 : (1 - slowRate) * (slowVar + slowRate * (x0 - slow) * (x0 - slow));
  const gap = fast - slow;
  const gapVar = st[b + SHIFT_GAP_VAR] as number;
  st[b + SHIFT_GAP_VAR] = n === 0 ? 0 : gapVar + Math.max(c.shiftVarRate, 1 / n) * (gap * gap - gapVar);
  if (n + 1 < c.minHistory) return 0;
  const log = normalTailLog10(Math.abs(gap) / Math.max(Math.sqrt(gapVar), floor, SCALE_FLOOR)) - LOG10_2;
  const score = log <= 0 ? 0 : Math.min(1, (c.levelShiftWeight * log) / c.shiftDecades);
  const run = score >= c.alertKnee ? (st[b + SHIFT_RUN] as number) + 1 : 0;
  st[b + SHIFT_RUN] = run;
  return run >= c.shiftPersist ? score : Math.min(score, 0.99 * c.alertKnee);
}

/** Whether `value` lies beyond the range of the values seen so far by rangeTolerance of it (then widens it). */
export function outOfRange(st: Float64Array, b: number, c: DetectorConfig, value: number, n: number): boolean {
  if (n === 0) {
    st[b + MIN_VALUE] = value;
    st[b + MAX_VALUE] = value;
    return false;
  }
  const lo = st[b + MIN_VALUE] as number;
  const hi = st[b + MAX_VALUE] as number;
  const tol = c.rangeTolerance * (hi - lo);
  if (value > hi) st[b + MAX_VALUE] = value;
  else if (value < lo) st[b + MIN_VALUE] = value;
  return value > hi + tol || value < lo - tol;
}

/** `x` clipped to [-lim, lim]. */
export function clip(x: number, lim: number): number {
  return x > lim ? lim : x < -lim ? -lim : x;
}

/** The z with P(|Z| > z) = 1 - level for a standard normal (bisection; once per bank). */
export function twoSidedQuantile(level: number): number {
  const target = -Math.log10((1 - level) / 2);
  let lo = 0;
  let hi = 40;
  for (let i = 0; i < 60; i++) {
    const mid = 0.5 * (lo + hi);
    if (normalTailLog10(mid) < target) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}
