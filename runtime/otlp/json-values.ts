/**
 * Checked conversions of OTLP/JSON values (protobuf JSON mapping) for json-decoder.ts, and the
 * encoding of JSON attributes back into protobuf KeyValue bytes: the JSON decoder feeds those
 * bytes through the same AttributeSet code as the protobuf decoder, so hashes and extracted
 * values cannot differ between the two encodings.
 */

import { Buffer } from 'node:buffer';
import type { AttributeSetImpl } from './attribute-set.js';
import { ProtoReader, nanosToMillis } from './proto-reader.js';

/** Invalid JSON, or JSON that is not an OTLP ExportMetricsServiceRequest. */
export class JsonDecodeError extends Error {
  constructor(
    message: string,
    /** Where in the document, e.g. `resourceMetrics[0].scopeMetrics[1].metrics[2].sum`. */
    readonly path: string,
  ) {
    super(path === '' ? message : `${path}: ${message}`);
    this.name = 'JsonDecodeError';
  }
}

export type JsonObject = { readonly [key: string]: unknown };

export function object(v: unknown, path: string): JsonObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new JsonDecodeError('expected an object', path);
  return v as JsonObject;
}

/** A repeated field: absent or null is empty. */
export function list(v: unknown, path: string): readonly unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new JsonDecodeError('expected an array', path);
  return v;
}

export function string(v: unknown, path: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new JsonDecodeError('expected a string', path);
  return v;
}

export function bool(v: unknown, path: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new JsonDecodeError('expected true or false', path);
  return v;
}

const INTEGER = /^-?\d{1,20}$/;
const TWO_32 = 4294967296;

/** int64/uint64/fixed64 as a number (exact below 2^53, else rounded once, as the protobuf path). */
export function int64(v: unknown, path: string, unsigned = false): number {
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'number' ? v : typeof v === 'string' && INTEGER.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || (unsigned && n < 0)) throw new JsonDecodeError(`expected ${unsigned ? 'an unsigned' : 'an'} integer (number or decimal string)`, path);
  return n;
}

/** A double: a number, a numeric string, or "NaN" / "Infinity" / "-Infinity". */
export function double(v: unknown, path: string, absent = 0): number {
  if (v === undefined || v === null) return absent;
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    if (!Number.isNaN(n) || v === 'NaN') return n;
  }
  throw new JsonDecodeError('expected a number', path);
}

/** Two's complement halves of an int64 given as a JSON number or decimal string, exactly. */
function int64Parts(v: unknown, path: string): [hi: number, lo: number] {
  let big: bigint;
  if (typeof v === 'number' && Number.isInteger(v)) big = BigInt(v);
  else if (typeof v === 'string' && INTEGER.test(v)) big = BigInt(v);
  else throw new JsonDecodeError('expected an integer (number or decimal string)', path);
  if (BigInt.asIntN(64, big) !== big) throw new JsonDecodeError('integer out of int64 range', path);
  const u = BigInt.asUintN(64, big);
  return [Number(u >> 32n), Number(u & 0xffffffffn)];
}

/** Unix nanoseconds (decimal string or number) to milliseconds, as the protobuf decoder does. */
export function nanosMs(v: unknown, path: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) {
    const hi = Math.floor(v / TWO_32);
    return nanosToMillis(hi, v - hi * TWO_32);
  }
  const [hi, lo] = int64Parts(v, path);
  if (typeof v === 'string' ? v.startsWith('-') : (v as number) < 0) throw new JsonDecodeError('expected non-negative nanoseconds', path);
  return nanosToMillis(hi, lo);
}

/** A minimal protobuf writer for the attribute bytes (kept here, private to this path). */
class KvWriter {
  buf = new Uint8Array(512);
  pos = 0;
  private readonly marks: number[] = [];
  private static readonly encoder = new TextEncoder();

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
  }

  varint(hi: number, lo: number): void {
    this.ensure(10);
    let h = hi >>> 0;
    let l = lo >>> 0;
    while (h !== 0 || l > 0x7f) {
      this.buf[this.pos++] = (l & 0x7f) | 0x80;
      l = ((l >>> 7) | (h << 25)) >>> 0;
      h >>>= 7;
    }
    this.buf[this.pos++] = l;
  }

  /** Opens a length-delimited field; content is moved on close if its length needs > 1 byte. */
  open(tag: number): void {
    this.varint(0, tag);
    this.ensure(1);
    this.marks.push(this.pos++);
  }

  close(): void {
    const mark = this.marks.pop() as number;
    const length = this.pos - mark - 1;
    let extra = 0;
    for (let v = length >>> 7; v > 0; v >>>= 7) extra++;
    if (extra > 0) {
      this.ensure(extra);
      this.buf.copyWithin(mark + 1 + extra, mark + 1, this.pos);
    }
    this.pos += extra;
    let at = mark;
    let v = length;
    while (v > 0x7f) {
      this.buf[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[at] = v;
  }

  bytes(tag: number, value: Uint8Array): void {
    this.varint(0, tag);
    this.varint(0, value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  string(tag: number, value: string): void {
    this.open(tag);
    this.ensure(value.length * 3);
    this.pos += KvWriter.encoder.encodeInto(value, this.buf.subarray(this.pos)).written;
    this.close();
  }

  double(tag: number, value: number): void {
    this.varint(0, tag);
    this.ensure(8);
    new DataView(this.buf.buffer, this.pos, 8).setFloat64(0, value, true);
    this.pos += 8;
  }
}

const VALUE_KEYS = new Set(['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue']);
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const MAX_DEPTH = 32;

/** Writes the fields of an AnyValue the way the protobuf encoders do (OpenTelemetry SDK). */
function anyValue(w: KvWriter, json: unknown, path: string, depth: number): void {
  if (json === undefined || json === null) return;
  if (depth > MAX_DEPTH) throw new JsonDecodeError('attribute value nested too deeply', path);
  const o = object(json, path);
  let which: string | undefined;
  for (const key of Object.keys(o)) {
    if (!VALUE_KEYS.has(key) || o[key] === null) continue;
    if (which !== undefined) throw new JsonDecodeError(`both ${which} and ${key} are set`, path);
    which = key;
  }
  if (which === undefined) return;
  const v = o[which];
  const at = `${path}.${which}`;
  switch (which) {
    case 'stringValue':
      return w.string(0x0a, string(v, at));
    case 'boolValue':
      w.varint(0, 0x10);
      return w.varint(0, bool(v, at) ? 1 : 0);
    case 'intValue': {
      const [hi, lo] = int64Parts(v, at);
      w.varint(0, 0x18);
      return w.varint(hi, lo);
    }
    case 'doubleValue':
      return w.double(0x21, double(v, at));
    case 'bytesValue': {
      const text = string(v, at);
      if (!BASE64.test(text)) throw new JsonDecodeError('expected base64', at);
      return w.bytes(0x3a, Buffer.from(text, 'base64'));
    }
    default: {
      const isArray = which === 'arrayValue';
      w.open(isArray ? 0x2a : 0x32);
      const items = list(object(v, at).values, `${at}.values`);
      for (let i = 0; i < items.length; i++) {
        w.open(0x0a);
        if (isArray) anyValue(w, items[i], `${at}.values[${i}]`, depth + 1);
        else keyValue(w, items[i], `${at}.values[${i}]`, depth + 1);
        w.close();
      }
      return w.close();
    }
  }
}

function keyValue(w: KvWriter, json: unknown, path: string, depth: number): void {
  const kv = object(json, path);
  w.string(0x0a, string(kv.key, `${path}.key`));
  w.open(0x12);
  anyValue(w, kv.value, `${path}.value`, depth);
  w.close();
}

const writer = new KvWriter();

/** Adds a JSON `attributes` list (array of {key, value}) to `set` (already reset). */
export function addJsonAttributes(set: AttributeSetImpl, json: unknown, path: string): void {
  const items = list(json, path);
  if (items.length === 0) return;
  writer.pos = 0;
  for (let i = 0; i < items.length; i++) {
    writer.open(0x0a);
    keyValue(writer, items[i], `${path}[${i}]`, 0);
    writer.close();
  }
  const r = new ProtoReader(writer.buf, 0, writer.pos);
  while (r.pos < r.end) {
    r.tag();
    const end = r.delimitedEnd();
    set.addKeyValue(r, end);
  }
}
