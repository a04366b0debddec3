/**
 * A small writer of the protobuf wire format into one growing buffer, for the OTLP encoders
 * (encode-metrics.ts, workload-kafka.ts) and for tests that hand-encode messages.
 *
 * Length-delimited fields are written in place: `begin` reserves room for the length prefix and
 * `end` patches it, moving the body only when the reservation was the wrong size, so output is always the canonical (shortest)
 * encoding. Nothing is allocated per field: a writer reused across messages encodes at memory
 * speed once its buffer has grown.
 */

import { WireType } from './proto-reader.js';
import { decimalToParts, utf8Length } from './proto-writer-helpers.js';

const TWO_32 = 4294967296;
const MAX_DEPTH = 64;

/** Bytes a varint of this unsigned 32-bit value takes. */
function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

export class ProtoWriter {
  /** The buffer written into; replaced when it grows, so re-read it after writing. */
  buf: Uint8Array;
  /** Bytes written so far. */
  pos = 0;
  private view: DataView;
  /** Start offsets and reserved prefix sizes of the fields opened by `begin`. */
  private readonly stack = new Int32Array(MAX_DEPTH * 2);
  private depth = 0;
  /**
   * A two-entry cache of parsed decimal timestamps: the points of a request usually share one
   * start and one end time, written alternately.
   */
  private readonly parts = new Float64Array(2);
  private readonly cachedDecimal = ['', ''];
  private readonly cachedParts = new Float64Array(4);
  private cacheNext = 0;
  private static readonly encoder = new TextEncoder();

  constructor(initialSize = 1024) {
    this.buf = new Uint8Array(Math.max(16, initialSize));
    this.view = new DataView(this.buf.buffer);
  }

  get length(): number {
    return this.pos;
  }

  /** Forgets what was written (and any open field) and keeps the buffer for the next message. */
  reset(): this {
    this.pos = 0;
    this.depth = 0;
    return this;
  }

  /** A copy of what was written: the caller owns it, the writer can be reused. */
  finish(): Uint8Array {
    this.assertClosed();
    return this.buf.slice(0, this.pos);
  }

  /** What was written, without copying: valid only until the next write or reset. */
  subarray(): Uint8Array {
    this.assertClosed();
    return this.buf.subarray(0, this.pos);
  }

  tag(field: number, wireType: number): this {
    return this.uint32(field * 8 + wireType);
  }

  /** An unsigned varint of up to 32 bits (tags, lengths, enums, uint32). */
  uint32(value: number): this {
    this.ensure(5);
    const buf = this.buf;
    let v = value >>> 0;
    let p = this.pos;
    while (v > 0x7f) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p++] = v;
    this.pos = p;
    return this;
  }

  /** A 64-bit varint from its two's complement 32-bit halves (hi may be signed). */
  varint64Parts(hi: number, lo: number): this {
    this.ensure(10);
    const buf = this.buf;
    let h = hi >>> 0;
    let l = lo >>> 0;
    let p = this.pos;
    while (h !== 0 || l > 0x7f) {
      buf[p++] = (l & 0x7f) | 0x80;
      l = ((l >>> 7) | (h << 25)) >>> 0;
      h >>>= 7;
    }
    buf[p++] = l;
    this.pos = p;
    return this;
  }

  /**
   * An int64/uint64 varint from an integer; negative values take ten bytes of two's complement,
   * as protobuf requires. Exact within ±2^53 and for any integral double in int64/uint64 range.
   */
  varint64(value: number): this {
    if (value >= 0 && value < TWO_32) return this.uint32(value);
    const hi = Math.floor(value / TWO_32);
    return this.varint64Parts(hi, value - hi * TWO_32);
  }

  /** Same as varint64; the name says which proto type a call site writes. */
  int64(value: number): this {
    return this.varint64(value);
  }

  /** A zigzag varint (sint32). */
  sint32(value: number): this {
    return this.uint32(((value << 1) ^ (value >> 31)) >>> 0);
  }

  bool(value: boolean): this {
    return this.uint32(value ? 1 : 0);
  }

  double(value: number): this {
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
    return this;
  }

  /** fixed64 (or sfixed64: negatives become two's complement) from an integer within ±2^53. */
  fixed64(value: number): this {
    if (value >= 0 && value < TWO_32) return this.fixed64Parts(0, value);
    const hi = Math.floor(value / TWO_32);
    return this.fixed64Parts(hi, value - hi * TWO_32);
  }

  /** Same as fixed64; the name says which proto type a call site writes. */
  sfixed64(value: number): this {
    return this.fixed64(value);
  }

  /** fixed64 from an exact unsigned decimal string or bigint (nanosecond timestamps). */
  fixed64Decimal(value: string | bigint): this {
    if (typeof value === 'bigint') {
      if (value < 0n || value >= 1n << 64n) throw new RangeError(`uint64 out of range: ${value}`);
      return this.fixed64Parts(Number(value >> 32n), Number(value & 0xffffffffn));
    }
    const cached = this.cachedParts;
    if (value === this.cachedDecimal[0]) return this.fixed64Parts(cached[0] as number, cached[1] as number);
    if (value === this.cachedDecimal[1]) return this.fixed64Parts(cached[2] as number, cached[3] as number);
    decimalToParts(value, this.parts);
    const slot = this.cacheNext;
    this.cacheNext = 1 - slot;
    this.cachedDecimal[slot] = value;
    cached[slot * 2] = this.parts[0] as number;
    cached[slot * 2 + 1] = this.parts[1] as number;
    return this.fixed64Parts(this.parts[0] as number, this.parts[1] as number);
  }

  /**
   * fixed64 nanoseconds from Unix milliseconds: whole ms × 1e6 exactly, plus the fraction of a
   * millisecond rounded to whole nanoseconds (a plain `ms * 1e6` would round above 2^53).
   */
  fixed64FromMillis(ms: number): this {
    if (!(ms >= 0) || ms === Infinity) throw new RangeError(`time must be non-negative milliseconds, got ${ms}`);
    let whole = Math.floor(ms);
    let frac = Math.round((ms - whole) * 1e6);
    if (frac === 1e6) {
      whole++;
      frac = 0;
    }
    const wHi = Math.floor(whole / TWO_32);
    const t = (whole - wHi * TWO_32) * 1e6 + frac;
    const carry = Math.floor(t / TWO_32);
    const hi = wHi * 1e6 + carry;
    if (hi >= TWO_32) throw new RangeError(`time ${ms} ms overflows uint64 nanoseconds`);
    return this.fixed64Parts(hi, t - carry * TWO_32);
  }

  fixed64Parts(hi: number, lo: number): this {
    this.ensure(8);
    this.view.setUint32(this.pos, lo >>> 0, true);
    this.view.setUint32(this.pos + 4, hi >>> 0, true);
    this.pos += 8;
    return this;
  }

  /** Length-prefixed raw bytes. */
  bytes(value: Uint8Array): this {
    this.uint32(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
    return this;
  }

  /** A length-prefixed UTF-8 string. */
  string(value: string): this {
    const n = value.length;
    this.ensure(n * 3 + 5);
    const buf = this.buf;
    // Up to 42 UTF-16 units encode to at most 126 bytes: the prefix is one byte whatever they are.
    if (n < 43) {
      const start = this.pos + 1;
      let p = start;
      for (let i = 0; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) {
          p = start + ProtoWriter.encoder.encodeInto(value, buf.subarray(start)).written;
          break;
        }
        buf[p++] = c;
      }
      buf[start - 1] = p - start;
      this.pos = p;
      return this;
    }
    const len = utf8Length(value);
    this.uint32(len);
    if (len === n) {
      let p = this.pos;
      for (let i = 0; i < n; i++) buf[p++] = value.charCodeAt(i);
      this.pos = p;
    } else this.pos += ProtoWriter.encoder.encodeInto(value, buf.subarray(this.pos)).written;
    return this;
  }

  /**
   * Opens a length-delimited field (tag included) and reserves `reserve` bytes for its length;
   * a reservation that matches the final length avoids moving the body. Close it with `end`.
   */
  begin(field: number, reserve = 1): this {
    if (this.depth === MAX_DEPTH) throw new RangeError(`messages nested deeper than ${MAX_DEPTH}`);
    const n = Math.min(5, Math.max(1, reserve));
    this.uint32(field * 8 + WireType.LEN);
    this.ensure(n);
    this.stack[this.depth * 2] = this.pos;
    this.stack[this.depth * 2 + 1] = n;
    this.depth++;
    this.pos += n;
    return this;
  }

  /** Closes the innermost field opened by `begin` and writes its length. */
  end(): this {
    if (this.depth === 0) throw new Error('end() without begin()');
    this.depth--;
    return this.patchLength(this.stack[this.depth * 2] as number, this.stack[this.depth * 2 + 1] as number);
  }

  /** Packed repeated double (explicit bounds); nothing when empty. */
  packedDoubles(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    this.tag(field, WireType.LEN).uint32(values.length * 8);
    this.ensure(values.length * 8);
    const view = this.view;
    let p = this.pos;
    for (let i = 0; i < values.length; i++, p += 8) view.setFloat64(p, values[i] as number, true);
    this.pos = p;
    return this;
  }

  /** Packed repeated fixed64 from non-negative integers (bucket counts); nothing when empty. */
  packedFixed64(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    this.tag(field, WireType.LEN).uint32(values.length * 8);
    this.ensure(values.length * 8);
    const view = this.view;
    let p = this.pos;
    for (let i = 0; i < values.length; i++, p += 8) {
      const v = values[i] as number;
      if (v >= 0 && v < TWO_32) {
        view.setUint32(p, v, true);
        view.setUint32(p + 4, 0, true);
      } else {
        const hi = Math.floor(v / TWO_32);
        view.setUint32(p, (v - hi * TWO_32) >>> 0, true);
        view.setUint32(p + 4, hi >>> 0, true);
      }
    }
    this.pos = p;
    return this;
  }

  /** Packed repeated uint64 varints (exponential histogram bucket counts); nothing when empty. */
  packedVarint64(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    this.begin(field, values.length < 0x80 ? 1 : 2);
    for (let i = 0; i < values.length; i++) this.varint64(values[i] as number);
    return this.end();
  }

  private patchLength(start: number, reserved: number): this {
    const bodyStart = start + reserved;
    const len = this.pos - bodyStart;
    const size = varintSize(len);
    if (size !== reserved) {
      this.ensure(size - reserved);
      this.buf.copyWithin(start + size, bodyStart, this.pos);
      this.pos += size - reserved;
    }
    const buf = this.buf;
    let p = start;
    let v = len;
    while (v > 0x7f) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p] = v;
    return this;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }

  private assertClosed(): void {
    if (this.depth !== 0) throw new Error(`${this.depth} length-delimited field(s) still open`);
  }
}
