/**
 * A minimal reader of the protobuf wire format over one buffer: varints, fixed 32/64-bit values
 * and length-delimited fields, with bounds checks. It allocates nothing per field, so decoders
 * built on it can walk a message without building an object tree.
 */

export const WireType = { VARINT: 0, I64: 1, LEN: 2, I32: 5 } as const;

export class ProtoDecodeError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at byte ${offset}`);
    this.name = 'ProtoDecodeError';
  }
}

const TWO_32 = 4294967296;

/**
 * Unix nanoseconds given as the two 32-bit halves of a fixed64, as milliseconds with a
 * fraction. Never forms the nanosecond count itself (a double would round it to 256 ns): with
 * 2^32 = 4294 * 1e6 + 967296, the whole milliseconds are hi * 4294 + floor((hi * 967296 + lo) / 1e6)
 * and the rest is the fraction, every step exact in doubles for times before 2106. A timestamp
 * on a whole millisecond therefore comes out as exactly that integer (it decides which bucket a
 * point falls in). The protobuf and JSON decoders both use it, so they agree bit for bit.
 */
export function nanosToMillis(hi: number, lo: number): number {
  const rest = hi * 967296 + lo;
  const whole = Math.floor(rest / 1e6);
  return hi * 4294 + whole + (rest - whole * 1e6) / 1e6;
}

export class ProtoReader {
  /** Current read position. */
  pos: number;
  /**
   * End of the current message (exclusive). Decoders narrow it to each nested message while
   * they read it, so a length or fixed-size value that runs past its parent fails here.
   */
  end: number;
  /** Low and high 32 bits of the last varint read by `varint64Split` (two's complement). */
  lo = 0;
  hi = 0;
  /** A view of `buf`, for callers that read fixed-size values at known offsets. */
  readonly view: DataView;
  private static readonly decoder = new TextDecoder('utf-8', { fatal: true });

  constructor(readonly buf: Uint8Array, start = 0, end = buf.length) {
    this.pos = start;
    this.end = end;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** Reads a field tag; returns field number * 8 + wire type, as encoded. */
  tag(): number {
    return this.uint32();
  }

  /** A varint that must fit in 32 bits (tags, lengths, enums, uint32). */
  uint32(): number {
    // Most tags and lengths are one byte: small enough for the JIT to inline at every call site.
    const pos = this.pos;
    if (pos < this.end) {
      const b = this.buf[pos] as number;
      if (b < 0x80) {
        this.pos = pos + 1;
        return b;
      }
    }
    return this.uint32Long();
  }

  private uint32Long(): number {
    let result = 0;
    let shift = 0;
    while (this.pos < this.end) {
      const b = this.buf[this.pos++] as number;
      if (shift < 28) result |= (b & 0x7f) << shift;
      else if (shift === 28) result += (b & 0x0f) * 2 ** 28;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new ProtoDecodeError('varint longer than 10 bytes', this.pos);
    }
    throw new ProtoDecodeError('truncated varint', this.pos);
  }

  /** A 64-bit varint as a double (exact below 2^53; int64/uint64 counts and ints). */
  varint64(): number {
    let lo = 0;
    let hi = 0;
    let shift = 0;
    while (this.pos < this.end) {
      const b = this.buf[this.pos++] as number;
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi = (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (shift - 32 + 0);
      if ((b & 0x80) === 0) return (hi >>> 0) * TWO_32 + (lo >>> 0);
      shift += 7;
      if (shift > 63) throw new ProtoDecodeError('varint longer than 10 bytes', this.pos);
    }
    throw new ProtoDecodeError('truncated varint', this.pos);
  }

  /**
   * Reads a 64-bit varint into `lo` and `hi` (unsigned 32-bit halves), exactly: for int64
   * values that a double cannot hold, and for hashing a value without rounding it.
   */
  varint64Split(): void {
    let lo = 0;
    let hi = 0;
    let shift = 0;
    while (this.pos < this.end) {
      const b = this.buf[this.pos++] as number;
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi = (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (shift - 32);
      if ((b & 0x80) === 0) {
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
      shift += 7;
      if (shift > 63) throw new ProtoDecodeError('varint longer than 10 bytes', this.pos);
    }
    throw new ProtoDecodeError('truncated varint', this.pos);
  }

  /** A signed 64-bit varint (int64) as a double. */
  int64(): number {
    this.varint64Split();
    // Two's complement: the signed high half keeps small negatives exact (-1 is hi -1, lo 2^32-1).
    return (this.hi | 0) * TWO_32 + this.lo;
  }

  /** A zigzag-encoded signed varint (sint32). */
  sint32(): number {
    const n = this.uint32();
    return (n >>> 1) ^ -(n & 1);
  }

  bool(): boolean {
    return this.uint32() !== 0;
  }

  double(): number {
    this.need(8);
    const value = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return value;
  }

  /** fixed64 as a double (exact below 2^53: counts, and nanosecond timestamps to ~0.25 µs). */
  fixed64(): number {
    this.need(8);
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getUint32(this.pos + 4, true);
    this.pos += 8;
    return hi * TWO_32 + lo;
  }

  /** fixed64 Unix nanoseconds as milliseconds with a fraction (see nanosToMillis). */
  fixed64Ms(): number {
    this.need(8);
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getUint32(this.pos + 4, true);
    this.pos += 8;
    return nanosToMillis(hi, lo);
  }

  /** fixed64 exactly, as a bigint (for reference decoding, not hot paths). */
  fixed64BigInt(): bigint {
    this.need(8);
    const value = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return value;
  }

  /** sfixed64 as a double. */
  sfixed64(): number {
    this.need(8);
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getInt32(this.pos + 4, true);
    this.pos += 8;
    return hi * TWO_32 + lo;
  }

  fixed32(): number {
    this.need(4);
    const value = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return value;
  }

  /**
   * Reads packed doubles from `pos` up to `end` (a delimited field's end) into `out` from index
   * `at`; returns the index after the last. The caller makes room for (end - pos) / 8 values.
   */
  doublesInto(out: Float64Array, at: number, end: number): number {
    if ((end - this.pos) % 8 !== 0) throw new ProtoDecodeError('packed doubles: length is not a multiple of 8', this.pos);
    if (end > this.end) throw new ProtoDecodeError('packed doubles run past the end of the message', this.pos);
    const view = this.view;
    for (let p = this.pos; p < end; p += 8) out[at++] = view.getFloat64(p, true);
    this.pos = end;
    return at;
  }

  /** As doublesInto, for packed fixed64 values (each as a double, exact below 2^53). */
  fixed64sInto(out: Float64Array, at: number, end: number): number {
    if ((end - this.pos) % 8 !== 0) throw new ProtoDecodeError('packed fixed64: length is not a multiple of 8', this.pos);
    if (end > this.end) throw new ProtoDecodeError('packed fixed64 runs past the end of the message', this.pos);
    const view = this.view;
    for (let p = this.pos; p < end; p += 8) out[at++] = view.getUint32(p + 4, true) * TWO_32 + view.getUint32(p, true);
    this.pos = end;
    return at;
  }

  /** Reads a length prefix and returns the end offset of the delimited field. */
  delimitedEnd(): number {
    const length = this.uint32();
    const end = this.pos + length;
    if (end > this.end) throw new ProtoDecodeError(`length ${length} runs past the end of the message`, this.pos);
    return end;
  }

  string(): string {
    const end = this.delimitedEnd();
    const start = this.pos;
    this.pos = end;
    try {
      return ProtoReader.decoder.decode(this.buf.subarray(start, end));
    } catch {
      throw new ProtoDecodeError('string is not valid UTF-8', start);
    }
  }

  bytes(): Uint8Array {
    const end = this.delimitedEnd();
    const out = this.buf.subarray(this.pos, end);
    this.pos = end;
    return out;
  }

  /** Skips one field of the given wire type. */
  skip(wireType: number): void {
    switch (wireType) {
      case WireType.VARINT:
        this.varint64();
        return;
      case WireType.I64:
        this.need(8);
        this.pos += 8;
        return;
      case WireType.LEN:
        this.pos = this.delimitedEnd();
        return;
      case WireType.I32:
        this.need(4);
        this.pos += 4;
        return;
      default:
        throw new ProtoDecodeError(`unsupported wire type ${wireType}`, this.pos);
    }
  }

  /** Skips the field whose tag was just read; field number 0 never occurs in valid input. */
  skipTag(tag: number): void {
    if (tag < 8) throw new ProtoDecodeError('field number 0 is invalid', this.pos);
    this.skip(tag & 7);
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new ProtoDecodeError(`truncated: need ${n} bytes`, this.pos);
  }
}
