import { describe, expect, it } from 'vitest';
import { crc64Avro } from '../../../runtime/crc64-avro.js';
import { AvroSerde, SerdeError } from '../../../runtime/serde.js';

describe('crc64Avro', () => {
  it('matches the fingerprints the Avro specification publishes for primitive schemas', () => {
    // BigInt.asIntN(64, fp) is how Java prints them (signed long).
    expect(BigInt.asIntN(64, crc64Avro(Buffer.from('"int"')))).toBe(8247732601305521295n);
    expect(BigInt.asIntN(64, crc64Avro(Buffer.from('"null"')))).toBe(7195948357588979594n);
  });
});

describe('AvroSerde (single-object encoding)', () => {
  const schema = { type: 'record', name: 'Point', namespace: 'test', fields: [{ name: 'x', type: 'double' }, { name: 'tags', type: { type: 'map', values: 'string' } }] };
  const serde = new AvroSerde<{ x: number; tags: Record<string, string> }>(schema);

  it('round-trips a value behind the C3 01 marker and the schema fingerprint', () => {
    const bytes = serde.serialize({ x: 1.5, tags: { a: 'b' } });
    expect([bytes[0], bytes[1]]).toEqual([0xc3, 0x01]);
    expect(bytes.subarray(2, 10).readBigUInt64LE().toString(16).padStart(16, '0')).toBe(serde.fingerprintHex);
    expect(serde.deserialize(bytes)).toEqual({ x: 1.5, tags: { a: 'b' } });
  });

  it('gives each value bytes of its own, exactly as avsc encodes it, past the size it started with', () => {
    const small = { x: 2, tags: { a: 'b' } };
    const large = { x: 3, tags: Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`key-${i}`, 'v'.repeat(i % 17)])) };
    const first = serde.serialize(small);
    const second = serde.serialize(large);
    const third = serde.serialize(small);
    for (const [bytes, value] of [[first, small], [second, large], [third, small]] as const) {
      expect(bytes.subarray(10)).toEqual(serde.type.toBuffer(value));
      expect(serde.deserialize(bytes)).toEqual(value);
    }
    expect(second.length).toBeGreaterThan(4096);
    expect(first).toEqual(third);
  });

  it('refuses bytes written with another schema, and bytes that are not single-object encoded', () => {
    const other = new AvroSerde<{ x: number }>({ type: 'record', name: 'Point', namespace: 'test', fields: [{ name: 'x', type: 'float' }] });
    expect(() => serde.deserialize(other.serialize({ x: 1 }))).toThrow(/another schema/);
    expect(() => serde.deserialize(Buffer.from('hello world'))).toThrow(SerdeError);
    const truncated = serde.serialize({ x: 1, tags: { long: 'value' } }).subarray(0, 14);
    expect(() => serde.deserialize(truncated)).toThrow(SerdeError);
  });

  it('ignores documentation when fingerprinting (canonical form)', () => {
    const documented = new AvroSerde({ ...schema, doc: 'a point', fields: schema.fields.map((f) => ({ ...f, doc: 'field' })) });
    expect(documented.fingerprintHex).toBe(serde.fingerprintHex);
  });
});

describe('JsonSerde', () => {
  it('keeps NaN and infinities that plain JSON would turn into null', async () => {
    const { JsonSerde } = await import('../../../runtime/serde.js');
    const serde = new JsonSerde<{ a: number; b: number; c: number[]; d: string }>();
    const back = serde.deserialize(serde.serialize({ a: Number.NaN, b: -Infinity, c: [1, Infinity], d: 'x' }));
    expect(back.a).toBeNaN();
    expect(back.b).toBe(-Infinity);
    expect(back.c).toEqual([1, Infinity]);
    expect(back.d).toBe('x');
  });
});
