import { describe, expect, it } from 'vitest';
import { ProtoReader, ProtoWriter, WireType } from '../../../../runtime/otlp/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const written = (write: (w: ProtoWriter) => void): string => {
  const w = new ProtoWriter(16);
  write(w);
  return hex(w.finish());
};

describe('ProtoWriter', () => {
  it('writes varints, zigzag and two\'s complement int64 as protobuf specifies', () => {
    expect(written((w) => w.uint32(0).uint32(1).uint32(127).uint32(128).uint32(300))).toBe('00017f8001ac02');
    expect(written((w) => w.uint32(2 ** 32 - 1))).toBe('ffffffff0f');
    expect(written((w) => w.varint64(2 ** 32))).toBe('8080808010');
    expect(written((w) => w.varint64(Number.MAX_SAFE_INTEGER))).toBe('ffffffffffffff0f');
    expect(written((w) => w.int64(-1))).toBe('ffffffffffffffffff01');
    expect(written((w) => w.int64(-(2 ** 63)))).toBe('80808080808080808001');
    expect(written((w) => w.sint32(0).sint32(-1).sint32(1).sint32(-2).sint32(2 ** 31 - 1).sint32(-(2 ** 31)))).toBe('00010203feffffff0fffffffff0f');
    expect(written((w) => w.tag(1, WireType.LEN).tag(16, WireType.I64).bool(true))).toBe('0a810101');
  });

  it('writes fixed64 from numbers, exact decimal strings, bigints and milliseconds', () => {
    expect(written((w) => w.fixed64(1))).toBe('0100000000000000');
    expect(written((w) => w.fixed64(2 ** 40 + 5))).toBe('0500000000010000');
    expect(written((w) => w.sfixed64(-2))).toBe('feffffffffffffff');
    expect(written((w) => w.fixed64Decimal('18446744073709551615'))).toBe('ffffffffffffffff');
    expect(written((w) => w.fixed64Decimal(1n << 63n))).toBe('0000000000000080');
    // The same decimal twice, and alternating ones, hit the cache and must still be right.
    const ns = ['1700000000000123456', '1700000060000000789'];
    const cached = new ProtoWriter();
    for (const s of [...ns, ...ns, '0', ...ns]) cached.fixed64Decimal(s);
    const viaCache = new ProtoReader(cached.finish());
    expect(Array.from({ length: 7 }, () => String(viaCache.fixed64BigInt()))).toEqual([...ns, ...ns, '0', ...ns]);
    const ms = new ProtoReader(new ProtoWriter().fixed64FromMillis(1_700_000_000_123).fixed64FromMillis(0.0000015).fixed64FromMillis(2.9999999).finish());
    expect([ms.fixed64BigInt(), ms.fixed64BigInt(), ms.fixed64BigInt()]).toEqual([1_700_000_000_123_000_000n, 2n, 3_000_000n]);
    expect(() => new ProtoWriter().fixed64Decimal('-1')).toThrow(RangeError);
    expect(() => new ProtoWriter().fixed64Decimal('18446744073709551616')).toThrow(RangeError);
    expect(() => new ProtoWriter().fixed64FromMillis(NaN)).toThrow(RangeError);
  });

  it('writes doubles little-endian and strings as UTF-8, like TextEncoder', () => {
    expect(written((w) => w.double(1))).toBe('000000000000f03f');
    const encoder = new TextEncoder();
    for (const s of ['', 'ascii', 'é', '✓😀', 'a'.repeat(42) + 'é', 'é'.repeat(100), 'x'.repeat(20000), 'lone \ud800 surrogate']) {
      const bytes = encoder.encode(s);
      const r = new ProtoReader(new ProtoWriter(4).string(s).finish());
      expect(hex(r.bytes())).toBe(hex(bytes));
      expect(r.pos).toBe(r.end);
    }
  });

  it('backpatches nested lengths of any size, whatever was reserved', () => {
    for (const reserve of [1, 2, 3, 5]) {
      for (const size of [0, 1, 127, 128, 16383, 16384, 70000]) {
        const w = new ProtoWriter(8);
        w.begin(1, reserve).begin(2, reserve).bytes(new Uint8Array(size).fill(7)).end().uint32(9).end();
        const r = new ProtoReader(w.finish());
        expect(r.tag()).toBe(0x0a);
        const outerEnd = r.delimitedEnd();
        expect(r.tag()).toBe(0x12);
        const innerEnd = r.delimitedEnd();
        expect(r.bytes().length).toBe(size);
        expect(r.pos).toBe(innerEnd);
        expect(r.uint32()).toBe(9);
        expect(r.pos).toBe(outerEnd);
        expect(outerEnd).toBe(r.end);
      }
    }
  });

  it('refuses unbalanced messages', () => {
    expect(() => new ProtoWriter().begin(1).finish()).toThrow(/still open/);
    expect(() => new ProtoWriter().begin(1).subarray()).toThrow(/still open/);
    expect(() => new ProtoWriter().end()).toThrow(/without begin/);
  });

  it('writes packed repeated fields and reuses its buffer after reset', () => {
    const w = new ProtoWriter();
    w.packedFixed64(6, [1, 2 ** 33]).packedDoubles(7, [0.5]).packedVarint64(2, [1, 300]).packedFixed64(8, []);
    expect(hex(w.subarray())).toBe('3210' + '0100000000000000' + '0000000002000000' + '3a08000000000000e03f' + '120301ac02');
    w.reset().uint32(5);
    expect(hex(w.finish())).toBe('05');
  });
});
