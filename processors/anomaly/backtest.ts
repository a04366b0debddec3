import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DetectorBank, DetectorResult } from './detector-bank.js';
import { defaultDetectorConfig } from './config.js';
import type { DetectorConfig } from './config.js';
import { crossValidate, nabLayout, scoreCorpus, sweepThreshold, nabProfiles } from './nab/scorer.js';
import type { CorpusScore, CrossValidation, ScoredFile, SweepResult } from './nab/scorer.js';
import type { NabFile } from './nab/corpus.js';
import type { NabSeries } from './nab/csv.js';

/** Expected value and prediction interval per row, filled by {@link scoreSeries} when asked. */
export interface SeriesBands {
  readonly expected: Float64Array;
  readonly lower: Float64Array;
  readonly upper: Float64Array;
}

/** Per-row scores of one series: the detector run over its rows in file order (and its bands, when `bands` is given). */
export function scoreSeries(series: NabSeries, config: DetectorConfig = defaultDetectorConfig, bands?: SeriesBands): Float64Array {
  const bank = new DetectorBank(config, { initialSeries: 1, maxSeries: 1 });
  const slot = bank.allocate();
  const out = new DetectorResult();
  const scores = new Float64Array(series.values.length);
  for (let i = 0; i < scores.length; i++) {
    bank.update(slot, series.timestamps[i] as number, series.values[i] as number, out);
    scores[i] = out.score;
    if (bands) {
      bands.expected[i] = out.expected;
      bands.lower[i] = out.lower;
      bands.upper[i] = out.upper;
    }
  }
  return scores;
}

/** Bands sized for a series. */
export function bandsFor(rows: number): SeriesBands {
  return { expected: new Float64Array(rows), lower: new Float64Array(rows), upper: new Float64Array(rows) };
}

/** A backtest over a NAB corpus: per-file scores and the corpus figures. */
export interface BacktestResult {
  readonly files: readonly (ScoredFile & { readonly file: NabFile; readonly bands?: SeriesBands })[];
  /** Figures at the configured threshold. */
  readonly atThreshold: CorpusScore;
  /** Best single threshold per profile, when swept. */
  readonly sweep?: readonly SweepResult[];
  /** Figures at the best standard-profile threshold, when swept. */
  readonly atBest?: CorpusScore;
  /** Leave-one-category-out cross-validation of the threshold, when asked (see {@link crossValidate}). */
  readonly crossValidation?: CrossValidation;
}

/** The NAB category of a file name `<category>/<file>.csv` (the whole name when it has no folder). */
export function categoryOf(name: string): string {
  const slash = name.indexOf('/');
  return slash < 0 ? name : name.slice(0, slash);
}

/** Runs the detector over every file (one series per file) and scores the corpus. */
export function backtest(
  files: readonly NabFile[],
  options: { config?: DetectorConfig; threshold: number; sweep?: boolean; cv?: boolean; bands?: boolean; onFile?: (index: number, total: number) => void },
): BacktestResult {
  const config = options.config ?? defaultDetectorConfig;
  const scored = files.map((file, i) => {
    options.onFile?.(i, files.length);
    const bands = options.bands ? bandsFor(file.series.values.length) : undefined;
    const scores = scoreSeries(file.series, config, bands);
    return { file, layout: nabLayout(file.name, file.series.timestamps, file.windows), scores, ...(bands ? { bands } : {}) };
  });
  const atThreshold = scoreCorpus(scored, options.threshold);
  const crossValidation = options.cv ? { crossValidation: crossValidate(scored, (f) => categoryOf(f.layout.name)) } : {};
  if (!options.sweep) return { files: scored, atThreshold, ...crossValidation };
  const sweep = nabProfiles.map((p) => sweepThreshold(scored, p));
  const best = sweep[0] as SweepResult;
  return { files: scored, atThreshold, sweep, atBest: scoreCorpus(scored, best.threshold), ...crossValidation };
}

/** Writes one scored series as NAB results: `timestamp,value,anomaly_score`, rows in input order. */
export function formatResultsCsv(series: NabSeries, scores: ArrayLike<number>): string {
  const lines = ['timestamp,value,anomaly_score'];
  for (let i = 0; i < series.stamps.length; i++) lines.push(`${series.stamps[i] as string},${series.values[i] as number},${scores[i] as number}`);
  return `${lines.join('\n')}\n`;
}

/** Writes every file's scores under `outDir` in NAB's results layout, `<outDir>/<category>/<file>.csv`. */
export function writeResults(outDir: string, files: readonly { readonly name: string; readonly series: NabSeries; readonly scores: ArrayLike<number> }[]): void {
  for (const f of files) {
    const path = join(outDir, f.name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, formatResultsCsv(f.series, f.scores));
  }
}
