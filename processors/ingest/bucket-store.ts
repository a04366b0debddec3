import { signalSerde } from '../../schemas/index.js';
import type { SignalRecord } from '../../schemas/index.js';
import type { StateStore } from '../../runtime/types.js';

/** One signal's aggregate over one open event-time bucket, in the shape it is sent in. */
export type Partial = SignalRecord;

/**
 * Open buckets of one input partition: signal → bucket start → partial aggregate. Changelog
 * key `<bucketStart>|<signal>`, value the partial as an aiops.signals.v1 record.
 */
export class BucketStore implements StateStore {
  readonly name = 'buckets';
  /** signal key → (bucket start → partial). */
  readonly open = new Map<string, Map<number, Partial>>();
  /** Partials changed since the last drain (by identity: no key is built per point). */
  private readonly dirty = new Set<Partial>();
  /** Changelog keys of partials closed since the last drain. */
  private readonly removed = new Set<string>();

  get(signal: string, bucketStart: number): Partial | undefined {
    return this.open.get(signal)?.get(bucketStart);
  }

  put(partial: Partial): void {
    let byBucket = this.open.get(partial.signal);
    if (!byBucket) {
      byBucket = new Map();
      this.open.set(partial.signal, byBucket);
    }
    byBucket.set(partial.bucketStartMs, partial);
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
          this.removed.add(`${start}|${signal}`);
        }
      }
      if (byBucket.size === 0) this.open.delete(signal);
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
    for (const key of this.removed) yield [key, null] as const;
    for (const partial of this.dirty) yield [`${partial.bucketStartMs}|${partial.signal}`, signalSerde.serialize(partial)] as const;
    this.removed.clear();
    this.dirty.clear();
  }

  restore(_key: string, value: Buffer | null): void {
    if (value === null) {
      const [start, ...rest] = _key.split('|');
      const signal = rest.join('|');
      this.open.get(signal)?.delete(Number(start));
      return;
    }
    const partial = signalSerde.deserialize(value);
    let byBucket = this.open.get(partial.signal);
    if (!byBucket) {
      byBucket = new Map();
      this.open.set(partial.signal, byBucket);
    }
    byBucket.set(partial.bucketStartMs, partial);
  }

  clear(): void {
    this.open.clear();
    this.dirty.clear();
    this.removed.clear();
  }
}
