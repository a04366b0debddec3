import { createHash } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { readToEnd } from '../../runtime/read-to-end.js';
import { signalValueSerde } from '../../schemas/signal-values.js';
import { signalMatcher } from './bands.js';
import type { SignalMetric } from './config.js';
import type { NabFile } from './nab/corpus.js';
import type { NabLabels } from './nab/labels.js';

/** Which records of a signal-values topic a backtest replays. */
export interface TopicRange {
  readonly topic: string;
  /** Event time range of the buckets, Unix ms, [fromMs, toMs). */
  readonly fromMs?: number;
  readonly toMs?: number;
  /** Offset range applied to every partition, [fromOffset, toOffset). */
  readonly fromOffset?: bigint;
  readonly toOffset?: bigint;
  /** Glob patterns over signal keys (default: all). */
  readonly signals?: readonly string[];
  /** Values of each signal that become a series. */
  readonly metrics: readonly SignalMetric[];
}

/** What was read: one NAB-shaped file per series, and what was left out. */
export interface TopicSeries {
  /** Series as NAB files named `<metric>/<signal, made file-safe>.csv`, rows in bucket order. */
  readonly files: NabFile[];
  /** File name → the series' signal key and metric. */
  readonly index: Record<string, { signal: string; metric: SignalMetric }>;
  /** Records read, and those outside the range or not matching. */
  readonly records: number;
  readonly outOfRange: number;
  /** Records that were not signal values (with the first reason). */
  readonly undecodable: number;
  readonly firstError?: string;
}

/** `YYYY-MM-DD HH:MM:SS` in UTC, as NAB files write timestamps (ms kept when not whole). */
export function nabStamp(ms: number): string {
  const iso = new Date(ms).toISOString();
  const whole = iso.endsWith('.000Z');
  return `${iso.slice(0, 10)} ${iso.slice(11, whole ? 19 : 23)}`;
}

/** File-safe name of a signal key: unsafe characters become `_`, plus a short hash so names stay unique. */
export function fileSafe(signal: string): string {
  const safe = signal.replace(/[^A-Za-z0-9._=-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 120);
  const hash = createHash('sha256').update(signal).digest('hex').slice(0, 8);
  return `${safe || 'signal'}-${hash}`;
}

/**
 * Reads a signal-values topic (read_committed, from the start to its current end) and turns the
 * records in range into one series per (signal, metric), in bucket order; `labels` (NAB window
 * format, keyed by the file names) attach label windows so the series can be scored.
 */
export async function readTopicSeries(kafka: Kafka, range: TopicRange, labels?: NabLabels, onProgress?: (read: number) => void): Promise<TopicSeries> {
  const matches = signalMatcher(range.signals ?? ['*']);
  const rows = new Map<string, { signal: string; metric: SignalMetric; points: [number, number][] }>();
  let records = 0;
  let outOfRange = 0;
  let undecodable = 0;
  let firstError: string | undefined;
  await readToEnd(kafka, range.topic, (partition, messages) => {
    for (const m of messages) {
      records++;
      const offset = BigInt(m.offset);
      if ((range.fromOffset !== undefined && offset < range.fromOffset) || (range.toOffset !== undefined && offset >= range.toOffset)) {
        outOfRange++;
        continue;
      }
      let value;
      try {
        if (m.value === null) throw new Error('empty value');
        value = signalValueSerde.deserialize(m.value);
      } catch (error) {
        undecodable++;
        firstError ??= `partition ${partition} offset ${m.offset}: ${(error as Error).message}`;
        continue;
      }
      if ((range.fromMs !== undefined && value.bucketStartMs < range.fromMs) || (range.toMs !== undefined && value.bucketStartMs >= range.toMs) || !matches(value.signal)) {
        outOfRange++;
        continue;
      }
      for (const metric of range.metrics) {
        const name = `${metric}/${fileSafe(value.signal)}.csv`;
        let series = rows.get(name);
        if (!series) rows.set(name, (series = { signal: value.signal, metric, points: [] }));
        const x = metric === 'errorRatio' && value.count === 0 ? Number.NaN : value[metric];
        series.points.push([value.bucketStartMs, x]);
      }
    }
    onProgress?.(records);
  });
  const files: NabFile[] = [];
  const index: Record<string, { signal: string; metric: SignalMetric }> = {};
  for (const [name, s] of [...rows].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    // One signal lives on one partition, so its records are already in order; sort anyway (stable).
    s.points.sort((a, b) => a[0] - b[0]);
    const timestamps = Float64Array.from(s.points, (p) => p[0]);
    files.push({ name, series: { stamps: s.points.map((p) => nabStamp(p[0])), timestamps, values: Float64Array.from(s.points, (p) => p[1]) }, windows: labels?.get(name) ?? [] });
    index[name] = { signal: s.signal, metric: s.metric };
  }
  return { files, index, records, outOfRange, undecodable, ...(firstError === undefined ? {} : { firstError }) };
}
