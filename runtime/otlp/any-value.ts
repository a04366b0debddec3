/**
 * Rendering of one OTLP AnyValue, straight from its encoded bytes, into the string an
 * AttributeSet hands out for an extracted key. Runs only when the intern table misses, so it may
 * allocate; the common kinds (string, int, bool, double) stay cheap anyway.
 */

import { Buffer } from 'node:buffer';
import { ProtoDecodeError, ProtoReader } from './proto-reader.js';

/** AnyValue kinds; each equals the AnyValue field number that carries it (0: no value set). */
export const ValueKind = { EMPTY: 0, STRING: 1, BOOL: 2, INT: 3, DOUBLE: 4, ARRAY: 5, KVLIST: 6, BYTES: 7 } as const;

/** Nesting beyond this is refused, so hostile input cannot exhaust the stack while rendering. */
const MAX_DEPTH = 32;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeUtf8(buf: Uint8Array, start: number, end: number): string {
  try {
    return utf8.decode(buf.subarray(start, end));
  } catch {
    throw new ProtoDecodeError('string is not valid UTF-8', start);
  }
}

/** An int64 from its two's complement halves, in decimal; exact at any magnitude. */
export function int64Decimal(hi: number, lo: number): string {
  const signedHi = hi | 0;
  // |hi| < 2^21 keeps hi * 2^32 + lo below 2^53, where a double is exact.
  if (signedHi >= -0x200000 && signedHi < 0x200000) return String(signedHi * 4294967296 + (lo >>> 0));
  return ((BigInt(signedHi) << 32n) + BigInt(lo >>> 0)).toString();
}

function base64(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('base64');
}

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

function readDouble(buf: Uint8Array, start: number): number {
  return new DataView(buf.buffer, buf.byteOffset + start, 8).getFloat64(0, true);
}

/** A nested AnyValue as a JSON value: int64 beyond 2^53 and non-finite doubles become strings. */
function anyValueJson(r: ProtoReader, end: number, depth: number): JsonValue {
  if (depth > MAX_DEPTH) throw new ProtoDecodeError('attribute value nested too deeply', r.pos);
  let value: JsonValue = null;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        value = r.string();
        break;
      case 0x10:
        value = r.varint64() !== 0;
        break;
      case 0x18: {
        r.varint64Split();
        const text = int64Decimal(r.hi, r.lo);
        const n = Number(text);
        value = Number.isSafeInteger(n) ? n : text;
        break;
      }
      case 0x21: {
        const d = r.double();
        value = Number.isFinite(d) ? d : String(d);
        break;
      }
      case 0x2a:
      case 0x32: {
        const listEnd = r.delimitedEnd();
        const isArray = tag === 0x2a;
        const items: JsonValue[] = [];
        const entries: { [key: string]: JsonValue } = {};
        while (r.pos < listEnd) {
          const t = r.tag();
          if (t !== 0x0a) {
            r.skipTag(t);
            continue;
          }
          const itemEnd = r.delimitedEnd();
          if (isArray) items.push(anyValueJson(r, itemEnd, depth + 1));
          else keyValueJson(r, itemEnd, depth + 1, entries);
        }
        value = isArray ? items : entries;
        break;
      }
      case 0x3a: {
        const bytesEnd = r.delimitedEnd();
        value = base64(r.buf, r.pos, bytesEnd);
        r.pos = bytesEnd;
        break;
      }
      default:
        r.skipTag(tag);
    }
  }
  return value;
}

function keyValueJson(r: ProtoReader, end: number, depth: number, into: { [key: string]: JsonValue }): void {
  let key = '';
  let value: JsonValue = null;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 0x0a) key = r.string();
    else if (tag === 0x12) value = anyValueJson(r, r.delimitedEnd(), depth);
    else r.skipTag(tag);
  }
  into[key] = value;
}

/**
 * The payload of an AnyValue of `kind` as text. `start..end` is the payload: the string or bytes
 * content, the varint of a bool or int, the 8 bytes of a double, the encoded ArrayValue or
 * KeyValueList message.
 */
export function renderValue(kind: number, buf: Uint8Array, start: number, end: number): string {
  switch (kind) {
    case ValueKind.STRING:
      return decodeUtf8(buf, start, end);
    case ValueKind.BOOL:
      return new ProtoReader(buf, start, end).varint64() !== 0 ? 'true' : 'false';
    case ValueKind.INT: {
      const r = new ProtoReader(buf, start, end);
      r.varint64Split();
      return int64Decimal(r.hi, r.lo);
    }
    case ValueKind.DOUBLE:
      return String(readDouble(buf, start));
    case ValueKind.BYTES:
      return base64(buf, start, end);
    case ValueKind.ARRAY:
    case ValueKind.KVLIST: {
      // Wrap the payload as the AnyValue field it came from, and render that.
      const r = new ProtoReader(buf, start, end);
      const entries: { [key: string]: JsonValue } = {};
      const items: JsonValue[] = [];
      while (r.pos < end) {
        const t = r.tag();
        if (t !== 0x0a) {
          r.skipTag(t);
          continue;
        }
        const itemEnd = r.delimitedEnd();
        if (kind === ValueKind.ARRAY) items.push(anyValueJson(r, itemEnd, 1));
        else keyValueJson(r, itemEnd, 1, entries);
      }
      return JSON.stringify(kind === ValueKind.ARRAY ? items : entries);
    }
    default:
      return '';
  }
}
