import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { backtest, writeResults } from '../processors/anomaly/backtest.js';
import type { BacktestResult } from '../processors/anomaly/backtest.js';
import { defaultDetectorConfig, parseDetectorConfig, signalMetrics } from '../processors/anomaly/config.js';
import type { DetectorConfig, SignalMetric } from '../processors/anomaly/config.js';
import { defaultNabDir, loadNabCorpus, loadNabCsv, loadNabWindows } from '../processors/anomaly/nab/index.js';
import { nabProfiles } from '../processors/anomaly/nab/index.js';
import type { CorpusScore, CrossValidation, NabFile } from '../processors/anomaly/nab/index.js';
import { htmlReport, seriesSvg, svgToPng } from '../processors/anomaly/report.js';
import type { ReportSeries } from '../processors/anomaly/report.js';
import { readTopicSeries } from '../processors/anomaly/topic-source.js';
import { aiopsError } from '../runtime/errors.js';
import { kafkaConnectionFromEnv } from '../runtime/kafka-config.js';
import { withBrokers } from '../producers/replay/replay-command.js';
import { signalValuesTopic } from '../schemas/signal-values.js';
import { kafkaClient } from '../stack/clients/index.js';

/** Default alert threshold of the backtest (the detector's default configuration is tuned for it). */
export const defaultBacktestThreshold = 0.5;

const usage = `usage: aiops backtest [source] [--threshold x] [--sweep] [--cv] [--out dir] [--report file.html] [--png name --png-out file.png]

Replays series through the anomaly detector (default configuration) in process, rows in order,
one detector per series, and scores the detections with the NAB rules where labels exist.

source (one of):
  --nab <dir>         NAB folder with data/ and labels/ (default: AIOPS_NAB_DIR or ../shared/nab)
  --csv file...       timestamp,value files (NAB data layout; no labels: detections only)
  --topic [name]      a signal-values topic (default ${signalValuesTopic}), read_committed from the start
    --brokers list      bootstrap brokers (default AIOPS_KAFKA_BROKERS or 127.0.0.1:9092); TLS and
                        SASL from AIOPS_KAFKA_SECURITY_PROTOCOL and friends (docs/configuration.md)
    --from t, --to t    bucket time range [from, to): ISO 8601 or Unix ms
    --from-offset n, --to-offset n
                        offset range [from, to) on every partition
    --signals glob,...  signal keys to keep (* matches anything; default all)
    --metrics m,...     values of each signal to score (default rate,errorRatio,p95; any of
                        ${signalMetrics.join(', ')})
    --labels file.json  label windows in NAB's combined_windows format, keyed by series file name
                        (<metric>/<signal>.csv, as --out writes them)

output:
  --threshold x       alert threshold (default ${defaultBacktestThreshold})
  --sweep             also find the best single threshold per profile
  --cv                leave-one-category-out cross-validation (NAB categories, or the folder
                      part of each series name): per category, the threshold of each profile is
                      chosen on the other categories and the left-out one is scored at it; prints
                      the pooled and mean cross-validated scores and every fold
  --out <dir>         per-row scores as <dir>/<name> (timestamp,value,anomaly_score), NAB's results layout
  --report <file>     an HTML report: a chart per series (values, expected band, detections, label windows)
  --png <name>        a PNG chart of one series (its file name, e.g. realTraffic/speed_7578.csv)
  --detector <json>   detector settings to change, as JSON (e.g. '{"suppressPoints":10}'; see
                      the anomaly.detector section of docs/configuration.md): judge a constant
                      by the cross-validated score with and without it
  --png-out <file>    where the PNG goes (default: the series name, made file-safe, .png)
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

/** The cross-validated figures: pooled and mean per profile, then one line per fold. */
export function crossValidationReport(cv: CrossValidation): string {
  const names = nabProfiles.map((p) => p.name);
  const lines = [
    'leave-one-category-out cross-validation (threshold per profile chosen without the category scored)',
    `  pooled: ${names.map((n) => `${n} ${fmt(cv.pooled[n] ?? Number.NaN)}`).join(', ')}`,
    `  mean of folds with windows: ${names.map((n) => `${n} ${fmt(cv.mean[n] ?? Number.NaN)}`).join(', ')}`,
  ];
  for (const f of cv.folds) {
    lines.push(
      `  ${f.group}: ${f.files} files, ${f.windows} windows, detected ${f.detectedWindows}, false positives ${f.falsePositives}; ` +
        names.map((n) => `${n} ${fmt(f.scores[n] ?? Number.NaN)} @ ${fmt(f.thresholds[n] ?? Number.NaN, 4)}`).join(', '),
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A progress bar on stderr when it is a terminal (nothing otherwise):
 * `label [#########-----------] 45% 12/41 name`. `done >= total` clears it.
 */
export function progressBar(label: string, enabled: boolean, width = 24): (done: number, total: number, note?: string) => void {
  if (!enabled) return () => undefined;
  let last = '';
  return (done, total, note = '') => {
    if (done >= total) {
      process.stderr.write('\r\x1b[K');
      return;
    }
    const share = total > 0 ? done / total : 0;
    const filled = Math.round(share * width);
    const line = `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor(share * 100)
      .toString()
      .padStart(3)}% ${done}/${total} ${note}`.slice(0, (process.stderr.columns ?? 100) - 1);
    if (line !== last) process.stderr.write(`\r\x1b[K${line}`);
    last = line;
  };
}

function parseTime(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) throw aiopsError('CLI_USAGE', [`${flag}: expected an ISO 8601 time or Unix ms, got "${text}"`]);
  return ms;
}

function parseOffset(text: string | undefined, flag: string): bigint | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw aiopsError('CLI_USAGE', [`${flag}: expected a whole offset, got "${text}"`]);
  return BigInt(text);
}

function list(text: string | undefined): string[] | undefined {
  return text === undefined ? undefined : text.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
}

/** The report's view of a scored file. */
function reportSeries(f: BacktestResult['files'][number], threshold: number): ReportSeries {
  const n = f.file.series.values.length;
  const nan = new Float64Array(n).fill(Number.NaN);
  return {
    name: f.file.name,
    timestamps: f.file.series.timestamps,
    values: f.file.series.values,
    expected: f.bands?.expected ?? nan,
    lower: f.bands?.lower ?? nan,
    upper: f.bands?.upper ?? nan,
    scores: f.scores,
    threshold,
    windows: f.file.windows.map((w) => ({ startMs: w.startMs, endMs: w.endMs })),
  };
}

function write(path: string, data: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

/** The default detector configuration with the `--detector` JSON's settings changed (validated, every problem at once). */
function detectorOverrides(json: string | undefined): DetectorConfig {
  if (json === undefined) return defaultDetectorConfig;
  let input: unknown;
  try {
    input = JSON.parse(json);
  } catch (error) {
    throw aiopsError('CLI_USAGE', [`--detector: expected a JSON object, ${(error as Error).message}\n\n${usage}`]);
  }
  return parseDetectorConfig(input);
}

/** `aiops backtest`: scores the detector on a NAB corpus, CSV files or a signal-values topic; returns the exit code. */
export async function runBacktest(argv: string[]): Promise<number> {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        nab: { type: 'string' },
        csv: { type: 'string', multiple: true },
        topic: { type: 'string' },
        brokers: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        'from-offset': { type: 'string' },
        'to-offset': { type: 'string' },
        signals: { type: 'string' },
        metrics: { type: 'string' },
        labels: { type: 'string' },
        threshold: { type: 'string' },
        sweep: { type: 'boolean', default: false },
        cv: { type: 'boolean', default: false },
        out: { type: 'string' },
        report: { type: 'string' },
        png: { type: 'string' },
        'png-out': { type: 'string' },
        detector: { type: 'string' },
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
  const tty = process.stderr.isTTY === true;
  // `--csv a.csv b.csv` leaves b.csv as a positional: both are inputs.
  const csvFiles = values.csv ? [...values.csv, ...positionals] : [];
  if (!values.csv && positionals.length > 0) throw aiopsError('CLI_USAGE', [`unexpected argument "${positionals[0]}"\n\n${usage}`]);
  const sources = [values.nab !== undefined, csvFiles.length > 0, values.topic !== undefined].filter(Boolean).length;
  if (sources > 1) throw aiopsError('CLI_USAGE', [`choose one source: --nab, --csv or --topic\n\n${usage}`]);

  const started = Date.now();
  let corpus: NabFile[];
  let source: string;
  if (values.topic !== undefined) {
    const metrics = (list(values.metrics) ?? ['rate', 'errorRatio', 'p95']) as SignalMetric[];
    const unknown = metrics.filter((m) => !(signalMetrics as readonly string[]).includes(m));
    if (unknown.length > 0) throw aiopsError('CLI_USAGE', [`--metrics: unknown ${unknown.join(', ')} (choose from ${signalMetrics.join(', ')})`]);
    const topic = values.topic || signalValuesTopic;
    const connection = kafkaConnectionFromEnv(withBrokers(process.env, values.brokers));
    const labels = values.labels ? loadNabWindows(values.labels) : undefined;
    const tick = progressBar(`reading ${topic}`, tty);
    const read = await readTopicSeries(
      kafkaClient(connection, 'aiops-backtest'),
      {
        topic,
        metrics,
        ...(values.from === undefined ? {} : { fromMs: parseTime(values.from, '--from') as number }),
        ...(values.to === undefined ? {} : { toMs: parseTime(values.to, '--to') as number }),
        ...(values['from-offset'] === undefined ? {} : { fromOffset: parseOffset(values['from-offset'], '--from-offset') as bigint }),
        ...(values['to-offset'] === undefined ? {} : { toOffset: parseOffset(values['to-offset'], '--to-offset') as bigint }),
        ...(values.signals === undefined ? {} : { signals: list(values.signals) as string[] }),
      },
      labels,
      (n) => tick(0, 1, `${n} records`),
    );
    tick(1, 1);
    corpus = read.files;
    source = `topic ${topic}: ${read.records} records, ${read.outOfRange} out of range, ${read.undecodable} not signal values`;
    if (read.firstError) process.stderr.write(`aiops: skipped records that are not signal values, first: ${read.firstError}\n`);
    if (values.out) write(`${values.out}/series.json`, `${JSON.stringify(read.index, null, 2)}\n`);
  } else if (csvFiles.length > 0) {
    corpus = csvFiles.map((path) => ({ name: basename(path), series: loadNabCsv(path), windows: [] }));
    source = `${csvFiles.length} CSV files`;
  } else {
    const dir = values.nab ?? defaultNabDir();
    try {
      corpus = loadNabCorpus(dir);
    } catch (error) {
      throw aiopsError('CLI_USAGE', [(error as Error).message]);
    }
    source = `NAB ${dir}`;
  }

  const tick = progressBar('scoring', tty);
  const wantBands = values.report !== undefined || values.png !== undefined;
  const config = detectorOverrides(values.detector);
  const result = backtest(corpus, { config, threshold, sweep: values.sweep, cv: values.cv, bands: wantBands, onFile: (i, total) => tick(i, total, corpus[i]?.name) });
  tick(corpus.length, corpus.length);
  const rows = corpus.reduce((n, f) => n + f.series.values.length, 0);
  const windows = result.atThreshold.windows;
  const out: string[] = [`backtest: ${corpus.length} series, ${rows} rows, ${windows} label windows (${source}), ${Date.now() - started} ms`];
  if (windows > 0) {
    out.push(report('at the configured threshold', result.atThreshold).trimEnd());
    if (result.sweep && result.atBest) {
      out.push(report('at the best threshold for the standard profile', result.atBest).trimEnd());
      out.push(`  best per profile: ${result.sweep.map((s) => `${s.profile} ${fmt(s.score)} @ ${fmt(s.threshold, 4)}`).join(', ')}`);
    }
    if (result.crossValidation) out.push(crossValidationReport(result.crossValidation).trimEnd());
  } else {
    // No labels: what the detector would have raised, per series.
    for (const f of result.files) {
      let detections = 0;
      for (let i = 0; i < f.scores.length; i++) if ((f.scores[i] as number) >= threshold) detections++;
      out.push(`${f.file.name}: ${f.scores.length} rows, ${detections} at or above ${threshold}`);
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);

  if (values.out) {
    writeResults(values.out, result.files.map((f) => ({ name: f.file.name, series: f.file.series, scores: f.scores })));
    process.stdout.write(`scores written under ${values.out}\n`);
  }
  if (values.report) {
    write(values.report, htmlReport(`aiops backtest: ${source}`, out, result.files.map((f) => reportSeries(f, threshold))));
    process.stdout.write(`report written to ${values.report}\n`);
  }
  if (values.png !== undefined) {
    const f = result.files.find((x) => x.file.name === values.png);
    if (!f) throw aiopsError('CLI_USAGE', [`--png: no series named "${values.png}" (names: ${result.files.slice(0, 5).map((x) => x.file.name).join(', ')}${result.files.length > 5 ? ', ...' : ''})`]);
    const path = values['png-out'] ?? `${values.png.replace(/[^A-Za-z0-9._-]+/g, '_')}.png`;
    write(path, svgToPng(seriesSvg(reportSeries(f, threshold))));
    process.stdout.write(`chart of ${values.png} written to ${path}\n`);
  }
  return 0;
}
