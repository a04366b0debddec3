/**
 * The q-quantile of a histogram with explicit bounds, interpolated linearly within the bucket
 * that holds the rank q·count, as Prometheus' histogram_quantile does: the first bucket's lower
 * edge is 0 (or its upper bound when that is negative), and a rank in the overflow bucket
 * returns the largest finite bound. NaN for an empty histogram or none.
 */
export function histogramQuantile(q: number, bounds: readonly number[], counts: readonly number[]): number {
  if (counts.length === 0 || counts.length !== bounds.length + 1) return Number.NaN;
  let total = 0;
  for (const c of counts) total += c;
  if (!(total > 0)) return Number.NaN;
  const rank = q * total;
  let cumulative = 0;
  for (let i = 0; i < counts.length; i++) {
    const inBucket = counts[i] as number;
    if (cumulative + inBucket >= rank && inBucket > 0) {
      if (i === bounds.length) return bounds[bounds.length - 1] ?? Number.NaN;
      const upper = bounds[i] as number;
      const lower = i === 0 ? Math.min(0, upper) : (bounds[i - 1] as number);
      return lower + ((upper - lower) * (rank - cumulative)) / inBucket;
    }
    cumulative += inBucket;
  }
  return bounds[bounds.length - 1] ?? Number.NaN;
}
