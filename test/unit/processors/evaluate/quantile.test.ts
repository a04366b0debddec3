import { describe, expect, it } from 'vitest';
import { histogramQuantile } from '../../../../processors/evaluate/quantile.js';

describe('histogramQuantile', () => {
  const bounds = [0.1, 0.5, 1];
  it('interpolates linearly inside the bucket holding the rank', () => {
    // 100 observations: 50 in (0,0.1], 40 in (0.1,0.5], 10 in (0.5,1].
    const counts = [50, 40, 10, 0];
    expect(histogramQuantile(0.5, bounds, counts)).toBeCloseTo(0.1, 12); // rank 50: top of bucket 0
    expect(histogramQuantile(0.7, bounds, counts)).toBeCloseTo(0.1 + 0.4 * (20 / 40), 12); // rank 70
    expect(histogramQuantile(0.95, bounds, counts)).toBeCloseTo(0.5 + 0.5 * (5 / 10), 12); // rank 95
    expect(histogramQuantile(0.25, bounds, counts)).toBeCloseTo(0.05, 12); // rank 25 of 50 in [0, 0.1]
  });

  it('returns the largest bound for a rank in the overflow bucket, NaN when empty', () => {
    expect(histogramQuantile(0.99, bounds, [0, 0, 0, 5])).toBe(1);
    expect(histogramQuantile(0.5, bounds, [0, 0, 0, 0])).toBeNaN();
    expect(histogramQuantile(0.5, [], [])).toBeNaN();
  });
});
