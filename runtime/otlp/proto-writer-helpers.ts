/** Pure helpers of the protobuf writer (proto-writer.ts): sizes and conversions. */

const TWO_32 = 4294967296;

/** UTF-8 byte length, counting lone surrogates as U+FFFD (3 bytes) as TextEncoder writes them. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * Splits an unsigned decimal string into [hi, lo] 32-bit halves without BigInt. Chunks of six
 * digits keep every intermediate product below 2^53, so the arithmetic is exact.
 */
export function decimalToParts(s: string, out: Float64Array): void {
  if (s.length === 0 || s.length > 20) throw new RangeError(`not a uint64 decimal: "${s}"`);
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < s.length; ) {
    const end = Math.min(i + 6, s.length);
    let chunk = 0;
    let mul = 1;
    for (; i < end; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) throw new RangeError(`not a uint64 decimal: "${s}"`);
      chunk = chunk * 10 + d;
      mul *= 10;
    }
    const t = lo * mul + chunk;
    const carry = Math.floor(t / TWO_32);
    lo = t - carry * TWO_32;
    hi = hi * mul + carry;
    if (hi >= TWO_32) throw new RangeError(`uint64 overflow: "${s}"`);
  }
  out[0] = hi;
  out[1] = lo;
}
