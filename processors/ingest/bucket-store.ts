import { signalSerde } from '../../schemas/index.js';
import type { SignalRecord } from '../../schemas/index.js';
import type { StateStore } from '../../runtime/types.js';

/** One signal's aggregate over one open event-time bucket, in the shape it is sent in. */
export type Partial = SignalRecord;

/** Changelog pages of the open partials per partition: a commit writes each changed page once. */
export const BUCKET_PAGES = 256;

/**
 * The page of a signal: FNV-1a (32-bit) of its key's UTF-16 code units, modulo
 * {@link BUCKET_PAGES}. Fixed: a restore files the partials of a page record by it.
 */
export function bucketPageOf(signal: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < signal.length; i++) h = Math.imul(h ^ signal.charCodeAt(i), 0x01000193);
  return (h >>> 0) % BUCKET_PAGES;
}

/**
 * Open buckets of one input partition: signal → bucket start → partial aggregate.
 *
 * Changelog: the signals are spread over {@link BUCKET_PAGES} pages by {@link bucketPageOf}; a
 * commit writes every page whose partials changed, opened or closed as one record, key `b<page>`,
 * value the page's open partials back to back, each as [u32 LE length][aiops.signals.v1 record in
 * Avro single-object encoding], or null when none is open. A record replaces its page whole.
 * Records of the earlier form (one per partial, key `<bucketStart>|<signal>`) are still read;
 * the first commit after such a restore writes their pages and deletes their keys.
 */
export class BucketStore implements StateStore {
  readonly name = 'buckets';
  /** signal key → (bucket start → partial). */
  readonly open = new Map<string, Map<number, Partial>>();
  /** Partials changed since the last drain (by identity: no key is built per point). */
  private readonly dirty = new Set<Partial>();
  /** Pages whose open partials changed otherwise since the last drain (closed ones, restored ones). */
  private readonly dirtyPages = new Set<number>();
  /** The signals with open partials, by page. */
  private readonly pages: Set<string>[] = Array.from({ length: BUCKET_PAGES }, () => new Set());
  /** Keys of the earlier form met in a restore, deleted by the next drain. */
  private readonly legacyKeys = new Set<string>();
  private readonly pageOf = new Map<string, number>();

  get(signal: string, bucketStart: number): Partial | undefined {
    return this.open.get(signal)?.get(bucketStart);
  }

  put(partial: Partial): void {
    this.place(partial);
    this.touch(partial);
  }

  touch(partial: Partial): void {
    this.dirty.add(partial);
  }

  /** Removes and returns every partial whose bucket ends at or before `throughMs`, oldest first. */
  closeThrough(throughMs: number): Partial[] {
    const closed: Partial[] = [];
    for (const [signal, byBucket] of this.open) {
      for (const [start, partial] of byBucket) {
        if (start + partial.bucketMs <= throughMs) {
          closed.push(partial);
          byBucket.delete(start);
          this.dirty.delete(partial);
          this.dirtyPages.add(this.page(signal));
        }
      }
      if (byBucket.size === 0) this.forget(signal);
    }
    return closed.sort((a, b) => a.bucketStartMs - b.bucketStartMs || (a.signal < b.signal ? -1 : a.signal > b.signal ? 1 : 0));
  }

  /** The end of the latest open bucket, or -Infinity. */
  latestEnd(): number {
    let end = -Infinity;
    for (const byBucket of this.open.values()) for (const p of byBucket.values()) end = Math.max(end, p.bucketStartMs + p.bucketMs);
    return end;
  }

  size(): number {
    let n = 0;
    for (const b of this.open.values()) n += b.size;
    return n;
  }

  sizeBytes(): number {
    return this.size() * 512;
  }

  *drainChanges(): Iterable<readonly [string, Buffer | null]> {
    for (const key of this.legacyKeys) yield [key, null] as const;
    for (const partial of this.dirty) this.dirtyPages.add(this.page(partial.signal));
    for (const page of this.dirtyPages) yield [`b${page}`, this.encodePage(page)] as const;
    this.legacyKeys.clear();
    this.dirty.clear();
    this.dirtyPages.clear();
  }

  restore(key: string, value: Buffer | null): void {
    if (key.includes('|')) return this.restoreLegacy(key, value);
    const page = Number(key.slice(1));
    if (!key.startsWith('b') || !Number.isInteger(page) || page < 0 || page >= BUCKET_PAGES) return;
    for (const signal of [...(this.pages[page] as Set<string>)]) {
      for (const partial of this.open.get(signal)?.values() ?? []) this.dirty.delete(partial);
      this.forget(signal);
    }
    if (value === null) return;
    for (let at = 0; at < value.length; ) {
      const length = value.readUInt32LE(at);
      this.place(signalSerde.deserialize(value.subarray(at + 4, at + 4 + length)));
      at += 4 + length;
    }
  }

  clear(): void {
    this.open.clear();
    this.dirty.clear();
    this.dirtyPages.clear();
    this.legacyKeys.clear();
    for (const page of this.pages) page.clear();
  }

  /** A record of the earlier form: its partial goes into the next drain's pages, its key is deleted. */
  private restoreLegacy(key: string, value: Buffer | null): void {
    if (value === null) {
      const [start, ...rest] = key.split('|');
      const signal = rest.join('|');
      const byBucket = this.open.get(signal);
      const partial = byBucket?.get(Number(start));
      if (partial) {
        byBucket?.delete(Number(start));
        this.dirty.delete(partial);
        if (byBucket?.size === 0) this.forget(signal);
      }
      this.legacyKeys.delete(key);
      return;
    }
    const partial = signalSerde.deserialize(value);
    this.place(partial);
    this.dirty.add(partial);
    this.legacyKeys.add(key);
  }

  private place(partial: Partial): void {
    let byBucket = this.open.get(partial.signal);
    if (!byBucket) {
      byBucket = new Map();
      this.open.set(partial.signal, byBucket);
      this.pages[this.page(partial.signal)]?.add(partial.signal);
    }
    byBucket.set(partial.bucketStartMs, partial);
  }

  private forget(signal: string): void {
    this.open.delete(signal);
    this.pages[this.page(signal)]?.delete(signal);
    this.pageOf.delete(signal);
  }

  private page(signal: string): number {
    let page = this.pageOf.get(signal);
    if (page === undefined) {
      page = bucketPageOf(signal);
      this.pageOf.set(signal, page);
    }
    return page;
  }

  private encodePage(page: number): Buffer | null {
    const parts: Buffer[] = [];
    for (const signal of this.pages[page] as Set<string>) {
      for (const partial of this.open.get(signal)?.values() ?? []) {
        const bytes = signalSerde.serialize(partial);
        const length = Buffer.allocUnsafe(4);
        length.writeUInt32LE(bytes.length, 0);
        parts.push(length, bytes);
      }
    }
    return parts.length === 0 ? null : Buffer.concat(parts);
  }
}
