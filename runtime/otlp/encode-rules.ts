/**
 * Rules both encoders share, so protobuf and JSON output agree.
 *
 * Point times:
 *
 * - A nanosecond string that is neither empty nor '0' is authoritative and written exactly; the
 *   `*Ms` field is then ignored, even if it disagrees.
 * - Otherwise the time is derived from `*Ms`: whole milliseconds × 1e6, plus any fraction of a
 *   millisecond rounded to whole nanoseconds. 0 ms means absent (omitted from protobuf, '0' in
 *   JSON).
 *
 * Decoding yields both fields again (`timeMs` = floor(ns / 1e6)), so an object built from `*Ms`
 * alone decodes with its nanosecond string filled in.
 */

const UINT64_MAX = '18446744073709551615';
const INT64_LIMIT = 2 ** 63;

/**
 * True when an attribute number is written as int_value: an integer within int64 range. Any
 * other number (fractions, NaN, ±Infinity, 2^63 and beyond) is a double_value, as the
 * OpenTelemetry SDK does too; so is -0, so that it survives a round trip.
 */
export function isInt64Attribute(v: number): boolean {
  return Number.isInteger(v) && v >= -INT64_LIMIT && v < INT64_LIMIT && !Object.is(v, -0);
}

/** True when the nanosecond string carries the time (it is set and not zero). */
export function hasNanos(nanos: string): boolean {
  return nanos !== '' && nanos !== '0';
}

function isUint64Decimal(s: string): boolean {
  if (s.length === 0 || s.length > 20) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return s.length < 20 || s <= UINT64_MAX;
}

/** The decimal nanosecond string a point time encodes to under the rule above. */
export function nanosDecimal(nanos: string, ms: number): string {
  if (hasNanos(nanos)) {
    if (!isUint64Decimal(nanos)) throw new RangeError(`not a uint64 nanosecond decimal: "${nanos}"`);
    return nanos;
  }
  if (ms === 0) return '0';
  if (!(ms > 0) || ms === Infinity) throw new RangeError(`time must be non-negative milliseconds, got ${ms}`);
  if (Number.isSafeInteger(ms)) return `${ms}000000`;
  const whole = Math.floor(ms);
  const ns = BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
  if (ns >= 1n << 64n) throw new RangeError(`time ${ms} ms overflows uint64 nanoseconds`);
  return ns.toString();
}
