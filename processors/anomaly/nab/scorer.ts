import type { NabWindow } from './labels.js';

/**
 * The Numenta Anomaly Benchmark score (NAB v1 rules), computed from per-row anomaly scores.
 *
 * Per file of n rows: the first min(floor(0.15 n), 750) rows are probation and not scored. A
 * detection is a scored row whose score is >= the threshold. The earliest detection inside a
 * window [L, R] (W = R - L + 1 rows) is worth A_TP * S(-(R - i + 1) / W) / S(-1), where
 * S(y) = 2 / (1 + e^(5y)) - 1 (and -1 for y > 3); later detections in the same window count for
 * nothing. A detection outside every window is worth -A_FP before the first window, and
 * A_FP * S(|Rp - i| / (Wp - 1)) after a window of right edge Rp and width Wp. A window with no
 * detection is worth -A_FN. The corpus score is normalised:
 * 100 * (raw - raw_null) / (raw_perfect - raw_null), raw_null = -A_FN * windows,
 * raw_perfect = A_TP * windows.
 */

/** Weights of one NAB application profile. */
export interface NabProfile {
  readonly name: string;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
}

/** NAB's three application profiles. */
export const nabProfiles: readonly NabProfile[] = Object.freeze([
  Object.freeze({ name: 'standard', tp: 1, fp: 0.11, fn: 1 }),
  Object.freeze({ name: 'reward_low_FP_rate', tp: 1, fp: 0.22, fn: 1 }),
  Object.freeze({ name: 'reward_low_FN_rate', tp: 1, fp: 0.11, fn: 2 }),
]);

/** NAB's scaled sigmoid: -1 for y > 3, else 2 / (1 + e^(5y)) - 1. */
export function scaledSigmoid(y: number): number {
  if (y > 3) return -1;
  return 2 / (1 + Math.exp(5 * y)) - 1;
}

/** Number of probation rows of a file of `rows` rows. */
export function probationRows(rows: number): number {
  return Math.min(Math.floor(0.15 * rows), 750);
}

/** A window as row indices, both inclusive. */
export interface RowWindow {
  readonly left: number;
  readonly right: number;
}

/**
 * Where each window falls in a file's rows: from the first row at or after its start to the last
 * row at or before its end (windows match row timestamps exactly in NAB, so these are the rows
 * whose timestamps are its ends). Rows are taken in file order; timestamps need not be unique.
 */
export function windowRows(timestamps: Float64Array, windows: readonly NabWindow[]): RowWindow[] {
  const out: RowWindow[] = [];
  for (const w of windows) {
    let left = -1;
    let right = -1;
    for (let i = 0; i < timestamps.length; i++) {
      const t = timestamps[i] as number;
      if (left < 0 && t >= w.startMs) left = i;
      if (t <= w.endMs && t >= w.startMs) right = i;
    }
    if (left < 0) left = timestamps.length;
    out.push({ left, right: Math.max(right, left - 1) });
  }
  return out;
}

/** The score-independent facts of one file: which row is in which window and what it is worth. */
export interface NabFileLayout {
  readonly name: string;
  readonly rows: number;
  readonly probation: number;
  readonly windows: readonly RowWindow[];
  /** Window index of each row, -1 outside every window. */
  readonly windowOf: Int32Array;
  /**
   * Inside a window: the true-positive worth per unit A_TP, S(-(R-i+1)/W) / S(-1).
   * Outside: the false-positive worth per unit A_FP (-1 before the first window, negative after).
   */
  readonly unitValue: Float64Array;
}

/** Builds the layout of one file from its row timestamps and labelled windows. */
export function nabLayout(name: string, timestamps: Float64Array, windows: readonly NabWindow[]): NabFileLayout {
  const rows = timestamps.length;
  const rw = windowRows(timestamps, windows);
  const windowOf = new Int32Array(rows).fill(-1);
  const unitValue = new Float64Array(rows);
  const maxTp = scaledSigmoid(-1);
  for (let k = 0; k < rw.length; k++) {
    const w = rw[k] as RowWindow;
    for (let i = w.left; i <= w.right; i++) windowOf[i] = k;
  }
  let prev: RowWindow | undefined;
  let next = 0;
  for (let i = 0; i < rows; i++) {
    while (next < rw.length && (rw[next] as RowWindow).right < i) prev = rw[next++];
    const k = windowOf[i] as number;
    if (k >= 0) {
      const w = rw[k] as RowWindow;
      const width = w.right - w.left + 1;
      unitValue[i] = scaledSigmoid(-(w.right - i + 1) / width) / maxTp;
    } else if (prev === undefined) {
      unitValue[i] = -1;
    } else {
      const width = prev.right - prev.left + 1;
      unitValue[i] = scaledSigmoid(Math.abs(prev.right - i) / (width - 1));
    }
  }
  return { name, rows, probation: probationRows(rows), windows: rw, windowOf, unitValue };
}

/** A file's layout with the anomaly scores of its rows (same length and order). */
export interface ScoredFile {
  readonly layout: NabFileLayout;
  readonly scores: ArrayLike<number>;
}

/** Detections of one file at one threshold. */
export interface FileDetections {
  /** First detecting row of each window, -1 when missed. */
  readonly firstDetection: Int32Array;
  /** Sum of A_TP-unit worth of the counted (earliest) detections. */
  readonly tpUnits: number;
  /** Sum of A_FP-unit worth (negative) of detections outside windows. */
  readonly fpUnits: number;
  /** Detections outside windows. */
  readonly falsePositives: number;
  /** Detections inside windows (all of them, not just the earliest). */
  readonly inWindow: number;
}

/** Detections of one file's scored rows at `threshold` (score >= threshold detects). */
export function detectFile(file: ScoredFile, threshold: number): FileDetections {
  const { layout, scores } = file;
  const firstDetection = new Int32Array(layout.windows.length).fill(-1);
  let tpUnits = 0;
  let fpUnits = 0;
  let falsePositives = 0;
  let inWindow = 0;
  for (let i = layout.probation; i < layout.rows; i++) {
    if (!((scores[i] as number) >= threshold)) continue;
    const k = layout.windowOf[i] as number;
    if (k < 0) {
      fpUnits += layout.unitValue[i] as number;
      falsePositives++;
    } else {
      inWindow++;
      if ((firstDetection[k] as number) < 0) {
        firstDetection[k] = i;
        tpUnits += layout.unitValue[i] as number;
      }
    }
  }
  return { firstDetection, tpUnits, fpUnits, falsePositives, inWindow };
}

/** Corpus figures at one threshold. */
export interface CorpusScore {
  readonly threshold: number;
  /** Normalised NAB score per profile name. */
  readonly scores: Readonly<Record<string, number>>;
  /** Raw (unnormalised) NAB score per profile name. */
  readonly raw: Readonly<Record<string, number>>;
  readonly windows: number;
  readonly detectedWindows: number;
  readonly detections: number;
  readonly falsePositives: number;
  /** Detections inside windows / all detections on scored rows (NaN when there are none). */
  readonly precision: number;
  /** Windows with at least one detection / all windows (NaN when there are no windows). */
  readonly recall: number;
  /** Mean over detected windows of (first detecting row - window's first row), in rows. */
  readonly meanDelayRows: number;
}

/** Normalises a raw score: 100 (raw - null) / (perfect - null). */
export function normaliseNab(raw: number, windows: number, profile: NabProfile): number {
  const nul = -profile.fn * windows;
  const perfect = profile.tp * windows;
  return perfect === nul ? 0 : (100 * (raw - nul)) / (perfect - nul);
}

/**
 * Scores a corpus at one threshold under every profile, with precision, recall and mean
 * detection delay as defined on {@link CorpusScore}.
 */
export function scoreCorpus(files: readonly ScoredFile[], threshold: number, profiles: readonly NabProfile[] = nabProfiles): CorpusScore {
  let windows = 0;
  let detected = 0;
  let tpUnits = 0;
  let fpUnits = 0;
  let falsePositives = 0;
  let inWindow = 0;
  let delaySum = 0;
  for (const file of files) {
    const d = detectFile(file, threshold);
    windows += file.layout.windows.length;
    tpUnits += d.tpUnits;
    fpUnits += d.fpUnits;
    falsePositives += d.falsePositives;
    inWindow += d.inWindow;
    for (let k = 0; k < d.firstDetection.length; k++) {
      const first = d.firstDetection[k] as number;
      if (first < 0) continue;
      detected++;
      delaySum += first - (file.layout.windows[k] as RowWindow).left;
    }
  }
  const scores: Record<string, number> = {};
  const raw: Record<string, number> = {};
  for (const p of profiles) {
    const r = p.tp * tpUnits + p.fp * fpUnits - p.fn * (windows - detected);
    raw[p.name] = r;
    scores[p.name] = normaliseNab(r, windows, p);
  }
  const detections = inWindow + falsePositives;
  return {
    threshold,
    scores,
    raw,
    windows,
    detectedWindows: detected,
    detections,
    falsePositives,
    precision: detections === 0 ? Number.NaN : inWindow / detections,
    recall: windows === 0 ? Number.NaN : detected / windows,
    meanDelayRows: detected === 0 ? Number.NaN : delaySum / detected,
  };
}

/** Result of a threshold sweep for one profile. */
export interface SweepResult {
  readonly profile: string;
  readonly threshold: number;
  readonly score: number;
}

/**
 * The single threshold that maximises the normalised score of `profile` over the corpus. Every
 * distinct score value of a scored row is a candidate (detection is score >= threshold); ties go
 * to the highest threshold. O(rows log rows).
 */
export function sweepThreshold(files: readonly ScoredFile[], profile: NabProfile = nabProfiles[0] as NabProfile): SweepResult {
  let total = 0;
  let windows = 0;
  for (const f of files) {
    total += f.layout.rows - f.layout.probation;
    windows += f.layout.windows.length;
  }
  const score = new Float64Array(total);
  const value = new Float64Array(total);
  const window = new Int32Array(total);
  let n = 0;
  for (const f of files) {
    for (let i = f.layout.probation; i < f.layout.rows; i++) {
      const s = f.scores[i] as number;
      score[n] = Number.isNaN(s) ? Number.NEGATIVE_INFINITY : s;
      value[n] = f.layout.unitValue[i] as number;
      window[n] = f.layout.windowOf[i] as number;
      n++;
    }
  }
  // Global window ids, in file order.
  const windowBase = new Int32Array(files.length);
  let nextBase = 0;
  for (let k = 0; k < files.length; k++) {
    windowBase[k] = nextBase;
    nextBase += (files[k] as ScoredFile).layout.windows.length;
  }
  let r = 0;
  for (let k = 0; k < files.length; k++) {
    const f = files[k] as ScoredFile;
    for (let i = f.layout.probation; i < f.layout.rows; i++, r++) {
      const w = window[r] as number;
      if (w >= 0) window[r] = w + (windowBase[k] as number);
    }
  }
  const order = new Uint32Array(total);
  for (let i = 0; i < total; i++) order[i] = i;
  order.sort((a, b) => (score[b] as number) - (score[a] as number));
  const best = new Float64Array(windows).fill(Number.NaN);
  let tpUnits = 0;
  let fpUnits = 0;
  let detected = 0;
  let bestScore = normaliseNab(-profile.fn * windows, windows, profile);
  let bestThreshold = Number.POSITIVE_INFINITY;
  let i = 0;
  while (i < total) {
    const v = score[order[i] as number] as number;
    if (v === Number.NEGATIVE_INFINITY) break;
    while (i < total && score[order[i] as number] === v) {
      const row = order[i] as number;
      const w = window[row] as number;
      const u = value[row] as number;
      if (w < 0) fpUnits += u;
      else {
        const prev = best[w] as number;
        if (Number.isNaN(prev)) {
          detected++;
          best[w] = u;
          tpUnits += u;
        } else if (u > prev) {
          best[w] = u;
          tpUnits += u - prev;
        }
      }
      i++;
    }
    const raw = profile.tp * tpUnits + profile.fp * fpUnits - profile.fn * (windows - detected);
    const s = normaliseNab(raw, windows, profile);
    if (s > bestScore) {
      bestScore = s;
      bestThreshold = v;
    }
  }
  return { profile: profile.name, threshold: bestThreshold, score: bestScore };
}

/** One fold of a leave-one-group-out cross-validation: the group left out and how it scored. */
export interface CrossValidationFold {
  /** The group scored (e.g. a NAB category). */
  readonly group: string;
  readonly files: number;
  readonly windows: number;
  /** Threshold chosen on the other groups, per profile name. */
  readonly thresholds: Readonly<Record<string, number>>;
  /** Normalised score of the group at its profile's threshold, per profile (NaN when the group has no window). */
  readonly scores: Readonly<Record<string, number>>;
  /** Raw score of the group at its profile's threshold, per profile. */
  readonly raw: Readonly<Record<string, number>>;
  /** Detections outside windows at the standard profile's threshold. */
  readonly falsePositives: number;
  readonly detectedWindows: number;
}

/** A leave-one-group-out cross-validated NAB score. */
export interface CrossValidation {
  readonly folds: readonly CrossValidationFold[];
  /**
   * The pooled score per profile: every group scored at the threshold chosen without it, the
   * raw scores summed and normalised over all windows (so a group without windows still counts
   * by its false positives).
   */
  readonly pooled: Readonly<Record<string, number>>;
  /** Mean of the folds' normalised scores per profile, over the folds that have windows. */
  readonly mean: Readonly<Record<string, number>>;
}

/**
 * Leave-one-group-out cross-validation of the threshold: for each group, the best single
 * threshold of each profile is found on the files of every other group ({@link sweepThreshold})
 * and the left-out group is scored at it. Nothing else is tuned here; a detector constant is
 * judged by running this over the detector's scores with and without the change.
 */
export function crossValidate(files: readonly ScoredFile[], groupOf: (file: ScoredFile) => string, profiles: readonly NabProfile[] = nabProfiles): CrossValidation {
  const groups = [...new Set(files.map(groupOf))].sort();
  const folds: CrossValidationFold[] = [];
  const rawSum: Record<string, number> = {};
  let windows = 0;
  for (const group of groups) {
    const held = files.filter((f) => groupOf(f) === group);
    const train = files.filter((f) => groupOf(f) !== group);
    const thresholds: Record<string, number> = {};
    const scores: Record<string, number> = {};
    const raw: Record<string, number> = {};
    let falsePositives = 0;
    let detectedWindows = 0;
    const groupWindows = held.reduce((n, f) => n + f.layout.windows.length, 0);
    for (const p of profiles) {
      const t = sweepThreshold(train, p).threshold;
      const s = scoreCorpus(held, t, [p]);
      thresholds[p.name] = t;
      raw[p.name] = s.raw[p.name] as number;
      scores[p.name] = groupWindows === 0 ? Number.NaN : (s.scores[p.name] as number);
      rawSum[p.name] = (rawSum[p.name] ?? 0) + (s.raw[p.name] as number);
      if (p === profiles[0]) {
        falsePositives = s.falsePositives;
        detectedWindows = s.detectedWindows;
      }
    }
    windows += groupWindows;
    folds.push({ group, files: held.length, windows: groupWindows, thresholds, scores, raw, falsePositives, detectedWindows });
  }
  const pooled: Record<string, number> = {};
  const mean: Record<string, number> = {};
  for (const p of profiles) {
    pooled[p.name] = normaliseNab(rawSum[p.name] ?? 0, windows, p);
    const scored = folds.filter((f) => f.windows > 0);
    mean[p.name] = scored.length === 0 ? Number.NaN : scored.reduce((s, f) => s + (f.scores[p.name] as number), 0) / scored.length;
  }
  return { folds, pooled, mean };
}
