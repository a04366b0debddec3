import avro from 'avsc';
import type { Type } from 'avsc';
import { readFileSync } from 'node:fs';
import { crc64Avro } from './crc64-avro.js';

/** Turns values into bytes and back. */
export interface Serde<T> {
  /** Encodes one value. */
  serialize(value: T): Buffer;
  /** Decodes one value; throws SerdeError on bytes it cannot read. */
  deserialize(bytes: Buffer): T;
}

export class SerdeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SerdeError';
  }
}

const MARKER_0 = 0xc3;
const MARKER_1 = 0x01;
const HEADER = 10;

/**
 * Avro single-object encoding: `C3 01`, the 8-byte little-endian CRC-64-AVRO fingerprint of the
 * writer schema's canonical form, then the Avro binary body. A reader that knows the schema (from
 * `schemas/`) checks the fingerprint, so a record written with another schema is refused with a
 * clear error instead of being misread.
 */
export class AvroSerde<T> implements Serde<T> {
  readonly type: Type;
  /** The schema's fingerprint as 16 hex digits. */
  readonly fingerprintHex: string;
  private readonly header: Buffer;

  constructor(schema: object) {
    this.type = avro.Type.forSchema(schema as avro.Schema, { wrapUnions: false });
    // avsc's schema() without attributes is the Parsing Canonical Form (full names, no docs).
    const fingerprint = crc64Avro(Buffer.from(JSON.stringify(this.type.schema()), 'utf8'));
    this.header = Buffer.alloc(HEADER);
    this.header[0] = MARKER_0;
    this.header[1] = MARKER_1;
    this.header.writeBigUInt64LE(fingerprint, 2);
    this.fingerprintHex = fingerprint.toString(16).padStart(16, '0');
  }

  static fromFile<T>(path: string | URL): AvroSerde<T> {
    return new AvroSerde<T>(JSON.parse(readFileSync(path, 'utf8')) as object);
  }

  serialize(value: T): Buffer {
    return Buffer.concat([this.header, this.type.toBuffer(value)]);
  }

  deserialize(bytes: Buffer): T {
    if (bytes.length < HEADER || bytes[0] !== MARKER_0 || bytes[1] !== MARKER_1) {
      throw new SerdeError('not Avro single-object encoded (missing C3 01 marker)');
    }
    if (bytes.compare(this.header, 2, HEADER, 2, HEADER) !== 0) {
      throw new SerdeError(`written with another schema (fingerprint ${bytes.subarray(2, HEADER).readBigUInt64LE().toString(16)}, expected ${this.fingerprintHex})`);
    }
    try {
      return this.type.fromBuffer(bytes.subarray(HEADER)) as T;
    } catch (error) {
      throw new SerdeError(`Avro body does not match ${this.type.name ?? 'the schema'}: ${(error as Error).message}`, { cause: error });
    }
  }
}

/** Non-finite numbers survive JSON as {"$num": "NaN" | "Infinity" | "-Infinity"}. */
function replacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? { $num: String(value) } : value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && '$num' in value && Object.keys(value).length === 1) return Number((value as { $num: string }).$num);
  return value;
}

/** UTF-8 JSON for small state values; NaN and ±Infinity round-trip (plain JSON would null them). */
export class JsonSerde<T> implements Serde<T> {
  serialize(value: T): Buffer {
    return Buffer.from(JSON.stringify(value, replacer), 'utf8');
  }

  deserialize(bytes: Buffer): T {
    try {
      return JSON.parse(bytes.toString('utf8'), reviver) as T;
    } catch (error) {
      throw new SerdeError(`not JSON: ${(error as Error).message}`, { cause: error });
    }
  }
}
