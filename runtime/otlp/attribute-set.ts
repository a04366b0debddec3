/**
 * The AttributeSet the streaming decoder reuses for every resource and data point: it reads each
 * KeyValue once, feeds it into a two-lane order-independent hash, and decodes only the values of
 * the configured extract keys (interned).
 *
 * Hash: per KeyValue, two independent 32-bit lanes (a murmur3-style round and an xxhash32-style
 * round, different seeds and constants, so a collision crafted for one lane's block function is
 * not one for the other) run over a word stream that can be parsed back unambiguously: a header
 * word with the key length and (value length << 3 | value kind), the key bytes, then the value,
 * where an int is its exact 64-bit two's complement, a bool 0/1, a double its 8 IEEE bytes, and
 * a string, bytes, array or key-value list its encoded bytes (nested values thus hash by their
 * encoding, which the SDKs write canonically). Each lane is finalized with an avalanche mix and
 * the pairs are added mod 2^32, which does not depend on their order; the sums are mixed with the
 * count at the end. 64 bits, not cryptographic: ~10M distinct sets collide with probability
 * ~3e-6, and a producer set on it could construct collisions.
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

/** Lane A's per-word round (murmur3's block step). */
function roundA(a: number, w: number): number {
  let k = Math.imul(w, M1);
  k = (k << 15) | (k >>> 17);
  a ^= Math.imul(k, M2);
  a = (a << 13) | (a >>> 19);
  return (Math.imul(a, 5) + 0xe6546b64) | 0;
}

/** Lane B's per-word round (xxhash32's accumulator step). */
function roundB(b: number, w: number): number {
  b = (b + Math.imul(w, P2)) | 0;
  return Math.imul((b << 13) | (b >>> 19), P1);
}

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
  private readonly values: (string | undefined)[];
  private readonly nKeys: number;
  private readonly keyViews: readonly DataView[];
  /** Bit n set when an extract key is n bytes long (n < 32): most keys are ruled out by it. */
  private readonly keyLengths: number;
  /** Ranges found by the general KeyValue/AnyValue scan (the fast path keeps them in locals). */
  private keyStart = 0;
  private keyEnd = 0;
  private kind = 0;
  private payloadStart = 0;
  private payloadEnd = 0;
  private lo = 0;
  private hi = 0;

  /** `keys` are the UTF-8 bytes of the extract keys, in slot order. */
  constructor(
    private readonly keys: readonly Uint8Array[],
    private readonly intern: InternTable,
  ) {
    this.nKeys = keys.length;
    this.keyViews = keys.map((k) => new DataView(k.buffer, k.byteOffset, k.byteLength));
    this.keyLengths = keys.reduce((mask, k) => (k.length < 32 ? mask | (1 << k.length) : mask), 0);
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
    const buf = r.buf;
    const start = r.pos;
    // Fast path for what every producer writes: key then value, one-byte lengths, and a value
    // with one one-byte-length or fixed-size field. Anything else takes the general scan.
    let keyStart = start + 2;
    let keyEnd = keyStart + (buf[start + 1] as number);
    let kind = 0;
    let payloadStart = 0;
    let payloadEnd = 0;
    let lo = 0;
    let hi = 0;
    const v = keyEnd + 2;
    if (
      v + 1 < end &&
      buf[start] === 0x0a &&
      (buf[start + 1] as number) < 0x80 &&
      buf[keyEnd] === 0x12 &&
      (buf[keyEnd + 1] as number) < 0x80 &&
      v + (buf[keyEnd + 1] as number) === end
    ) {
      const t = buf[v] as number;
      const b = buf[v + 1] as number;
      if ((t === 0x0a || t === 0x3a) && b < 0x80 && v + 2 + b === end) {
        kind = t >>> 3;
        payloadStart = v + 2;
        payloadEnd = end;
      } else if ((t === 0x18 || t === 0x10) && end - v <= 5) {
        // A varint of up to 4 bytes (28 bits) filling the rest of the value.
        let x = 0;
        let q = v + 1;
        for (let shift = 0; q < end; shift += 7) {
          const c = buf[q++] as number;
          x |= (c & 0x7f) << shift;
          if (c < 0x80) break;
        }
        if (q === end && (buf[end - 1] as number) < 0x80) {
          kind = t >>> 3;
          payloadStart = v + 1;
          payloadEnd = end;
          lo = t === 0x10 && x !== 0 ? 1 : x;
        } else kind = -1;
      } else if (t === 0x21 && v + 9 === end) {
        kind = 4;
        payloadStart = v + 1;
        payloadEnd = end;
      } else kind = -1;
    } else kind = -1;
    if (kind < 0) {
      this.scanKeyValue(r, start, end);
      keyStart = this.keyStart;
      keyEnd = this.keyEnd;
      kind = this.kind;
      payloadStart = this.payloadStart;
      payloadEnd = this.payloadEnd;
      lo = this.lo;
      hi = this.hi;
    }
    r.pos = end;

    const view = r.view;
    const keyLength = keyEnd - keyStart;
    const numeric = kind === 2 || kind === 3;
    const valueWord = ((numeric ? 8 : payloadEnd - payloadStart) << 3) | kind;
    // One header word carries both lengths, so the word stream that follows is unambiguous;
    // lengths that do not fit its halves are mixed in full as well.
    const header = keyLength | (valueWord << 16);
    let a = roundA(SEED_A, header);
    let b = roundB(SEED_B, header);
    if (keyLength > 0xffff || valueWord > 0xffff) {
      a = roundA(roundA(a, keyLength), valueWord);
      b = roundB(roundB(b, keyLength), valueWord);
    }
    // The key's bytes, then the value's (or its 64 bits), as little-endian words.
    let from = keyStart;
    let to = keyEnd;
    for (let part = numeric ? 1 : 2; part > 0; part--) {
      let i = from;
      for (const stop = to - 3; i < stop; i += 4) {
        const w = view.getInt32(i, true);
        a = roundA(a, w);
        b = roundB(b, w);
      }
      if (i < to) {
        let w = 0;
        for (let shift = 0; i < to; i++, shift += 8) w |= (buf[i] as number) << shift;
        a = roundA(a, w);
        b = roundB(b, w);
      }
      from = payloadStart;
      to = payloadEnd;
    }
    if (numeric) {
      a = roundA(roundA(a, lo), hi);
      b = roundB(roundB(b, lo), hi);
    }
    this.sumA = (this.sumA + finalA(a)) | 0;
    this.sumB = (this.sumB + finalB(b)) | 0;
    this.count++;
    if (keyLength < 32 ? (this.keyLengths & (1 << keyLength)) !== 0 : this.nKeys !== 0) this.extract(buf, keyStart, keyEnd, kind, payloadStart, payloadEnd, view);
  }

  /** The general KeyValue scan: any field order, repeats, unknown fields, multi-byte varints. */
  private scanKeyValue(r: ProtoReader, start: number, end: number): void {
    const outer = r.end;
    r.pos = start;
    r.end = end;
    let valueStart = 0;
    let valueEnd = -1;
    this.keyStart = this.keyEnd = this.kind = this.payloadStart = this.payloadEnd = this.lo = this.hi = 0;
    while (r.pos < end) {
      const tag = r.tag();
      if (tag === 0x0a) {
        this.keyEnd = r.delimitedEnd();
        this.keyStart = r.pos;
        r.pos = this.keyEnd;
      } else if (tag === 0x12) {
        valueEnd = r.delimitedEnd();
        valueStart = r.pos;
        r.pos = valueEnd;
      } else r.skipTag(tag);
    }
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
            this.kind = tag >>> 3;
            this.payloadEnd = r.delimitedEnd();
            this.payloadStart = r.pos;
            r.pos = this.payloadEnd;
            break;
          case 0x10: // bool_value
          case 0x18: // int_value
            this.kind = tag >>> 3;
            this.payloadStart = r.pos;
            r.varint64Split();
            this.payloadEnd = r.pos;
            this.lo = r.lo;
            this.hi = r.hi;
            if (tag === 0x10) {
              this.lo = r.lo !== 0 || r.hi !== 0 ? 1 : 0;
              this.hi = 0;
            }
            break;
          case 0x21: // double_value
            this.kind = 4;
            this.payloadStart = r.pos;
            r.skip(1);
            this.payloadEnd = r.pos;
            break;
          default:
            r.skipTag(tag);
        }
      }
    }
    r.end = outer;
  }

  private extract(buf: Uint8Array, keyStart: number, keyEnd: number, kind: number, start: number, end: number, view: DataView): void {
    const length = keyEnd - keyStart;
    for (let slot = 0; slot < this.nKeys; slot++) {
      const key = this.keys[slot] as Uint8Array;
      if (key.length !== length) continue;
      const keyView = this.keyViews[slot] as DataView;
      let i = 0;
      while (i + 3 < length && keyView.getInt32(i) === view.getInt32(keyStart + i)) i += 4;
      if (i + 3 < length) continue;
      while (i < length && key[i] === buf[keyStart + i]) i++;
      if (i !== length) continue;
      this.values[slot] = kind === 0 ? undefined : this.intern.get(kind, buf, start, end, view);
    }
  }
}
