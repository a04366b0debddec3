/**
 * Interning of strings by their encoded bytes: metric names, units and extracted attribute
 * values arrive as the same few byte sequences over and over, and a stream processor keys maps
 * by them. A lookup hashes and compares bytes and returns the string made the first time, so the
 * same value is the same string object, with no decoding or allocation after the first sighting.
 *
 * Bounded: at `maxEntries` entries (or when the byte arena would pass its cap) the table is
 * cleared and starts over, so input with endless distinct values costs re-decoding, never
 * unbounded memory. Values longer than `maxValueBytes` are rendered without being kept.
 */

import { renderValue } from './any-value.js';

const INITIAL_SLOTS = 1024;

export interface InternOptions {
  maxEntries?: number;
  maxValueBytes?: number;
  maxArenaBytes?: number;
}

export class InternTable {
  readonly maxEntries: number;
  readonly maxValueBytes: number;
  readonly maxArenaBytes: number;
  /** Number of entries held now. */
  size = 0;
  /** Lookups that had to decode (for metrics and tests: steady traffic should stop missing). */
  misses = 0;
  /** How many times the table filled up and was cleared. */
  clears = 0;
  /** Open addressing, linear probing; each slot holds entry index + 1, 0 when free. */
  private slots = new Int32Array(INITIAL_SLOTS);
  private hashes = new Int32Array(INITIAL_SLOTS / 2);
  private starts = new Int32Array(INITIAL_SLOTS / 2);
  private lengths = new Int32Array(INITIAL_SLOTS / 2);
  private kinds = new Uint8Array(INITIAL_SLOTS / 2);
  private strings: string[] = [];
  private arena = new Uint8Array(16 * 1024);
  private arenaView = new DataView(this.arena.buffer);
  private arenaUsed = 0;

  constructor(options: InternOptions = {}) {
    this.maxEntries = options.maxEntries ?? 100_000;
    this.maxValueBytes = options.maxValueBytes ?? 1024;
    this.maxArenaBytes = options.maxArenaBytes ?? 16 * 1024 * 1024;
  }

  /**
   * The string for the AnyValue payload `buf[start..end)` of `kind` (see renderValue); kind 1
   * (string) serves names and units too. `view` must be a DataView over exactly `buf` (hot
   * callers pass the one they have; otherwise one is made). Throws ProtoDecodeError when the
   * bytes don't decode.
   */
  get(kind: number, buf: Uint8Array, start: number, end: number, view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)): string {
    const length = end - start;
    // A bool's text is one of two constants: nothing to look up (a varint is non-zero when
    // any of its 7-bit groups is).
    if (kind === 2) {
      for (let i = start; i < end; i++) if (((buf[i] as number) & 0x7f) !== 0) return 'true';
      return 'false';
    }
    if (length > this.maxValueBytes) {
      this.misses++;
      return renderValue(kind, buf, start, end);
    }
    let h = Math.imul(0x811c9dc5 ^ kind, 0x01000193) ^ length;
    let i = start;
    // Four bytes per step through the view (hot callers pass theirs), the rest byte by byte.
    for (const stop = end - 3; i < stop; i += 4) {
      h = Math.imul(h ^ view.getInt32(i, true), 0x9e3779b1);
      h ^= h >>> 15;
    }
    for (; i < end; i++) h = Math.imul(h ^ (buf[i] as number), 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    const mask = this.slots.length - 1;
    let slot = h & mask;
    for (let entry = this.slots[slot] as number; entry !== 0; entry = this.slots[slot] as number) {
      const e = entry - 1;
      if (this.hashes[e] === h && this.lengths[e] === length && this.kinds[e] === kind && this.sameBytes(e, view, buf, start, length)) {
        return this.strings[e] as string;
      }
      slot = (slot + 1) & mask;
    }
    this.misses++;
    const value = renderValue(kind, buf, start, end);
    this.insert(h, kind, buf, start, length, value);
    return value;
  }

  clear(): void {
    this.slots.fill(0);
    this.strings.length = 0;
    this.size = 0;
    this.arenaUsed = 0;
    this.clears++;
  }

  private sameBytes(e: number, view: DataView, buf: Uint8Array, start: number, length: number): boolean {
    const arena = this.arena;
    const arenaView = this.arenaView;
    const at = this.starts[e] as number;
    let i = 0;
    for (; i + 3 < length; i += 4) if (arenaView.getInt32(at + i) !== view.getInt32(start + i)) return false;
    for (; i < length; i++) if (arena[at + i] !== buf[start + i]) return false;
    return true;
  }

  private insert(h: number, kind: number, buf: Uint8Array, start: number, length: number, value: string): void {
    if (this.size >= this.maxEntries || this.arenaUsed + length > this.maxArenaBytes) this.clear();
    if ((this.size + 1) * 2 > this.slots.length) this.grow();
    if (this.arenaUsed + length > this.arena.length) {
      const arena = new Uint8Array(Math.min(this.maxArenaBytes, Math.max(this.arena.length * 2, this.arenaUsed + length)));
      arena.set(this.arena.subarray(0, this.arenaUsed));
      this.arena = arena;
      this.arenaView = new DataView(arena.buffer);
    }
    const e = this.size++;
    this.arena.set(buf.subarray(start, start + length), this.arenaUsed);
    this.hashes[e] = h;
    this.starts[e] = this.arenaUsed;
    this.lengths[e] = length;
    this.kinds[e] = kind;
    this.strings[e] = value;
    this.arenaUsed += length;
    this.place(e);
  }

  private place(e: number): void {
    const mask = this.slots.length - 1;
    let slot = (this.hashes[e] as number) & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = e + 1;
  }

  /** Doubles the slot and entry arrays, then re-places every entry. */
  private grow(): void {
    const capacity = this.slots.length * 2;
    this.slots = new Int32Array(capacity);
    const entries = capacity / 2;
    const copy = <T extends Int32Array | Uint8Array>(old: T, fresh: T): T => {
      fresh.set(old);
      return fresh;
    };
    this.hashes = copy(this.hashes, new Int32Array(entries));
    this.starts = copy(this.starts, new Int32Array(entries));
    this.lengths = copy(this.lengths, new Int32Array(entries));
    this.kinds = copy(this.kinds, new Uint8Array(entries));
    for (let e = 0; e < this.size; e++) this.place(e);
  }
}
