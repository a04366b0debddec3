import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  crossValidate,
  defaultNabDir,
  loadNabCorpus,
  loadNabCsv,
  nabLayout,
  nabProfiles,
  parseNabCsv,
  parseNabWindows,
  probationRows,
  scoreCorpus,
  sweepThreshold,
  windowRows,
} from '../../../processors/anomaly/nab/index.js';
import type { NabFile, NabWindow, ScoredFile } from '../../../processors/anomaly/nab/index.js';

const MIN = 60_000;
const T0 = Date.UTC(2020, 0, 1);

/** NAB's sigmoid written out independently of the implementation. */
function sigmoid(y: number): number {
  return y > 3 ? -1 : 2 / (1 + Math.exp(5 * y)) - 1;
}

/** A file of `rows` rows one minute apart with the given windows (row indices) and detections. */
function file(rows: number, windows: [number, number][], detections: number[]): ScoredFile {
  const ts = new Float64Array(rows);
  for (let i = 0; i < rows; i++) ts[i] = T0 + i * MIN;
  const w: NabWindow[] = windows.map(([l, r]) => ({ startMs: T0 + l * MIN, endMs: T0 + r * MIN }));
  const scores = new Float64Array(rows);
  for (const d of detections) scores[d] = 1;
  return { layout: nabLayout('test', ts, w), scores };
}

function standard(files: ScoredFile[]): number {
  return scoreCorpus(files, 0.5).raw.standard as number;
}

describe('NAB scorer on hand-made files', () => {
  // 20 rows: probation floor(0.15 * 20) = 3 rows; one window on rows 10..13 (W = 4).
  it('has the probation NAB defines', () => {
    expect(probationRows(20)).toBe(3);
    expect(probationRows(4032)).toBe(604);
    expect(probationRows(10_000)).toBe(750);
  });

  it('pays a detection at the window start the full A_TP and scores 100', () => {
    const f = file(20, [[10, 13]], [10]);
    expect(standard([f])).toBeCloseTo(1, 12); // S(-4/4) / S(-1) = 1
    expect(scoreCorpus([f], 0.5).scores.standard).toBeCloseTo(100, 10);
  });

  it('pays a late detection less: S(-(R-i+1)/W) / S(-1)', () => {
    const f = file(20, [[10, 13]], [13]);
    expect(standard([f])).toBeCloseTo(sigmoid(-1 / 4) / sigmoid(-1), 12);
    expect(standard([f])).toBeCloseTo(0.5621, 3);
  });

  it('counts only the earliest detection in a window', () => {
    expect(standard([file(20, [[10, 13]], [11, 12, 13])])).toBeCloseTo(sigmoid(-3 / 4) / sigmoid(-1), 12);
  });

  it('charges -A_FP before the first window and the missed window -A_FN', () => {
    const f = file(20, [[10, 13]], [5]);
    expect(standard([f])).toBeCloseTo(-0.11 - 1, 12);
    // normalised: 100 (raw - null) / (perfect - null) with null = -1, perfect = 1
    expect(scoreCorpus([f], 0.5).scores.standard).toBeCloseTo((100 * (-1.11 + 1)) / 2, 10);
    expect(scoreCorpus([f], 0.5).raw.reward_low_FP_rate).toBeCloseTo(-0.22 - 1, 12);
    expect(scoreCorpus([f], 0.5).raw.reward_low_FN_rate).toBeCloseTo(-0.11 - 2, 12);
  });

  it('charges a false positive after a window by its distance: A_FP * S(|Rp - i| / (Wp - 1))', () => {
    const f = file(20, [[10, 13]], [10, 15]);
    expect(standard([f])).toBeCloseTo(1 + 0.11 * sigmoid(2 / 3), 12);
    expect(sigmoid(2 / 3)).toBeCloseTo(-0.9314, 3);
    const next = file(20, [[10, 13]], [14]); // right after the window: nearly free
    expect(standard([next])).toBeCloseTo(-1 + 0.11 * sigmoid(1 / 3), 12);
  });

  it('ignores detections in probation', () => {
    expect(standard([file(20, [[10, 13]], [0, 1, 2])])).toBeCloseTo(-1, 12);
    expect(scoreCorpus([file(20, [], [2])], 0.5).falsePositives).toBe(0);
    expect(scoreCorpus([file(20, [], [3])], 0.5).falsePositives).toBe(1);
  });

  it('reports precision, recall and detection delay', () => {
    const s = scoreCorpus([file(20, [[10, 13]], [11, 12, 15]), file(20, [[5, 8]], [])], 0.5);
    expect(s.windows).toBe(2);
    expect(s.detectedWindows).toBe(1);
    expect(s.recall).toBe(0.5);
    expect(s.precision).toBeCloseTo(2 / 3, 12); // 2 of 3 detections inside windows
    expect(s.meanDelayRows).toBe(1); // first detection one row after the window's start
  });

  it('sweeps to the threshold that keeps the true detection and drops the false one', () => {
    const f = file(20, [[10, 13]], []);
    const scores = new Float64Array(20);
    scores[5] = 0.6; // false positive, below the true one
    scores[11] = 0.7; // inside the window
    const sweep = sweepThreshold([{ layout: f.layout, scores }]);
    expect(sweep.threshold).toBe(0.7);
    expect(sweep.score).toBeCloseTo(100 * ((sigmoid(-3 / 4) / sigmoid(-1) + 1) / 2), 10);
  });
});

describe('leave-one-group-out cross-validation', () => {
  /** A file whose window row 11 scores `hit` and whose row 5 (outside) scores `miss`. */
  function scored(name: string, hit: number, miss: number): ScoredFile {
    const f = file(20, [[10, 13]], []);
    const scores = new Float64Array(20);
    scores[11] = hit;
    scores[5] = miss;
    return { layout: { ...f.layout, name }, scores };
  }

  it('scores each group at the threshold chosen on the others, and pools the raw scores', () => {
    // Group a alone would choose 0.8 (its false positive at 0.7 dropped); b chooses 0.6.
    const a = scored('a/1.csv', 0.8, 0.7);
    const b = scored('b/1.csv', 0.6, 0.1);
    const cv = crossValidate([a, b], (f) => f.layout.name.split('/')[0] as string);
    expect(cv.folds.map((f) => f.group)).toEqual(['a', 'b']);
    const [foldA, foldB] = cv.folds;
    // a is scored at b's threshold 0.6: its window found (row 11) and its false positive (row 5) paid.
    expect(foldA?.thresholds.standard).toBe(0.6);
    expect(foldA?.raw.standard).toBeCloseTo(sigmoid(-3 / 4) / sigmoid(-1) - 0.11, 12);
    expect(foldA?.falsePositives).toBe(1);
    // b is scored at a's threshold 0.8: its window (0.6) is missed.
    expect(foldB?.thresholds.standard).toBe(0.8);
    expect(foldB?.raw.standard).toBe(-1);
    expect(foldB?.scores.standard).toBe(0);
    const raw = (foldA?.raw.standard as number) + (foldB?.raw.standard as number);
    expect(cv.pooled.standard).toBeCloseTo((100 * (raw + 2)) / 4, 10);
    expect(cv.mean.standard).toBeCloseTo(((foldA?.scores.standard as number) + 0) / 2, 10);
  });

  it('counts a group without windows by its false positives only', () => {
    const quiet = file(20, [], [8]);
    const cv = crossValidate([scored('a/1.csv', 0.9, 0), { layout: { ...quiet.layout, name: 'n/1.csv' }, scores: quiet.scores }], (f) => f.layout.name.split('/')[0] as string);
    const none = cv.folds.find((f) => f.group === 'n');
    expect(none?.windows).toBe(0);
    expect(Number.isNaN(none?.scores.standard)).toBe(true);
    expect(none?.raw.standard).toBeCloseTo(-0.11, 12);
    expect(cv.mean.standard).toBe(cv.folds.find((f) => f.group === 'a')?.scores.standard);
  });
});

describe('NAB files', () => {
  it('parses CRLF files and keeps duplicate timestamps as separate rows in order', () => {
    const s = parseNabCsv('timestamp,value\r\n2014-03-09 03:00:00,1\r\n2014-03-09 03:00:00,2\r\n2014-03-09 03:05:00,3\r\n');
    expect([...s.values]).toEqual([1, 2, 3]);
    expect(s.timestamps[0]).toBe(Date.UTC(2014, 2, 9, 3, 0, 0));
    expect(s.timestamps[1]).toBe(s.timestamps[0]);
    expect(s.stamps[2]).toBe('2014-03-09 03:05:00');
  });

  it('places windows on rows, both ends inclusive, with fractional-second label stamps', () => {
    const labels = parseNabWindows({ 'a/b.csv': [['2014-03-09 03:05:00.000000', '2014-03-09 03:10:00.000000']] });
    const s = parseNabCsv('timestamp,value\n2014-03-09 03:00:00,1\n2014-03-09 03:00:00,2\n2014-03-09 03:05:00,3\n2014-03-09 03:10:00,4\n2014-03-09 03:15:00,5\n');
    expect(windowRows(s.timestamps, labels.get('a/b.csv') ?? [])).toEqual([{ left: 2, right: 3 }]);
  });
});

describe('NAB golden figures', () => {
  const dir = defaultNabDir();
  let corpus: NabFile[] = [];
  beforeAll(() => {
    if (!existsSync(join(dir, 'golden', 'numenta'))) {
      throw new Error(`NAB corpus not found at ${dir} (expected data/, labels/ and golden/numenta/; set AIOPS_NAB_DIR)`);
    }
    corpus = loadNabCorpus(dir);
  });

  it('reproduces the published Numenta HTM scores from its golden results', () => {
    expect(corpus).toHaveLength(41);
    const files = corpus.map((f) => ({ layout: nabLayout(f.name, f.series.timestamps, f.windows), scores: loadNabCsv(join(dir, 'golden', 'numenta', f.name)).values }));
    const s = scoreCorpus(files, 0.5421876907348634);
    expect(s.windows).toBe(64);
    expect(Math.abs((s.scores.standard as number) - 75.52)).toBeLessThan(0.01);
    expect(Math.abs((s.scores.reward_low_FP_rate as number) - 70.68)).toBeLessThan(0.01);
    expect(Math.abs((s.scores.reward_low_FN_rate as number) - 78.99)).toBeLessThan(0.01);
    expect(nabProfiles.map((p) => p.name)).toEqual(['standard', 'reward_low_FP_rate', 'reward_low_FN_rate']);
  });
});

describe('default detector on the development corpus', () => {
  it('scores above the published Numenta HTM figures at the default threshold, plain and cross-validated, with few false positives', async () => {
    const { backtest } = await import('../../../processors/anomaly/backtest.js');
    const corpus = loadNabCorpus(defaultNabDir());
    const result = backtest(corpus, { threshold: 0.5, cv: true });
    const s = result.atThreshold;
    expect(s.windows).toBe(64);
    // Before the shorter novelty memory: 75.91 / 73.19 / 78.73 plain, 73.97 / 71.75 / 77.06 cross-validated.
    expect(s.scores.standard as number).toBeGreaterThan(78.5);
    expect(s.scores.reward_low_FP_rate as number).toBeGreaterThan(74.5);
    expect(s.scores.reward_low_FN_rate as number).toBeGreaterThan(81.5);
    const cv = result.crossValidation?.pooled ?? {};
    expect(cv.standard as number).toBeGreaterThan(77);
    expect(cv.reward_low_FP_rate as number).toBeGreaterThan(73);
    expect(cv.reward_low_FN_rate as number).toBeGreaterThan(80);
    expect(s.detectedWindows).toBeGreaterThanOrEqual(56);
    expect(s.falsePositives).toBeLessThanOrEqual(50);
    // No false positive at all on the files without anomalies.
    for (const f of result.files.filter((x) => x.file.windows.length === 0 && x.file.name.startsWith('artificial'))) {
      let alerts = 0;
      for (let i = f.layout.probation; i < f.layout.rows; i++) if ((f.scores[i] as number) >= 0.5) alerts++;
      expect(alerts).toBe(0);
    }
  });
});

describe('backtest', () => {
  it('scores a small labelled corpus in process and writes NAB results rows in input order', async () => {
    const { backtest, formatResultsCsv } = await import('../../../processors/anomaly/backtest.js');
    const rows: string[] = ['timestamp,value'];
    for (let i = 0; i < 2000; i++) {
      const t = new Date(Date.UTC(2024, 0, 1) + i * 300_000).toISOString().slice(0, 19).replace('T', ' ');
      rows.push(`${t},${(10 + Math.sin(i / 10) + (i === 1500 ? 40 : 0)).toFixed(4)}`);
    }
    const series = parseNabCsv(rows.join('\n'));
    const start = series.timestamps[1450] as number;
    const end = series.timestamps[1550] as number;
    const result = backtest([{ name: 'synthetic/spike.csv', series, windows: [{ startMs: start, endMs: end }] }], { threshold: 0.5, sweep: true });
    expect(result.atThreshold.windows).toBe(1);
    expect(result.atThreshold.detectedWindows).toBe(1);
    expect(result.atThreshold.falsePositives).toBe(0);
    expect(result.atThreshold.meanDelayRows).toBe(50); // the spike, at the window's centre
    expect(result.sweep?.[0]?.score).toBeGreaterThan(80);
    const csv = formatResultsCsv(series, result.files[0]?.scores ?? []).split('\n');
    expect(csv[0]).toBe('timestamp,value,anomaly_score');
    expect(csv[1]?.startsWith('2024-01-01 00:00:00,')).toBe(true);
    expect(csv).toHaveLength(2002);
  });
});
