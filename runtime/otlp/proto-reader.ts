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

export class ProtoReader {
  /** Current read position. */
  pos: number;
  /** End of the current message (exclusive). */
  end: number;
  private readonly view: DataView;
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

  /** A signed 64-bit varint (int64) as a double. */
  int64(): number {
    const start = this.pos;
    const unsigned = this.varint64();
    // Negative int64 values are encoded as 10-byte two's complement varints.
    if (this.pos - start === 10 && unsigned >= 2 ** 63) return unsigned - 2 ** 64;
    return unsigned;
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

  /** fixed64 nanoseconds as whole milliseconds, without losing precision on the way. */
  fixed64Millis(): number {
    this.need(8);
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getUint32(this.pos + 4, true);
    this.pos += 8;
    // (hi * 2^32 + lo) / 1e6, computed so the result stays exact for any realistic time.
    return Math.floor((hi * TWO_32) / 1e6 + lo / 1e6);
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

  private need(n: number): void {
    if (this.pos + n > this.end) throw new ProtoDecodeError(`truncated: need ${n} bytes`, this.pos);
  }
}
