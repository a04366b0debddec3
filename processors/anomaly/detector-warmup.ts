import type { DetectorConfig } from './config.js';
import { LEVEL, MAD, MAD_TO_SD, MEDIAN, MODE, MODE_SEASONAL, SCALE_FLOOR, BOOTSTRAP_POINTS, STRIDE, TREND, VARIANCE } from './detector-layout.js';
import { clip } from './detector-scores.js';

/*
 * The detector's warm-up (see DetectorBank): until one season has passed, a series is judged by
 * a streaming median and MAD while its season row collects each slot's values; then the season
 * starts from them.
 */

/**
 * One step of the warm-up's streaming median and MAD of a series (record `st` at base `b`) with
 * the `n`-th value: plain means while bootstrapping (the first point is the median and says
 * nothing about the spread), then steps bounded by warmupRate of the MAD.
 */
export function warmupStep(st: Float64Array, b: number, c: DetectorConfig, value: number, n: number): void {
  const med = st[b + MEDIAN] as number;
  const mad = st[b + MAD] as number;
  const dev = value - med;
  if (n === 0) {
    // The first point is the median; it says nothing about the spread yet.
    st[b + MEDIAN] = value;
    st[b + MAD] = 0;
  } else if (n < BOOTSTRAP_POINTS) {
    const w = 1 / n;
    st[b + MEDIAN] = med + dev * w;
    st[b + MAD] = mad + (Math.abs(dev) - mad) * w;
  } else {
    const stepM = c.warmupRate * Math.max(MAD_TO_SD * mad, SCALE_FLOOR * (1 + Math.abs(med)));
    st[b + MEDIAN] = med + (dev > stepM ? stepM : dev < -stepM ? -stepM : dev);
    const ad = Math.abs(dev) - mad;
    st[b + MAD] = mad + (ad > stepM ? stepM : ad < -stepM ? -stepM : ad);
  }
}

/** Ends warm-up: the level is the mean of the slots seen, the season their clipped offsets. */
export function startSeason(st: Float64Array, season: Float32Array, cap: number, slots: number, slot: number, c: DetectorConfig): void {
  const b = slot * STRIDE;
  const from = slot;
  const to = slots * cap;
  const stepI = cap;
  let sum = 0;
  let seen = 0;
  for (let i = from; i < to; i += stepI) {
    const v = season[i] as number;
    if (!Number.isNaN(v)) {
      sum += v;
      seen++;
    }
  }
  const level = seen > 0 ? sum / seen : (st[b + MEDIAN] as number);
  const mult = c.seasonality === 'multiplicative';
  const robustSd = MAD_TO_SD * (st[b + MAD] as number);
  const lim = c.initClipSigmas * robustSd + Number.MIN_VALUE;
  for (let i = from; i < to; i += stepI) {
    const v = season[i] as number;
    if (Number.isNaN(v)) continue;
    const d = clip(v - level, lim);
    season[i] = mult ? (level === 0 ? 1 : (level + d) / level) : d;
  }
  st[b + LEVEL] = level;
  st[b + TREND] = 0;
  st[b + VARIANCE] = robustSd * robustSd;
  st[b + MODE] = MODE_SEASONAL;
}
