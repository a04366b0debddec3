/**
 * The AttributeSet the streaming decoder reuses for every resource and data point: it reads each
 * KeyValue once, feeds it into a two-lane order-independent hash, and decodes only the values of
 * the configured extract keys (interned).
 *
 * Hash: per KeyValue, two independent 32-bit lanes (a murmur3-style round and an xxhash32-style
 * round, different seeds and constants, so a collision crafted for one lane's block function is
 * not one for the other) run over a prefix-free word stream: key length, key bytes, then
 * (value length << 3 | value kind) and the value, where an int is its exact 64-bit two's
 * complement, a bool 0/1, a double its 8 IEEE bytes, and a string, bytes, array or key-value
 * list its encoded bytes. Each lane is finalized with an avalanche mix and the pairs are added
 * mod 2^32, which does not depend on their order; the sums are mixed with the count at the end.
 * Not a cryptographic hash: hostile producers can still search for collisions (2^64 work).
 */

import type { ProtoReader } from './proto-reader.js';
import type { InternTable } from './intern.js';
import type { AttributeSet } from './visitor.js';

const SEED_A = 0x5bd1e995;
const SEED_B = 0x27d4eb2f;
const M1 = 0xcc9e2d51;
const M2 = 0x1b873593;
const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;

/** murmur3 fmix32. */
function finalA(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** A different avalanche ("lowbias32"), so the lanes stay independent. */
function finalB(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  return h ^ (h >>> 16);
}

export class AttributeSetImpl implements AttributeSet {
  count = 0;
  hashHi = 0;
  hashLo = 0;
  private sumA = 0;
  private sumB = 0;
  /** Lane states of the KeyValue being hashed. */
  private a = 0;
  private b = 0;
  private readonly values: (string | undefined)[];
  private readonly nKeys: number;

  /** `keys` are the UTF-8 bytes of the extract keys, in slot order. */
  constructor(
    private readonly keys: readonly Uint8Array[],
    private readonly intern: InternTable,
  ) {
    this.nKeys = keys.length;
    this.values = new Array<string | undefined>(keys.length).fill(undefined);
  }

  value(slot: number): string | undefined {
    return this.values[slot];
  }

  reset(): void {
    this.count = 0;
    this.sumA = 0;
    this.sumB = 0;
    this.hashHi = 0;
    this.hashLo = 0;
    for (let i = 0; i < this.nKeys; i++) this.values[i] = undefined;
  }

  /** Completes hashHi/hashLo; call after the last add and before handing the set out. */
  finish(): void {
    this.hashHi = finalA((this.sumA + Math.imul(this.count, P1)) | 0) >>> 0;
    this.hashLo = finalB(this.sumB ^ Math.imul(this.count, P2)) >>> 0;
  }

  /**
   * Adds the KeyValue message `r.buf[r.pos..end)`; leaves `r.pos` at `end`. Its fields may come
   * in any order; when one repeats, the last wins (as for any protobuf scalar or oneof).
   */
  addKeyValue(r: ProtoReader, end: number): void {
    const outer = r.end;
    r.end = end;
    let keyStart = 0;
    let keyEnd = 0;
    let valueStart = 0;
    let valueEnd = -1;
    while (r.pos < end) {
      const tag = r.tag();
      if (tag === 0x0a) {
        keyEnd = r.delimitedEnd();
        keyStart = r.pos;
        r.pos = keyEnd;
      } else if (tag === 0x12) {
        valueEnd = r.delimitedEnd();
        valueStart = r.pos;
        r.pos = valueEnd;
      } else r.skipTag(tag);
    }
    let kind = 0;
    let payloadStart = 0;
    let payloadEnd = 0;
    let lo = 0;
    let hi = 0;
    if (valueEnd >= 0) {
      r.pos = valueStart;
      r.end = valueEnd;
      while (r.pos < valueEnd) {
        const tag = r.tag();
        switch (tag) {
          case 0x0a: // string_value
          case 0x2a: // array_value
          case 0x32: // kvlist_value
          case 0x3a: // bytes_value
            kind = tag >>> 3;
            payloadEnd = r.delimitedEnd();
            payloadStart = r.pos;
            r.pos = payloadEnd;
            break;
          case 0x10: // bool_value
          case 0x18: // int_value
            kind = tag >>> 3;
            payloadStart = r.pos;
            r.varint64Split();
            payloadEnd = r.pos;
            lo = r.lo;
            hi = r.hi;
            if (kind === 2) {
              lo = lo !== 0 || hi !== 0 ? 1 : 0;
              hi = 0;
            }
            break;
          case 0x21: // double_value
            kind = 4;
            payloadStart = r.pos;
            r.skip(1);
            payloadEnd = r.pos;
            break;
          default:
            r.skipTag(tag);
        }
      }
    }
    r.pos = end;
    r.end = outer;

    const buf = r.buf;
    this.a = SEED_A;
    this.b = SEED_B;
    this.mixWord(keyEnd - keyStart);
    this.mixBytes(buf, keyStart, keyEnd);
    if (kind === 2 || kind === 3) {
      this.mixWord((8 << 3) | kind);
      this.mixWord(lo);
      this.mixWord(hi);
    } else {
      this.mixWord(((payloadEnd - payloadStart) << 3) | kind);
      this.mixBytes(buf, payloadStart, payloadEnd);
    }
    this.sumA = (this.sumA + finalA(this.a)) | 0;
    this.sumB = (this.sumB + finalB(this.b)) | 0;
    this.count++;
    if (this.nKeys !== 0) this.extract(buf, keyStart, keyEnd, kind, payloadStart, payloadEnd);
  }

  private extract(buf: Uint8Array, keyStart: number, keyEnd: number, kind: number, start: number, end: number): void {
    const length = keyEnd - keyStart;
    for (let slot = 0; slot < this.nKeys; slot++) {
      const key = this.keys[slot] as Uint8Array;
      if (key.length !== length) continue;
      let i = 0;
      while (i < length && key[i] === buf[keyStart + i]) i++;
      if (i !== length) continue;
      this.values[slot] = kind === 0 ? undefined : this.intern.get(kind, buf, start, end);
    }
  }

  private mixWord(w: number): void {
    let k = Math.imul(w, M1);
    k = (k << 15) | (k >>> 17);
    let a = this.a ^ Math.imul(k, M2);
    a = (a << 13) | (a >>> 19);
    this.a = (Math.imul(a, 5) + 0xe6546b64) | 0;
    const b = (this.b + Math.imul(w, P2)) | 0;
    this.b = Math.imul((b << 13) | (b >>> 19), P1);
  }

  /** Little-endian words, then the 1-3 trailing bytes as one word (the length came before). */
  private mixBytes(buf: Uint8Array, start: number, end: number): void {
    let a = this.a;
    let b = this.b;
    let i = start;
    for (const stop = end - 3; i < stop; i += 4) {
      const w = (buf[i] as number) | ((buf[i + 1] as number) << 8) | ((buf[i + 2] as number) << 16) | ((buf[i + 3] as number) << 24);
      let k = Math.imul(w, M1);
      k = (k << 15) | (k >>> 17);
      a ^= Math.imul(k, M2);
      a = (a << 13) | (a >>> 19);
      a = (Math.imul(a, 5) + 0xe6546b64) | 0;
      b = (b + Math.imul(w, P2)) | 0;
      b = Math.imul((b << 13) | (b >>> 19), P1);
    }
    this.a = a;
    this.b = b;
    if (i < end) {
      let w = 0;
      for (let shift = 0; i < end; i++, shift += 8) w |= (buf[i] as number) << shift;
      this.mixWord(w);
    }
  }
}

