/**
 * OpenTelemetry base-2 exponential histograms (and Prometheus native histograms, which the
 * collector's `prometheus` receiver turns into them) as explicit buckets, so they merge with
 * each other across instances and intervals and give percentiles and latency SLIs.
 *
 * Every point is reduced to one common scale, as the OpenTelemetry data model describes for
 * merging: at scale s a bucket index i covers (2^(i·2^-s), 2^((i+1)·2^-s)]; going down to scale
 * t < s maps i to floor(i / 2^(s-t)), merging 2^(s-t) neighbours exactly. The common scale is
 * `EXP_SCALE` (2: buckets 19% wide), over a fixed range of bounds 2^-16 ... 2^20 (15 µs to 12
 * days in seconds; 15 ns to 17 min in milliseconds), so every series of a signal has the same
 * bounds and the state per series is bounded (`EXP_BOUNDS.length + 1` counts). Points at a
 * coarser scale than the common one (rare: SDKs start at scale 20 and only go down when the
 * range grows past 160 buckets) are spread evenly over the finer buckets their bucket covers.
 * The zero bucket, negative buckets and everything at or below 2^-16 fall into the first bucket;
 * everything above 2^20 into the overflow bucket.
 *
 * A latency threshold inside one of these buckets is treated as for explicit buckets: requests
 * in the bucket are taken as spread evenly and counted in proportion (signals.ts
 * `countAtOrBelow`); percentiles interpolate the same way.
 */

/** The common scale (base 2^(2^-2) = 2^0.25). */
export const EXP_SCALE = 2;
const MIN_EXPONENT = -16;
const MAX_EXPONENT = 20;
const PER_OCTAVE = 2 ** EXP_SCALE;
/** Lowest bucket index at the common scale whose upper bound is a bound: 2^MIN_EXPONENT. */
const FIRST_INDEX = MIN_EXPONENT * PER_OCTAVE;

/** The explicit upper bounds: 2^(k/4) for k from -64 to 80. */
export const EXP_BOUNDS: Float64Array = Float64Array.from({ length: (MAX_EXPONENT - MIN_EXPONENT) * PER_OCTAVE + 1 }, (_, m) => 2 ** ((FIRST_INDEX + m) / PER_OCTAVE));

/** Explicit bucket (0 … EXP_BOUNDS.length) of common-scale bucket index j, which covers (2^(j/4), 2^((j+1)/4)]. */
function explicitBucket(j: number): number {
  const m = j - FIRST_INDEX + 1;
  return m < 0 ? 0 : m > EXP_BOUNDS.length ? EXP_BOUNDS.length : m;
}

/**
 * Writes the explicit bucket counts of an exponential histogram point into `out` (at least
 * `EXP_BOUNDS.length + 1` long) and returns how many there are (always EXP_BOUNDS.length + 1).
 */
export function exponentialToExplicit(
  scale: number,
  zeroCount: number,
  positiveOffset: number,
  positive: ArrayLike<number>,
  nPositive: number,
  negative: ArrayLike<number>,
  nNegative: number,
  out: Float64Array,
): number {
  const n = EXP_BOUNDS.length + 1;
  out.fill(0, 0, n);
  let low = zeroCount;
  for (let i = 0; i < nNegative; i++) low += negative[i] as number;
  out[0] = low;
  if (scale >= EXP_SCALE) {
    const shift = 2 ** (scale - EXP_SCALE);
    for (let i = 0; i < nPositive; i++) {
      const c = positive[i] as number;
      if (c === 0) continue;
      const m = explicitBucket(Math.floor((positiveOffset + i) / shift));
      out[m] = (out[m] as number) + c;
    }
  } else {
    // Coarser than the common scale: each bucket covers `spread` common buckets.
    const spread = 2 ** (EXP_SCALE - scale);
    for (let i = 0; i < nPositive; i++) {
      const c = positive[i] as number;
      if (c === 0) continue;
      const first = (positiveOffset + i) * spread;
      for (let k = 0; k < spread; k++) {
        const m = explicitBucket(first + k);
        out[m] = (out[m] as number) + c / spread;
      }
    }
  }
  return n;
}
