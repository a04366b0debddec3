/**
 * A small seeded pseudo-random generator (mulberry32) with the few distributions the synthetic
 * workload needs. Deterministic across runs and platforms: only 32-bit integer arithmetic
 * and IEEE doubles, never Math.random.
 */

/** Mixes integers into one 32-bit seed (murmur3's finalizer per step), so nearby inputs diverge. */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/* Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9). */
const A0 = -39.69683028665376, A1 = 220.9460984245205, A2 = -275.9285104469687;
const A3 = 138.357751867269, A4 = -30.66479806614716, A5 = 2.506628277459239;
const B0 = -54.47609879822406, B1 = 161.5858368580409, B2 = -155.6989798598866;
const B3 = 66.80131188771972, B4 = -13.28068155288572;
const C0 = -0.007784894002430293, C1 = -0.3223964580411365, C2 = -2.400758277161838;
const C3 = -2.549732539343734, C4 = 4.374664141464968, C5 = 2.938163982698783;
const D0 = 0.007784695709041462, D1 = 0.3224671290700398, D2 = 2.445134137142996, D3 = 3.754408661907416;
const P_LOW = 0.02425;

function tail(q: number): number {
  return (((((C0 * q + C1) * q + C2) * q + C3) * q + C4) * q + C5) / ((((D0 * q + D1) * q + D2) * q + D3) * q + 1);
}

/** The standard normal quantile: z with P(Z <= z) = p, for p in (0, 1). */
export function inverseNormal(p: number): number {
  if (p < P_LOW) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - P_LOW) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return ((((((A0 * r + A1) * r + A2) * r + A3) * r + A4) * r + A5) * q) / (((((B0 * r + B1) * r + B2) * r + B3) * r + B4) * r + 1);
}

/** Half a step of the generator's resolution: keeps quantile arguments inside (0, 1). */
const HALF_STEP = 2 ** -33;

export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1), in steps of 2^-32. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in (0, 1): never exactly 0, for quantile functions. */
  open(): number {
    return this.next() + HALF_STEP;
  }

  /** Uniform in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Standard normal, from one draw (inverse transform, so one number per call). */
  normal(): number {
    return inverseNormal(this.open());
  }

  /**
   * Poisson-distributed count with mean `lambda`: exact (Knuth) for small means, a rounded
   * normal approximation above 30, where the two are indistinguishable for load generation.
   */
  poisson(lambda: number): number {
    if (lambda <= 0) return 0;
    if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * this.normal()));
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }
}
