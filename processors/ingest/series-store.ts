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

/** Changelog pages per partition: a commit writes each changed page once, whole. */
export const SERIES_PAGES = 512;

/**
 * The series of one input partition, and their changelog form. Series are grouped into
 * `SERIES_PAGES` pages by key; a commit writes every page that changed as one record (key
 * `p<page>`), so a busy partition writes a few hundred records per commit, not one per series.
 * A page record holds its series back to back:
 * [f64 key][u16 signal length][signal utf8][u8 status class][f64 last bucket][u16 n][f64 state × n].
 */
export class SeriesStore implements StateStore {
  readonly name = 'series';
  private readonly pages: Map<number, Series>[] = Array.from({ length: SERIES_PAGES }, () => new Map());
  private readonly dirty = new Set<number>();
  private count = 0;
  private scratch = Buffer.allocUnsafe(64 * 1024);
  private readonly signalBytes = new Map<string, Buffer>();

  get(key: number): Series | undefined {
    return this.pages[key % SERIES_PAGES]?.get(key);
  }

  add(series: Series): void {
    const page = this.pages[series.key % SERIES_PAGES] as Map<number, Series>;
    if (!page.has(series.key)) this.count++;
    page.set(series.key, series);
    this.dirty.add(series.key % SERIES_PAGES);
  }

  markDirty(series: Series): void {
    this.dirty.add(series.key % SERIES_PAGES);
  }

  delete(key: number): void {
    if (this.pages[key % SERIES_PAGES]?.delete(key)) {
      this.count--;
      this.dirty.add(key % SERIES_PAGES);
    }
  }

  /** Every series, page by page. */
  *entries(): IterableIterator<[number, Series]> {
    for (const page of this.pages) yield* page;
  }

  size(): number {
    return this.count;
  }

  sizeBytes(): number {
    let bytes = 0;
    for (const [, s] of this.entries()) bytes += 64 + s.state.byteLength + s.signal.length * 2;
    return bytes;
  }

  *drainChanges(): Iterable<readonly [string, Buffer | null]> {
    for (const index of this.dirty) {
      const page = this.pages[index] as Map<number, Series>;
      yield [`p${index}`, page.size === 0 ? null : this.encodePage(page)] as const;
    }
    this.dirty.clear();
  }

  restore(key: string, value: Buffer | null): void {
    const index = Number(key.slice(1));
    const page = this.pages[index];
    if (!key.startsWith('p') || page === undefined) return;
    this.count -= page.size;
    page.clear();
    if (value === null) return;
    let at = 0;
    while (at < value.length) {
      const seriesKey = value.readDoubleLE(at);
      const len = value.readUInt16LE(at + 8);
      const signal = value.toString('utf8', at + 10, at + 10 + len);
      at += 10 + len;
      const statusClass = value.readUInt8(at);
      const lastBucket = value.readDoubleLE(at + 1);
      const n = value.readUInt16LE(at + 9);
      at += 11;
      const state = new Float64Array(n);
      for (let i = 0; i < n; i++, at += 8) state[i] = value.readDoubleLE(at);
      page.set(seriesKey, { key: seriesKey, signal, statusClass, state, lastBucket });
    }
    this.count += page.size;
  }

  clear(): void {
    for (const page of this.pages) page.clear();
    this.dirty.clear();
    this.signalBytes.clear();
    this.count = 0;
  }

  private encodePage(page: Map<number, Series>): Buffer {
    let at = 0;
    for (const s of page.values()) {
      let signal = this.signalBytes.get(s.signal);
      if (!signal) {
        signal = Buffer.from(s.signal, 'utf8');
        this.signalBytes.set(s.signal, signal);
      }
      const size = 8 + 2 + signal.length + 1 + 8 + 2 + s.state.length * 8;
      if (at + size > this.scratch.length) {
        const bigger = Buffer.allocUnsafe(Math.max(this.scratch.length * 2, at + size));
        this.scratch.copy(bigger, 0, 0, at);
        this.scratch = bigger;
      }
      const b = this.scratch;
      b.writeDoubleLE(s.key, at);
      b.writeUInt16LE(signal.length, at + 8);
      signal.copy(b, at + 10);
      at += 10 + signal.length;
      b.writeUInt8(s.statusClass, at);
      b.writeDoubleLE(s.lastBucket, at + 1);
      b.writeUInt16LE(s.state.length, at + 9);
      at += 11;
      for (let i = 0; i < s.state.length; i++, at += 8) b.writeDoubleLE(s.state[i] as number, at);
    }
    return Buffer.from(this.scratch.subarray(0, at));
  }
}
