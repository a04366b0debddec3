import type { Kafka } from 'kafkajs';
import type { NabFile } from '../../processors/anomaly/nab/corpus.js';
import { nabLayout, scoreCorpus } from '../../processors/anomaly/nab/scorer.js';
import type { CorpusScore, ScoredFile } from '../../processors/anomaly/nab/scorer.js';
import { parseSignalKey } from '../../processors/ingest/signal-keys.js';
import { readToEnd } from '../../runtime/read-to-end.js';
import { measurementSerde } from '../../schemas/measurements.js';
import type { Measurement } from '../../schemas/measurements.js';
import { replayTimes } from './nab-plan.js';

/** How the replay placed the files in time: what {@link replayNab} returns (its `shifts` and the plan's `bucketMs`). */
export interface ReplayTiming {
  readonly shifts: Readonly<Record<string, number>>;
  readonly bucketMs?: number;
}

export interface ScoreReplayOptions {
  /** The replayed files with their label windows (e.g. `loadNabCorpus(dir)`). */
  readonly files: readonly NabFile[];
  /**
   * The replay's timing. With it, each measurement goes to the row whose replayed bucket it
   * belongs to (exact: a missing or extra point is seen as such). Without it, a file's points
   * are ordered by timestamp (one per timestamp, the last read wins) and taken as its rows in order.
   */
  readonly timing?: ReplayTiming;
  /** The point attribute that names the file in the signal key (default `nab.file`). */
  readonly fileAttribute?: string;
  /** Which detector series: the value of the signal the stage watched (tag metric `<rule>.<metric>`, default `mean`). */
  readonly metric?: string;
  /** Only signals of this ingest rule (default: any rule). */
  readonly rule?: string;
  /** The measurement field scored (default `detection`, the damped score the backtest thresholds). */
  readonly field?: string;
  /** Alert threshold (default 0.5). */
  readonly threshold?: number;
}

/** A replayed file's pipeline scores, laid out on its rows. */
export interface ReplayFileScore extends ScoredFile {
  readonly file: NabFile;
  /** Pipeline score per row (NaN where no measurement came back). */
  readonly scores: Float64Array;
  /** Measurements of the file read, rows that got one, rows that did not. */
  readonly measurements: number;
  readonly matched: number;
  readonly missing: number;
  /** Measurements at a time that is no row's (timing given) or beyond the last row (no timing). */
  readonly unexpected: number;
  /** Measurements for a row that already had one (e.g. an earlier replay into the same topic); the last read wins. */
  readonly duplicates: number;
}

export interface ReplayScore {
  readonly files: readonly ReplayFileScore[];
  /** The NAB figures of the pipeline's scores, as the in-process backtest computes them. */
  readonly corpus: CorpusScore;
  /** Records read; anomaly measurements of the replayed files; records that were not. */
  readonly records: number;
  readonly measurements: number;
  readonly ignored: number;
  readonly undecodable: number;
  readonly matched: number;
  readonly missing: number;
  readonly unexpected: number;
  readonly duplicates: number;
}

/**
 * Scores a replay from its measurements (`anomaly` points of aiops.measurements.v1): picks those
 * of the replayed files (the file is the `nab.file` dimension of the `signal` tag,
 * `<rule>{nab.file="<name>"}`), lays each file's points on its rows, and scores the corpus with
 * the NAB scorer of the backtest (same layouts: the files' own timestamps and windows).
 */
export function scoreMeasurements(measurements: Iterable<Measurement>, options: ScoreReplayOptions): Omit<ReplayScore, 'records' | 'undecodable'> {
  const attribute = options.fileAttribute ?? 'nab.file';
  const metric = options.metric ?? 'mean';
  const field = options.field ?? 'detection';
  const byName = new Map(options.files.map((f, i) => [f.name, i] as const));
  const points = options.files.map(() => [] as [number, number][]);
  let ignored = 0;
  let picked = 0;
  for (const m of measurements) {
    const signal = m.tags.signal;
    if (m.measurement !== 'anomaly' || signal === undefined) {
      ignored++;
      continue;
    }
    const { rule, dims } = parseSignalKey(signal);
    const name = dims[attribute];
    const index = name === undefined ? undefined : byName.get(name);
    if (index === undefined || (options.rule !== undefined && rule !== options.rule) || m.tags.metric !== `${rule}.${metric}`) {
      ignored++;
      continue;
    }
    picked++;
    (points[index] as [number, number][]).push([m.timestamp, m.fields[field] ?? Number.NaN]);
  }
  let matched = 0;
  let missing = 0;
  let unexpected = 0;
  let duplicates = 0;
  const files = options.files.map((file, i) => {
    const list = points[i] as [number, number][];
    const rows = file.series.timestamps.length;
    const scores = new Float64Array(rows).fill(Number.NaN);
    const seen = new Uint8Array(rows);
    let fileUnexpected = 0;
    let fileDuplicates = 0;
    const shift = options.timing?.shifts[file.name];
    if (options.timing && shift !== undefined) {
      const bucketMs = options.timing.bucketMs ?? 1_000;
      const { times } = replayTimes(file.series.timestamps, shift, bucketMs);
      const rowAt = new Map<number, number>();
      for (let r = 0; r < rows; r++) rowAt.set(Math.floor((times[r] as number) / bucketMs) * bucketMs, r);
      for (const [t, score] of list) {
        const r = rowAt.get(t);
        if (r === undefined) {
          fileUnexpected++;
          continue;
        }
        if (seen[r]) fileDuplicates++;
        seen[r] = 1;
        scores[r] = score;
      }
    } else {
      // Stable sort keeps read order among equal timestamps: the last read is the one kept.
      list.sort((a, b) => a[0] - b[0]);
      let r = -1;
      let previous = Number.NaN;
      for (const [t, score] of list) {
        if (t === previous) fileDuplicates++;
        else r++;
        previous = t;
        if (r >= rows) {
          fileUnexpected++;
          continue;
        }
        seen[r] = 1;
        scores[r] = score;
      }
    }
    let fileMatched = 0;
    for (let r = 0; r < rows; r++) fileMatched += seen[r] as number;
    matched += fileMatched;
    missing += rows - fileMatched;
    unexpected += fileUnexpected;
    duplicates += fileDuplicates;
    return {
      file, layout: nabLayout(file.name, file.series.timestamps, file.windows), scores,
      measurements: list.length, matched: fileMatched, missing: rows - fileMatched, unexpected: fileUnexpected, duplicates: fileDuplicates,
    };
  });
  return { files, corpus: scoreCorpus(files, options.threshold ?? 0.5), measurements: picked, ignored, matched, missing, unexpected, duplicates };
}

/**
 * Reads a measurements topic (read_committed, from the start to its current end) and scores the
 * replayed files' points (see {@link scoreMeasurements}).
 */
export async function scoreReplay(kafka: Kafka, measurementsTopic: string, options: ScoreReplayOptions & { readonly timeoutMs?: number }): Promise<ReplayScore> {
  const read: Measurement[] = [];
  let records = 0;
  let undecodable = 0;
  await readToEnd(
    kafka,
    measurementsTopic,
    (_partition, messages) => {
      for (const m of messages) {
        records++;
        if (m.value === null) {
          undecodable++;
          continue;
        }
        try {
          read.push(measurementSerde.deserialize(m.value));
        } catch {
          undecodable++;
        }
      }
    },
    options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs },
  );
  return { ...scoreMeasurements(read, options), records, undecodable };
}
