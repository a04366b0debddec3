import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { backtest, scoreSeries, writeResults } from '../processors/anomaly/backtest.js';
import { defaultDetectorConfig } from '../processors/anomaly/config.js';
import { defaultNabDir, loadNabCorpus, loadNabCsv } from '../processors/anomaly/nab/index.js';
import type { CorpusScore } from '../processors/anomaly/nab/index.js';
import { aiopsError } from '../runtime/errors.js';

/** Default alert threshold of the backtest (the detector's default configuration is tuned for it). */
export const defaultBacktestThreshold = 0.5;

const usage = `usage: aiops backtest [--nab <dir>] [--threshold x] [--sweep] [--out <results dir>] [--csv file...]

Runs the anomaly detector (default configuration) over each file in process, rows in file
order, one series per file, and scores it with the NAB rules.
  --nab <dir>        NAB folder with data/ and labels/ (default: AIOPS_NAB_DIR or ../shared/nab)
  --threshold x      alert threshold (default ${defaultBacktestThreshold})
  --sweep            also find the best single threshold (standard profile)
  --out <dir>        write per-row scores as <dir>/<category>/<file>.csv (timestamp,value,anomaly_score)
  --csv file...      score these timestamp,value files instead (no labels: detections only)
`;

function fmt(x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toFixed(digits) : 'n/a';
}

function report(title: string, s: CorpusScore): string {
  const lines = [
    `${title} (threshold ${fmt(s.threshold, 4)})`,
    `  standard            ${fmt(s.scores.standard ?? Number.NaN).padStart(7)}`,
    `  reward_low_FP_rate  ${fmt(s.scores.reward_low_FP_rate ?? Number.NaN).padStart(7)}`,
    `  reward_low_FN_rate  ${fmt(s.scores.reward_low_FN_rate ?? Number.NaN).padStart(7)}`,
    `  windows detected ${s.detectedWindows}/${s.windows}, recall ${fmt(s.recall, 3)}, precision ${fmt(s.precision, 3)}, ` +
      `false positives ${s.falsePositives}, mean detection delay ${fmt(s.meanDelayRows, 1)} rows`,
  ];
  return `${lines.join('\n')}\n`;
}

function progress(enabled: boolean): (index: number, total: number, name: string) => void {
  if (!enabled) return () => undefined;
  return (index, total, name) => {
    const line = index >= total ? '' : `[${index + 1}/${total}] ${name}`;
    process.stderr.write(`\r\x1b[K${line}`);
  };
}

/** `aiops backtest`: scores the detector on a NAB corpus (or plain CSV files); returns the exit code. */
export async function runBacktest(argv: string[]): Promise<number> {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        nab: { type: 'string' },
        threshold: { type: 'string' },
        sweep: { type: 'boolean', default: false },
        out: { type: 'string' },
        csv: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw aiopsError('CLI_USAGE', [`${(error as Error).message}\n\n${usage}`]);
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const threshold = values.threshold === undefined ? defaultBacktestThreshold : Number(values.threshold);
  if (!Number.isFinite(threshold)) throw aiopsError('CLI_USAGE', [`--threshold: expected a number, got "${values.threshold}"\n\n${usage}`]);
  const tick = progress(process.stderr.isTTY === true);

  // `--csv a.csv b.csv` leaves b.csv as a positional: both are inputs.
  const csvFiles = values.csv ? [...values.csv, ...positionals] : [];
  if (csvFiles.length > 0) {
    const scored = csvFiles.map((path, i) => {
      tick(i, csvFiles.length, path);
      const series = loadNabCsv(path);
      return { name: basename(path), series, scores: scoreSeries(series, defaultDetectorConfig) };
    });
    tick(csvFiles.length, csvFiles.length, '');
    for (const f of scored) {
      let detections = 0;
      for (let i = 0; i < f.scores.length; i++) if ((f.scores[i] as number) >= threshold) detections++;
      process.stdout.write(`${f.name}: ${f.scores.length} rows, ${detections} at or above ${threshold}\n`);
    }
    if (values.out) {
      writeResults(values.out, scored);
      process.stdout.write(`scores written under ${values.out}\n`);
    }
    return 0;
  }
  if (positionals.length > 0) throw aiopsError('CLI_USAGE', [`unexpected argument "${positionals[0]}"\n\n${usage}`]);

  const dir = values.nab ?? defaultNabDir();
  let corpus;
  try {
    corpus = loadNabCorpus(dir);
  } catch (error) {
    throw aiopsError('CLI_USAGE', [(error as Error).message]);
  }
  const started = Date.now();
  const result = backtest(corpus, {
    config: defaultDetectorConfig,
    threshold,
    sweep: values.sweep,
    onFile: (i, total) => tick(i, total, (corpus[i] as { name: string }).name),
  });
  tick(corpus.length, corpus.length, '');
  const rows = corpus.reduce((n, f) => n + f.series.values.length, 0);
  process.stdout.write(`NAB backtest: ${corpus.length} files, ${rows} rows, ${result.atThreshold.windows} windows (${dir}), ${Date.now() - started} ms\n`);
  process.stdout.write(report('at the configured threshold', result.atThreshold));
  if (result.sweep && result.atBest) {
    process.stdout.write(report('at the best threshold for the standard profile', result.atBest));
    const best = result.sweep.map((s) => `${s.profile} ${fmt(s.score)} @ ${fmt(s.threshold, 4)}`).join(', ');
    process.stdout.write(`  best per profile: ${best}\n`);
  }
  if (values.out) {
    writeResults(values.out, result.files.map((f) => ({ name: f.file.name, series: f.file.series, scores: f.scores })));
    process.stdout.write(`scores written under ${values.out}\n`);
  }
  return 0;
}
