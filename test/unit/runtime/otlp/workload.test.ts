import { describe, expect, it } from 'vitest';
import {
  HTTP_DURATION_BUCKETS,
  HttpWorkload,
  Temporality,
  decodeMetricsRequest,
  encodeMetricsRequest,
  encodeWorkloadBatch,
  resourceKey,
  truthTotals,
} from '../../../../runtime/otlp/index.js';
import type { HistogramPoint, IntervalTruth, MetricsRequest, WorkloadOptions } from '../../../../runtime/otlp/index.js';

const BASE: WorkloadOptions = {
  services: 3,
  instancesPerService: 2,
  routesPerService: 4,
  startTimeMs: Date.UTC(2025, 0, 1),
  intervalMs: 10_000,
  temporality: 'cumulative',
  seed: 7,
};

interface Row {
  service: string;
  instanceId: string;
  route: string;
  status: number;
  point: HistogramPoint;
}

/** Encodes and decodes (so the check covers the wire too) and flattens to one row per point. */
function rows(requests: MetricsRequest[]): Row[] {
  const out: Row[] = [];
  for (const request of requests) {
    for (const rm of decodeMetricsRequest(encodeMetricsRequest(request)).resourceMetrics) {
      for (const m of rm.scopeMetrics.flatMap((sm) => sm.metrics)) {
        if (m.kind !== 'histogram') throw new Error(`unexpected ${m.kind}`);
        for (const point of m.points) {
          out.push({
            service: rm.resource['service.name'] as string,
            instanceId: rm.resource['service.instance.id'] as string,
            route: point.attributes['http.route'] as string,
            status: point.attributes['http.response.status_code'] as number,
            point,
          });
        }
      }
    }
  }
  return out;
}

const seriesKey = (r: Row): string => `${r.instanceId}|${r.route}|${r.status}`;

function run(options: WorkloadOptions, intervals: number): { batches: MetricsRequest[][]; truths: IntervalTruth[] } {
  const w = new HttpWorkload(options);
  const batches: MetricsRequest[][] = [];
  const truths: IntervalTruth[] = [];
  for (let i = 0; i < intervals; i++) {
    batches.push(w.next());
    truths.push(w.lastTruth());
  }
  return { batches, truths };
}

/** Per-interval counts observed in OTLP: differences of cumulative points, or deltas as they are. */
function observed(batches: MetricsRequest[][], cumulative: boolean): Map<string, { count: number; buckets: number[]; sum: number }>[] {
  const previous = new Map<string, HistogramPoint>();
  return batches.map((batch) => {
    const interval = new Map<string, { count: number; buckets: number[]; sum: number }>();
    for (const r of rows(batch)) {
      const before = cumulative ? previous.get(seriesKey(r)) : undefined;
      interval.set(seriesKey(r), {
        count: r.point.count - (before?.count ?? 0),
        buckets: r.point.bucketCounts.map((c, i) => c - (before?.bucketCounts[i] ?? 0)),
        sum: (r.point.sum ?? 0) - (before?.sum ?? 0),
      });
      previous.set(seriesKey(r), r.point);
    }
    return interval;
  });
}

describe('HttpWorkload', () => {
  it('is deterministic: the same seed gives identical bytes, another seed does not', () => {
    const bytes = (seed: number): string[] => run({ ...BASE, seed }, 5).batches.flat().map((r) => Buffer.from(encodeMetricsRequest(r)).toString('hex'));
    expect(bytes(7)).toEqual(bytes(7));
    expect(bytes(8)).not.toEqual(bytes(7));
  });

  it('emits one request per instance with the semantic-convention shape', () => {
    const w = new HttpWorkload(BASE);
    const batch = w.next();
    expect(batch).toHaveLength(6);
    expect(w.instances.map((i) => i.instanceId)).toEqual(['checkout-0', 'checkout-1', 'cart-0', 'cart-1', 'payment-0', 'payment-1']);
    const [first] = decodeMetricsRequest(encodeMetricsRequest(batch[0] as MetricsRequest)).resourceMetrics;
    expect(first?.resource).toEqual({ 'service.name': 'checkout', 'service.instance.id': 'checkout-0', 'host.name': 'host-0' });
    const metric = first?.scopeMetrics[0]?.metrics[0];
    expect(metric).toMatchObject({ name: 'http.server.request.duration', unit: 's', kind: 'histogram', temporality: Temporality.CUMULATIVE });
    const p = metric?.points[0] as HistogramPoint;
    expect(p.explicitBounds).toEqual(HTTP_DURATION_BUCKETS);
    expect(p.bucketCounts).toHaveLength(HTTP_DURATION_BUCKETS.length + 1);
    expect(Object.keys(p.attributes)).toEqual(['http.route', 'http.request.method', 'http.response.status_code']);
    expect(typeof p.attributes['http.response.status_code']).toBe('number');
    expect(p).toMatchObject({ startTimeMs: BASE.startTimeMs, timeMs: BASE.startTimeMs + BASE.intervalMs, timeUnixNano: `${BASE.startTimeMs + BASE.intervalMs}000000` });
  });

  it('keeps cumulative series monotonic, with a fixed start time and no series ever dropped', () => {
    const { batches } = run({ ...BASE, errorRate: 0.05 }, 12);
    const last = new Map<string, HistogramPoint>();
    for (const batch of batches) {
      const seen = new Set<string>();
      for (const r of rows(batch)) {
        const before = last.get(seriesKey(r));
        expect(r.point.startTimeMs).toBe(BASE.startTimeMs);
        expect(r.point.count).toBe(r.point.bucketCounts.reduce((a, b) => a + b, 0));
        if (before) {
          expect(r.point.count).toBeGreaterThanOrEqual(before.count);
          r.point.bucketCounts.forEach((c, i) => expect(c).toBeGreaterThanOrEqual(before.bucketCounts[i] as number));
          expect(r.point.sum).toBeGreaterThanOrEqual(before.sum as number);
          expect(r.point.timeMs).toBe(before.timeMs + BASE.intervalMs);
        }
        last.set(seriesKey(r), r.point);
        seen.add(seriesKey(r));
      }
      expect([...last.keys()].every((k) => seen.has(k))).toBe(true);
    }
  });

  it.each(['cumulative', 'delta'] as const)('matches its ground truth exactly, interval by interval (%s)', (temporality) => {
    const { batches, truths } = run({ ...BASE, temporality, errorRate: 0.05 }, 6);
    observed(batches, temporality === 'cumulative').forEach((interval, k) => {
      const truth = truths[k] as IntervalTruth;
      expect(truth.interval).toBe(k);
      expect(truth.startTimeMs).toBe(BASE.startTimeMs + k * BASE.intervalMs);
      for (const t of truth.routes) {
        const series = [...interval.entries()].filter(([key]) => key.startsWith(`${t.instanceId}|${t.route}|`));
        const status = (key: string): number => Number(key.split('|')[2]);
        expect(series.reduce((n, [, s]) => n + s.count, 0)).toBe(t.requests);
        expect(series.filter(([key]) => status(key) >= 500).reduce((n, [, s]) => n + s.count, 0)).toBe(t.errors);
        expect(series.filter(([key]) => status(key) >= 400 && status(key) < 500).reduce((n, [, s]) => n + s.count, 0)).toBe(t.clientErrors);
        const buckets = t.bucketCounts.map((_, i) => series.reduce((n, [, s]) => n + (s.buckets[i] as number), 0));
        expect(buckets).toEqual(t.bucketCounts);
        expect(series.reduce((n, [, s]) => n + s.sum, 0)).toBeCloseTo(t.latencySum, 6);
      }
    });
  });

  it('lets a test assert exact per-service counts of an interval with truthTotals', () => {
    const { batches, truths } = run({ ...BASE, temporality: 'delta', errorRate: 0.1 }, 4);
    const k = 3;
    const perService = new Map<string, { requests: number; errors: number }>();
    for (const r of rows(batches[k] as MetricsRequest[])) {
      const s = perService.get(r.service) ?? { requests: 0, errors: 0 };
      s.requests += r.point.count;
      if (r.status >= 500) s.errors += r.point.count;
      perService.set(r.service, s);
    }
    for (const service of ['checkout', 'cart', 'payment']) {
      const { requests, errors } = truthTotals(truths[k] as IntervalTruth, { service });
      expect(requests).toBeGreaterThan(0);
      expect(perService.get(service)).toEqual({ requests, errors });
    }
    const route = '/api/v1/items';
    const one = truthTotals(truths[k] as IntervalTruth, { service: 'cart', route });
    const decoded = rows(batches[k] as MetricsRequest[]).filter((r) => r.service === 'cart' && r.route === route);
    expect(decoded.reduce((n, r) => n + r.point.count, 0)).toBe(one.requests);
  });

  it('applies setErrorRate from the next interval, to that route only, without changing traffic', () => {
    const base = new HttpWorkload(BASE);
    const faulty = new HttpWorkload(BASE);
    base.next();
    faulty.next();
    faulty.setErrorRate('cart', '/api/v1/orders', 0.5);
    // The interval already produced is untouched.
    expect(faulty.lastTruth()).toEqual(base.lastTruth());
    let errors = 0;
    let requests = 0;
    for (let k = 0; k < 5; k++) {
      const [a, b] = [base.next(), faulty.next()];
      const [ta, tb] = [base.lastTruth(), faulty.lastTruth()];
      expect(tb.routes.map((t) => t.requests)).toEqual(ta.routes.map((t) => t.requests));
      const hit = tb.routes.filter((t) => t.service === 'cart' && t.route === '/api/v1/orders');
      errors += hit.reduce((n, t) => n + t.errors, 0);
      requests += hit.reduce((n, t) => n + t.requests, 0);
      // Everything else is byte-identical: the fault consumes no extra randomness.
      tb.routes.forEach((t, i) => {
        if (t.service !== 'cart' || t.route !== '/api/v1/orders') expect(t).toEqual(ta.routes[i]);
      });
      a.forEach((req, i) => {
        if (req.resourceMetrics[0]?.resource['service.name'] !== 'cart') expect(encodeMetricsRequest(b[i] as MetricsRequest)).toEqual(encodeMetricsRequest(req));
      });
    }
    // Binomial(n, 0.5): well within 5 standard deviations.
    expect(Math.abs(errors - requests / 2)).toBeLessThan(5 * Math.sqrt(requests / 4));
  });

  it('applies setLatencyFactor from the next interval, scaling that route\'s latencies', () => {
    const base = new HttpWorkload(BASE);
    const slow = new HttpWorkload(BASE);
    slow.setLatencyFactor('payment', '*', 10);
    base.next();
    slow.next();
    const pick = (t: IntervalTruth) => t.routes.filter((r) => r.service === 'payment');
    pick(slow.lastTruth()).forEach((t, i) => {
      const b = pick(base.lastTruth())[i];
      expect(t.requests).toBe(b?.requests);
      expect(t.errors).toBe(b?.errors);
      if (t.requests > 0) expect(t.latencySum / (b?.latencySum as number)).toBeCloseTo(10, 9);
      // The mass moves to higher buckets: the mean bucket index grows.
      const meanBucket = (c: number[]) => c.reduce((n, x, j) => n + x * j, 0) / Math.max(1, c.reduce((n, x) => n + x, 0));
      if (t.requests > 0) expect(meanBucket(t.bucketCounts)).toBeGreaterThan(meanBucket(b?.bucketCounts ?? []));
    });
    expect(pick(slow.lastTruth()).some((t) => t.requests > 0)).toBe(true);
    expect(() => slow.setLatencyFactor('nope', '*', 2)).toThrow(/unknown service/);
    expect(() => slow.setErrorRate('payment', '/nope', 0.1)).toThrow(/unknown route/);
    expect(() => slow.setErrorRate('payment', '*', 1.5)).toThrow(RangeError);
  });

  it('reports delta points over the interval only, and only for statuses seen in it', () => {
    const { batches, truths } = run({ ...BASE, temporality: 'delta', requestsPerIntervalPerRoute: 3, errorRate: 0 }, 3);
    const k = 2;
    const r = rows(batches[k] as MetricsRequest[]);
    expect(r.every((x) => x.point.count > 0 && x.point.startTimeMs === BASE.startTimeMs + k * BASE.intervalMs)).toBe(true);
    expect(r.some((x) => x.status >= 500)).toBe(false);
    expect(r.reduce((n, x) => n + x.point.count, 0)).toBe(truthTotals(truths[k] as IntervalTruth).requests);
  });

  it('validates its options', () => {
    expect(() => new HttpWorkload({ ...BASE, services: 0 })).toThrow(RangeError);
    expect(() => new HttpWorkload({ ...BASE, intervalMs: 0 })).toThrow(RangeError);
    expect(() => new HttpWorkload({ ...BASE, histogramBounds: [1, 1] })).toThrow(RangeError);
    expect(() => new HttpWorkload(BASE).lastTruth()).toThrow(/before the first next/);
  });
});

describe('encodeWorkloadBatch', () => {
  it('makes one Kafka record per resource, keyed by a stable hash of its attributes', () => {
    const w = new HttpWorkload(BASE);
    const batch = w.next();
    const records = encodeWorkloadBatch(batch);
    expect(records).toHaveLength(batch.length);
    expect(new Set(records.map((r) => r.key.toString('hex'))).size).toBe(batch.length);
    records.forEach((record, i) => {
      expect(record.key).toHaveLength(16);
      expect(decodeMetricsRequest(record.value)).toEqual(decodeMetricsRequest(encodeMetricsRequest(batch[i] as MetricsRequest)));
      expect(record.timestamp).toBe(String(BASE.startTimeMs + BASE.intervalMs));
    });
    // The same resource keeps its key in later intervals and in another process's attribute order.
    expect(encodeWorkloadBatch(w.next()).map((r) => r.key)).toEqual(records.map((r) => r.key));
    expect(resourceKey({ b: 2, a: { y: 1, x: 'z' } })).toEqual(resourceKey({ a: { x: 'z', y: 1 }, b: 2 }));
    expect(resourceKey({ a: 1 })).not.toEqual(resourceKey({ a: '1' }));
  });

  it('splits multi-resource requests and can write otlp_json', () => {
    const batch = new HttpWorkload(BASE).next();
    const merged: MetricsRequest = { resourceMetrics: batch.flatMap((r) => r.resourceMetrics) };
    const records = encodeWorkloadBatch([merged], 'otlp_json');
    expect(records).toHaveLength(batch.length);
    const doc = JSON.parse(records[0]?.value.toString('utf8') ?? '');
    expect(doc.resourceMetrics).toHaveLength(1);
    expect(doc.resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.aggregationTemporality).toBe(2);
  });
});
