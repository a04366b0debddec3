import avro from 'avsc';
import type { Type } from 'avsc';
import { readFileSync } from 'node:fs';
import { crc64Avro } from './crc64-avro.js';

type Resolver = ReturnType<Type['createResolver']>;

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

function parseType(schema: object): Type {
  return avro.Type.forSchema(schema as avro.Schema, { wrapUnions: false });
}

function fingerprintOfType(type: Type): bigint {
  // avsc's schema() without attributes is the Parsing Canonical Form (full names, no docs).
  return crc64Avro(Buffer.from(JSON.stringify(type.schema()), 'utf8'));
}

function hex(fingerprint: bigint): string {
  return fingerprint.toString(16).padStart(16, '0');
}

/** CRC-64-AVRO fingerprint of a schema's Parsing Canonical Form, as 16 hex digits. */
export function avroFingerprint(schema: object): string {
  return hex(fingerprintOfType(parseType(schema)));
}

/** Options of an AvroSerde. */
export interface AvroSerdeOptions {
  /**
   * Earlier writer schemas of the same record (any order; the current one may be among them).
   * Records written with one of them are read through Avro schema resolution into the current
   * shape: fields added since get their defaults.
   */
  history?: readonly object[];
}

/**
 * Avro single-object encoding: `C3 01`, the 8-byte little-endian CRC-64-AVRO fingerprint of the
 * writer schema's canonical form, then the Avro binary body. A reader that knows the schema (from
 * `schemas/`) checks the fingerprint: the current schema's records are read directly, records of
 * an earlier writer schema given in `history` through a resolver into the current shape, and a
 * record of any other schema is refused with a clear error instead of being misread.
 */
export class AvroSerde<T> implements Serde<T> {
  readonly type: Type;
  /** The schema's fingerprint as 16 hex digits. */
  readonly fingerprintHex: string;
  private readonly header: Buffer;
  /** Resolvers from earlier writer schemas, by fingerprint (16 hex digits). */
  private readonly resolvers = new Map<string, Resolver>();

  /** Throws SerdeError when an earlier schema cannot be resolved into this one (an incompatible change). */
  constructor(schema: object, options: AvroSerdeOptions = {}) {
    this.type = parseType(schema);
    const fingerprint = fingerprintOfType(this.type);
    this.header = Buffer.alloc(HEADER);
    this.header[0] = MARKER_0;
    this.header[1] = MARKER_1;
    this.header.writeBigUInt64LE(fingerprint, 2);
    this.fingerprintHex = hex(fingerprint);
    for (const earlier of options.history ?? []) {
      const writer = parseType(earlier);
      const writerHex = hex(fingerprintOfType(writer));
      if (writerHex === this.fingerprintHex) continue;
      try {
        this.resolvers.set(writerHex, this.type.createResolver(writer));
      } catch (error) {
        throw new SerdeError(`earlier schema ${writerHex} of ${this.type.name ?? 'the record'} cannot be read as the current one (${(error as Error).message}); only backward-compatible changes are allowed`, { cause: error });
      }
    }
  }

  /** Fingerprints (16 hex digits) of the earlier writer schemas this serde reads. */
  get earlierFingerprints(): string[] {
    return [...this.resolvers.keys()];
  }

  static fromFile<T>(path: string | URL, options: AvroSerdeOptions = {}): AvroSerde<T> {
    return new AvroSerde<T>(JSON.parse(readFileSync(path, 'utf8')) as object, options);
  }

  serialize(value: T): Buffer {
    return Buffer.concat([this.header, this.type.toBuffer(value)]);
  }

  deserialize(bytes: Buffer): T {
    if (bytes.length < HEADER || bytes[0] !== MARKER_0 || bytes[1] !== MARKER_1) {
      throw new SerdeError('not Avro single-object encoded (missing C3 01 marker)');
    }
    let resolver: Resolver | undefined;
    if (bytes.compare(this.header, 2, HEADER, 2, HEADER) !== 0) {
      const writerHex = hex(bytes.subarray(2, HEADER).readBigUInt64LE());
      resolver = this.resolvers.get(writerHex);
      if (!resolver) throw new SerdeError(`written with another schema (fingerprint ${writerHex}, expected ${this.fingerprintHex} or an earlier version of it)`);
    }
    try {
      return this.type.fromBuffer(bytes.subarray(HEADER), resolver) as T;
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
