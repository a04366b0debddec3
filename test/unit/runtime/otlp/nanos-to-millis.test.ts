import { describe, expect, it } from 'vitest';
import { nanosToMillis } from '../../../../runtime/otlp/proto-reader.js';

function split(ns: bigint): [number, number] {
  return [Number(ns >> 32n), Number(ns & 0xffffffffn)];
}

describe('nanosToMillis', () => {
  it('gives exactly the integer for every whole millisecond (bucket boundaries must not slip back)', () => {
    // Ten-second steps over a day of 2026 and a sweep of single milliseconds: the old formula,
    // hi * 4294.967296 + lo / 1e6, came out a fraction below many of these and floored into the
    // previous bucket.
    let wrong = 0;
    const start = 1_790_812_800_000;
    for (let ms = start; ms < start + 86_400_000; ms += 10_000) if (nanosToMillis(...split(BigInt(ms) * 1_000_000n)) !== ms) wrong++;
    for (let ms = start; ms < start + 100_000; ms++) if (nanosToMillis(...split(BigInt(ms) * 1_000_000n)) !== ms) wrong++;
    expect(wrong).toBe(0);
  });

  // Within about 0.12 µs below a millisecond boundary the sum rounds up to it (the spacing of
  // doubles near 1.8e12 is 0.24 µs); that is the only place the floor can differ.
  it('keeps the sub-millisecond fraction to well under a microsecond', () => {
    for (const ns of [1_790_812_860_000_123_456n, 1_700_000_000_999_000_000n, 4_102_444_800_000_000_001n]) {
      const exact = Number(ns / 1_000_000n) + Number(ns % 1_000_000n) / 1e6;
      expect(Math.abs(nanosToMillis(...split(ns)) - exact)).toBeLessThan(1e-3);
      expect(Math.floor(nanosToMillis(...split(ns)))).toBe(Number(ns / 1_000_000n));
    }
  });
});
