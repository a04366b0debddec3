/**
 * Where the increment of a cumulative point goes in time.
 *
 * Normally the increment since the series' previous point is placed in the bucket of the point
 * that ends it. When the previous point is more than one bucket older (a gap: the exporter could
 * not deliver for a while, a broker outage, points skipped as out of order), that would move
 * everything that happened in the gap into one bucket: a dip followed by a spike. Instead the
 * increment is spread over the buckets the gap covers, linearly in time (the usual assumption
 * for a counter seen only at its two ends), and only over buckets still open: the part of the
 * gap that lies in buckets already closed goes to the first open one, so nothing is dropped and
 * totals stay exact. Integer increments are split into integers (cumulative rounding: the shares
 * add up to the increment exactly).
 */
export class GapSplit {
  /** Bucket start of each piece. */
  starts = new Float64Array(16);
  /** Fraction of the increment placed up to and including each piece (the last is 1). */
  upTo = new Float64Array(16);
  /** Number of pieces of the last plan. */
  n = 0;
  /** Whether the last plan moved a late increment into the first open bucket. */
  moved = false;

  constructor(
    private readonly bucketMs: number,
    /** Longest span an increment is spread over, in buckets (older parts go to its first bucket). */
    private readonly maxBuckets = 360,
  ) {}

  /**
   * Plans the pieces of an increment that accumulated over (fromMs, toMs]. Without a gap (`fromMs`
   * not finite, or at most one bucket before `toMs`) there is one piece: the bucket of `toMs`.
   * `firstOpenMs` is the start of the earliest bucket that is not closed yet (bucket-aligned).
   * `fromMs` NaN (a first point, a gauge, a delta point) never moves: such a late point is dropped.
   */
  plan(fromMs: number, toMs: number, firstOpenMs: number): number {
    const bucketMs = this.bucketMs;
    this.moved = false;
    // An increment whose point is late (its bucket closed) goes to the first open bucket whole:
    // dropping it would lose it for good, since the series' cumulative state has moved past it.
    if (Number.isFinite(fromMs) && toMs < firstOpenMs) {
      this.moved = true;
      return this.single(firstOpenMs);
    }
    const end = Math.floor(toMs / bucketMs) * bucketMs;
    let from = Math.max(fromMs, firstOpenMs, toMs - this.maxBuckets * bucketMs);
    if (!(toMs - fromMs > bucketMs) || !(toMs - from > 0)) return this.single(end);
    let b = Math.floor(from / bucketMs) * bucketMs;
    // A point exactly at a bucket start belongs to that bucket; the open interval starts after it.
    if (b + bucketMs <= from) b += bucketMs;
    from = Math.min(from, toMs);
    const span = toMs - from;
    let n = 0;
    for (; b <= end; b += bucketMs) {
      const w = b === end ? 1 : (b + bucketMs - from) / span;
      if (w <= 0) continue;
      this.ensure(n + 1);
      this.starts[n] = b;
      this.upTo[n] = w;
      n++;
    }
    this.n = n;
    return n === 0 ? this.single(end) : n;
  }

  /** The share of `total` that piece `i` gets; integer totals give integer shares that add up exactly. */
  share(total: number, i: number): number {
    const before = i === 0 ? 0 : (this.upTo[i - 1] as number);
    const upTo = this.upTo[i] as number;
    if (before === 0 && upTo === 1) return total;
    return Number.isInteger(total) ? Math.round(total * upTo) - Math.round(total * before) : total * (upTo - before);
  }

  /** The fraction of the increment piece `i` gets (for values not counted in whole units). */
  fraction(i: number): number {
    return (this.upTo[i] as number) - (i === 0 ? 0 : (this.upTo[i - 1] as number));
  }

  private single(start: number): number {
    this.starts[0] = start;
    this.upTo[0] = 1;
    this.n = 1;
    return 1;
  }

  private ensure(size: number): void {
    if (size <= this.starts.length) return;
    const starts = new Float64Array(this.starts.length * 2);
    const upTo = new Float64Array(this.upTo.length * 2);
    starts.set(this.starts);
    upTo.set(this.upTo);
    this.starts = starts;
    this.upTo = upTo;
  }
}
