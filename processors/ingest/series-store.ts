import type { StateStore } from '../../runtime/types.js';

/** Offsets into a series' state array. */
export const S_START = 0;
export const S_TIME = 1;
export const S_COUNT = 2;
export const S_SUM = 3;
export const S_BUCKETS = 4;

/**
 * One input series (resource + metric + point attributes) as ingest tracks it. `state` holds
 * the last cumulative values so the next point can be turned into a delta:
 * [startTimeMs, timeMs, count or value, sum, bucketCounts...]. Allocated once per series.
 */
export interface Series {
  readonly key: number;
  /** Signal this series feeds (its key in the signal table). */
  readonly signal: string;
  /** HTTP status class index: 0 1xx .. 4 5xx, 5 none. */
  readonly statusClass: number;
  state: Float64Array;
  /** Bucket start the series last contributed to (counts distinct series per bucket). */
  lastBucket: number;
}

/**
 * The series of one input partition, and their changelog form: key = series key (base 36),
 * value = [u16 signal length][signal utf8][u8 status class][f64 state...].
 */
export class SeriesStore implements StateStore {
  readonly name = 'series';
  readonly series = new Map<number, Series>();
  private readonly dirty = new Set<number>();

  get(key: number): Series | undefined {
    return this.series.get(key);
  }

  add(series: Series): void {
    this.series.set(series.key, series);
    this.dirty.add(series.key);
  }

  markDirty(series: Series): void {
    this.dirty.add(series.key);
  }

  delete(key: number): void {
    if (this.series.delete(key)) this.dirty.add(key);
  }

  size(): number {
    return this.series.size;
  }

  sizeBytes(): number {
    let bytes = 0;
    for (const s of this.series.values()) bytes += 64 + s.state.byteLength + s.signal.length * 2;
    return bytes;
  }

  *drainChanges(): Iterable<readonly [string, Buffer | null]> {
    for (const key of this.dirty) {
      const s = this.series.get(key);
      yield [key.toString(36), s ? encodeSeries(s) : null] as const;
    }
    this.dirty.clear();
  }

  restore(key: string, value: Buffer | null): void {
    const k = parseInt(key, 36);
    if (value === null) this.series.delete(k);
    else this.series.set(k, decodeSeries(k, value));
  }

  clear(): void {
    this.series.clear();
    this.dirty.clear();
  }
}

function encodeSeries(s: Series): Buffer {
  const signal = Buffer.from(s.signal, 'utf8');
  const out = Buffer.allocUnsafe(2 + signal.length + 1 + 8 + s.state.length * 8);
  out.writeUInt16LE(signal.length, 0);
  signal.copy(out, 2);
  let at = 2 + signal.length;
  out.writeUInt8(s.statusClass, at++);
  out.writeDoubleLE(s.lastBucket, at);
  at += 8;
  for (let i = 0; i < s.state.length; i++, at += 8) out.writeDoubleLE(s.state[i] as number, at);
  return out;
}

function decodeSeries(key: number, b: Buffer): Series {
  const len = b.readUInt16LE(0);
  const signal = b.toString('utf8', 2, 2 + len);
  let at = 2 + len;
  const statusClass = b.readUInt8(at++);
  const lastBucket = b.readDoubleLE(at);
  at += 8;
  const state = new Float64Array((b.length - at) / 8);
  for (let i = 0; i < state.length; i++, at += 8) state[i] = b.readDoubleLE(at);
  return { key, signal, statusClass, state, lastBucket };
}
