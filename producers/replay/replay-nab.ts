import type { Kafka, Message } from 'kafkajs';
import type { Clock } from '../../runtime/types.js';
import { defaultNabOtlpNames, encodeNabRecord } from './nab-otlp.js';
import type { NabOtlpNames } from './nab-otlp.js';
import { loadCsvFiles, loadNabData, planNabReplay } from './nab-plan.js';
import type { NabReplayFile, NabReplayInput, NabReplayPlan } from './nab-plan.js';
import { Pacer } from './pacer.js';
import type { Speedup } from './pacer.js';

/** Where the rows come from: a NAB folder, CSV files in NAB's data layout, or series in memory. */
export type NabReplaySource =
  | { readonly nabDir: string; readonly only?: readonly string[] }
  | { readonly csv: readonly string[] }
  | { readonly files: readonly NabReplayInput[] };

export interface ReplayNabOptions {
  /** Destination topic (e.g. `otlp_metrics`); it must exist or the broker must create it. */
  readonly topic: string;
  readonly source: NabReplaySource;
  /** Data time runs this many times faster than wall time; 'max': no waiting. */
  readonly speedup: Speedup;
  /** Any time on the day every file is moved to start on (default: the earliest file's first day). */
  readonly startDayMs?: number;
  /** Ingest's bucket length: rows of a file are kept in separate buckets of this size (default 1000). */
  readonly bucketMs?: number;
  /** Record key, the same for every record so all land on one partition, in time order (default `nab`). */
  readonly key?: string;
  /** An explicit partition instead (the key is still written). */
  readonly partition?: number;
  /** Records per produce request at most (default 500). */
  readonly batchRecords?: number;
  readonly names?: Partial<NabOtlpNames>;
  /** Called after each produce request with records and rows written so far. */
  readonly onProgress?: (records: number, rows: number, plan: NabReplayPlan) => void;
  readonly signal?: AbortSignal;
  readonly clock?: Clock;
}

/** What a NAB replay wrote. */
export interface ReplayNabResult {
  readonly topic: string;
  readonly plan: NabReplayPlan;
  readonly files: readonly NabReplayFile[];
  /** File name → whole-day shift in ms, to map results back to the files' own times. */
  readonly shifts: Readonly<Record<string, number>>;
  readonly rows: number;
  readonly records: number;
  readonly nudged: number;
  readonly bytes: number;
  /** From the first send to the last acknowledgement. */
  readonly elapsedMs: number;
  readonly rowsPerSecond: number;
  readonly recordsPerSecond: number;
  /** Replayed data time covered, Unix ms. */
  readonly firstMs: number;
  readonly lastMs: number;
}

/** The rows of a replay source. */
export function loadReplaySource(source: NabReplaySource): NabReplayInput[] {
  if ('files' in source) return [...source.files];
  if ('csv' in source) return loadCsvFiles(source.csv);
  return loadNabData(source.nabDir, source.only);
}

/**
 * Writes NAB-layout CSV series into `topic` as OTLP metrics (otlp_proto): each file a gauge
 * `nab.value` of resource `service.name=nab` with point attribute `nab.file=<category>/<file>.csv`,
 * shifted by whole days so all files start on one day, merged by time, one record per distinct
 * time with every file's point at that time, all with one key (one partition, time order), paced
 * at `speedup`. Duplicate times within a file are nudged to the next free bucket (reported).
 */
export async function replayNab(kafka: Kafka, options: ReplayNabOptions): Promise<ReplayNabResult> {
  const inputs = loadReplaySource(options.source);
  const plan = planNabReplay(inputs, { ...(options.startDayMs === undefined ? {} : { startDayMs: options.startDayMs }), bucketMs: options.bucketMs ?? 1_000 });
  const names: NabOtlpNames = { ...defaultNabOtlpNames, ...options.names };
  const key = Buffer.from(options.key ?? 'nab');
  const batchRecords = Math.max(1, options.batchRecords ?? 500);
  const clock = options.clock ?? { now: () => Date.now() };
  const pacer = new Pacer(options.speedup, clock);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const records = plan.recordTimes.length;
  let sentRecords = 0;
  let sentRows = 0;
  let bytes = 0;
  let started = Number.NaN;
  await producer.connect();
  try {
    let pending: Message[] = [];
    let pendingRows = 0;
    const flush = async (): Promise<void> => {
      if (pending.length === 0) return;
      if (Number.isNaN(started)) started = clock.now();
      await producer.send({ topic: options.topic, acks: -1, messages: pending });
      sentRecords += pending.length;
      sentRows += pendingRows;
      pending = [];
      pendingRows = 0;
      options.onProgress?.(sentRecords, sentRows, plan);
    };
    const points: { file: string; value: number }[] = [];
    for (let k = 0; k < records; k++) {
      options.signal?.throwIfAborted();
      const t = plan.recordTimes[k] as number;
      if (pacer.delayFor(t) > 0) {
        // Not due yet: what is due goes out now, then wait.
        await flush();
        await pacer.waitFor(t, options.signal ? { signal: options.signal } : {});
      }
      points.length = 0;
      for (let j = plan.recordStart[k] as number, end = plan.recordStart[k + 1] as number; j < end; j++) {
        const input = inputs[plan.fileOf[j] as number] as NabReplayInput;
        points.push({ file: input.name, value: input.series.values[plan.rowOf[j] as number] as number });
      }
      const value = encodeNabRecord(t, points, names);
      bytes += value.length;
      pending.push(options.partition === undefined ? { key, value } : { key, value, partition: options.partition });
      pendingRows += points.length;
      if (pending.length >= batchRecords) await flush();
    }
    await flush();
  } finally {
    await producer.disconnect();
  }
  const elapsedMs = Number.isNaN(started) ? 0 : Math.max(1, clock.now() - started);
  const seconds = elapsedMs / 1000;
  return {
    topic: options.topic,
    plan,
    files: plan.files,
    shifts: plan.shifts,
    rows: sentRows,
    records: sentRecords,
    nudged: plan.nudged,
    bytes,
    elapsedMs,
    rowsPerSecond: seconds > 0 ? sentRows / seconds : Number.NaN,
    recordsPerSecond: seconds > 0 ? sentRecords / seconds : Number.NaN,
    firstMs: records > 0 ? (plan.recordTimes[0] as number) : Number.NaN,
    lastMs: records > 0 ? (plan.recordTimes[records - 1] as number) : Number.NaN,
  };
}
