import { describe, expect, it } from 'vitest';
import { countAtOrBelow, goodAndTotal, sloIngestRules, sloNameOf } from '../../../processors/slo/signals.js';
import type { SloSpec } from '../../../processors/slo/types.js';
import type { SignalValue } from '../../../schemas/signal-values.js';

const BOUNDS = [0.1, 0.25, 0.5, 1];

function value(counts: number[], statusClasses: number[]): SignalValue {
  const count = counts.reduce((a, b) => a + b, 0);
  return {
    signal: 'slo.x{service.name="checkout"}', rule: 'slo.x', dimensions: { 'service.name': 'checkout' }, bucketStartMs: 0, bucketMs: 10_000, count, errors: statusClasses[4] ?? 0,
    rate: count / 10, errorRatio: 0, mean: 0, p50: 0, p95: 0, p99: 0, min: Number.NaN, max: Number.NaN, statusClasses, bounds: BOUNDS, bucketCounts: counts, sources: 1, series: 1,
  };
}

describe('SLO signals', () => {
  it('counts requests at or below a threshold, interpolating within its bucket', () => {
    const counts = [10, 20, 40, 8, 2];
    expect(countAtOrBelow(0.25, BOUNDS, counts)).toBe(30); // on a boundary: whole buckets
    expect(countAtOrBelow(0.3, BOUNDS, counts)).toBeCloseTo(30 + 40 * (0.05 / 0.25), 12);
    expect(countAtOrBelow(0.05, BOUNDS, counts)).toBeCloseTo(10 * 0.5, 12); // first bucket starts at 0
    expect(countAtOrBelow(5, BOUNDS, counts)).toBe(78); // the overflow bucket is never good
    expect(countAtOrBelow(0, BOUNDS, counts)).toBe(0);
  });

  it('derives good and total per SLI kind', () => {
    const v = value([10, 20, 40, 8, 2], [0, 70, 0, 6, 4, 0]);
    const base = { metric: 'http.server.request.duration', selector: {}, statusAttribute: 'http.response.status_code' };
    expect(goodAndTotal({ ...base, kind: 'availability', badClasses: [4] }, v)).toEqual({ good: 76, total: 80 });
    expect(goodAndTotal({ ...base, kind: 'availability', badClasses: [3, 4] }, v)).toEqual({ good: 70, total: 80 });
    expect(goodAndTotal({ ...base, kind: 'latency', thresholdSeconds: 0.5 }, v)).toEqual({ good: 70, total: 80 });
  });

  it('gives each SLO one filtered ingest rule grouped by service', () => {
    const spec = { name: 'checkout-availability', sli: { kind: 'availability', metric: 'http.server.request.duration', selector: { 'service.name': ['checkout'], 'http.route': ['/pay'] }, statusAttribute: 'http.response.status_code', badClasses: [4] } } as unknown as SloSpec;
    expect(sloIngestRules([spec])).toEqual([
      { name: 'slo.checkout-availability', metric: 'http.server.request.duration', kind: 'http', groupBy: ['service.name'], statusAttribute: 'http.response.status_code', filter: { 'service.name': ['checkout'], 'http.route': ['/pay'] } },
    ]);
    expect(sloNameOf('slo.checkout-availability')).toBe('checkout-availability');
    expect(sloNameOf('http')).toBeUndefined();
  });
});
