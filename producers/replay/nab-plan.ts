import { basename, dirname, join } from 'node:path';
import { listNabFiles } from '../../processors/anomaly/nab/corpus.js';
import { loadNabCsv } from '../../processors/anomaly/nab/csv.js';
import type { NabSeries } from '../../processors/anomaly/nab/csv.js';

/** One day in ms: files are shifted by whole days, which keeps every row's time of day. */
export const DAY_MS = 86_400_000;

/** A series to replay: its name (`<category>/<file>.csv`, the `nab.file` attribute) and rows. */
export interface NabReplayInput {
  readonly name: string;
  readonly series: NabSeries;
}

/** How one file is replayed. */
export interface NabReplayFile {
  readonly name: string;
  readonly rows: number;
  /** Added to every row's timestamp: a whole number of days (may be negative). */
  readonly shiftMs: number;
  readonly shiftDays: number;
  /**
   * Rows moved forward to the next free bucket because an earlier row of the file already holds
   * theirs (duplicate timestamps; also a row whose time goes backwards), and the largest move.
   */
  readonly nudged: number;
  readonly maxNudgeMs: number;
  /** Rows whose value is not a finite number: ingest drops them, so they get no measurement. */
  readonly nonFinite: number;
  /** First and last replayed time, Unix ms (NaN for an empty file). */
  readonly firstMs: number;
  readonly lastMs: number;
}

/**
 * A NAB replay worked out in advance: every file shifted onto one start day, rows merged across
 * files by replayed time, one record per distinct time holding every file's point at that time.
 */
export interface NabReplayPlan {
  /** Start of the UTC day every file starts on, Unix ms. */
  readonly startDayMs: number;
  /** Ingest's event-time bucket the replay keeps rows apart for (rows of a file never share one). */
  readonly bucketMs: number;
  readonly files: readonly NabReplayFile[];
  /** File name → shift in ms (whole days): replayed time = file time + shift (+ any nudge). */
  readonly shifts: Readonly<Record<string, number>>;
  readonly rows: number;
  readonly nudged: number;
  readonly nonFinite: number;
  /** Rows that should come back as measurements: rows minus non-finite ones. */
  readonly expectedMeasurements: number;
  /** Replay time of each record, ascending (Unix ms). */
  readonly recordTimes: Float64Array;
  /** Points of record k are entries recordStart[k] .. recordStart[k + 1] - 1 of fileOf/rowOf. */
  readonly recordStart: Uint32Array;
  readonly fileOf: Uint32Array;
  readonly rowOf: Uint32Array;
}

/** Start of the UTC day holding `ms`. */
export function dayOf(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/**
 * The replayed times of one file's rows, in file order: each timestamp plus `shiftMs`, and a row
 * whose bucket (`bucketMs`) is not after the previous row's moved to the start of the next bucket,
 * so every row of the file has a bucket of its own and the buckets follow file order.
 */
export function replayTimes(timestamps: ArrayLike<number>, shiftMs: number, bucketMs = 1_000): { times: Float64Array; nudged: number; maxNudgeMs: number } {
  const times = new Float64Array(timestamps.length);
  let previous = -Infinity;
  let nudged = 0;
  let maxNudgeMs = 0;
  for (let i = 0; i < times.length; i++) {
    const t = (timestamps[i] as number) + shiftMs;
    let bucket = Math.floor(t / bucketMs);
    let at = t;
    if (bucket <= previous) {
      bucket = previous + 1;
      at = bucket * bucketMs;
      nudged++;
      maxNudgeMs = Math.max(maxNudgeMs, at - t);
    }
    times[i] = at;
    previous = bucket;
  }
  return { times, nudged, maxNudgeMs };
}

/** The shift (whole days) that moves a file whose first row is at `firstMs` onto `startDayMs`'s day. */
export function shiftFor(firstMs: number, startDayMs: number): number {
  return dayOf(startDayMs) - dayOf(firstMs);
}

/**
 * Plans the replay of `files`: each is shifted by a whole number of days so that its first row
 * falls on the day of `startDayMs` (default: the earliest first day of the files, so no file
 * moves later than it has to), duplicates are nudged (see {@link replayTimes}), and all rows are
 * merged by replayed time, ties in file order.
 */
export function planNabReplay(files: readonly NabReplayInput[], options: { startDayMs?: number; bucketMs?: number } = {}): NabReplayPlan {
  const bucketMs = options.bucketMs ?? 1_000;
  if (!(Number.isInteger(bucketMs) && bucketMs > 0 && DAY_MS % bucketMs === 0)) throw new RangeError(`bucketMs must divide a day into whole ms, got ${bucketMs}`);
  const names = new Set<string>();
  for (const f of files) {
    if (names.has(f.name)) throw new Error(`file ${f.name} is listed twice: nab.file names must be unique`);
    names.add(f.name);
  }
  const starts = files.filter((f) => f.series.timestamps.length > 0).map((f) => f.series.timestamps[0] as number);
  const startDayMs = dayOf(options.startDayMs ?? (starts.length > 0 ? Math.min(...starts) : 0));
  const planned: NabReplayFile[] = [];
  const shifts: Record<string, number> = {};
  const perFileTimes: Float64Array[] = [];
  let rows = 0;
  let nudged = 0;
  let nonFinite = 0;
  for (const f of files) {
    const n = f.series.timestamps.length;
    const shiftMs = n === 0 ? 0 : shiftFor(f.series.timestamps[0] as number, startDayMs);
    const r = replayTimes(f.series.timestamps, shiftMs, bucketMs);
    let bad = 0;
    for (let i = 0; i < n; i++) if (!Number.isFinite(f.series.values[i] as number)) bad++;
    planned.push({
      name: f.name, rows: n, shiftMs, shiftDays: shiftMs / DAY_MS, nudged: r.nudged, maxNudgeMs: r.maxNudgeMs, nonFinite: bad,
      firstMs: n === 0 ? Number.NaN : (r.times[0] as number), lastMs: n === 0 ? Number.NaN : (r.times[n - 1] as number),
    });
    shifts[f.name] = shiftMs;
    perFileTimes.push(r.times);
    rows += n;
    nudged += r.nudged;
    nonFinite += bad;
  }
  // Merge: every (file, row) by replayed time, then file, then row.
  const fileOf = new Uint32Array(rows);
  const rowOf = new Uint32Array(rows);
  const time = new Float64Array(rows);
  let k = 0;
  for (let f = 0; f < files.length; f++) {
    const times = perFileTimes[f] as Float64Array;
    for (let i = 0; i < times.length; i++, k++) {
      fileOf[k] = f;
      rowOf[k] = i;
      time[k] = times[i] as number;
    }
  }
  const order = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;
  order.sort((a, b) => (time[a] as number) - (time[b] as number) || (fileOf[a] as number) - (fileOf[b] as number) || (rowOf[a] as number) - (rowOf[b] as number));
  const sortedFile = new Uint32Array(rows);
  const sortedRow = new Uint32Array(rows);
  const recordTimes: number[] = [];
  const recordStart: number[] = [];
  for (let i = 0; i < rows; i++) {
    const j = order[i] as number;
    sortedFile[i] = fileOf[j] as number;
    sortedRow[i] = rowOf[j] as number;
    const t = time[j] as number;
    if (recordTimes.length === 0 || recordTimes[recordTimes.length - 1] !== t) {
      recordTimes.push(t);
      recordStart.push(i);
    }
  }
  recordStart.push(rows);
  return {
    startDayMs, bucketMs, files: planned, shifts, rows, nudged, nonFinite, expectedMeasurements: rows - nonFinite,
    recordTimes: Float64Array.from(recordTimes), recordStart: Uint32Array.from(recordStart), fileOf: sortedFile, rowOf: sortedRow,
  };
}

/** The `nab.file` name of a CSV path in NAB's layout: `<category>/<file>.csv` (its folder and name). */
export function nabNameOf(path: string): string {
  const folder = basename(dirname(path));
  return folder === '' || folder === '.' ? basename(path) : `${folder}/${basename(path)}`;
}

/** Loads the data files of a NAB folder (`<dir>/data/<category>/<file>.csv`; labels are not needed), or some of them. */
export function loadNabData(dir: string, only?: readonly string[]): NabReplayInput[] {
  const names = only && only.length > 0 ? [...only] : listNabFiles(dir);
  return names.map((name) => ({ name, series: loadNabCsv(join(dir, 'data', name)) }));
}

/** Loads CSV files in NAB's data layout, each named by {@link nabNameOf}. */
export function loadCsvFiles(paths: readonly string[]): NabReplayInput[] {
  return paths.map((path) => ({ name: nabNameOf(path), series: loadNabCsv(path) }));
}
