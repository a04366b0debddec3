import { describe, expect, it } from 'vitest';
import { IngestProcessor, defaultRules, parseIngestConfig } from '../../../../processors/ingest/index.js';
import { encodeMetricsRequest } from '../../../../runtime/otlp/index.js';
import type { MetricsRequest } from '../../../../runtime/otlp/index.js';
import { TopologyTestDriver } from '../../../../runtime/testing/topology-test-driver.js';
import { signalSerde } from '../../../../schemas/index.js';
import type { SignalRecord } from '../../../../schemas/index.js';

const B = 10_000;
const T0 = 1_700_000_000_000;
const BOUNDS = [0.1, 0.5];

interface PointSpec {
  instance?: string;
  status?: number;
  route?: string;
  start: number;
  time: number;
  count: number;
  sum?: number;
  buckets?: number[];
}

function request(points: PointSpec[], service = 'checkout'): Buffer {
  const byInstance = new Map<string, PointSpec[]>();
  for (const p of points) byInstance.set(p.instance ?? 'i-1', [...(byInstance.get(p.instance ?? 'i-1') ?? []), p]);
  const req: MetricsRequest = {
    resourceMetrics: [...byInstance].map(([instance, pts]) => ({
      resource: { 'service.name': service, 'service.instance.id': instance },
      scopeMetrics: [
        {
          scope: { name: 'test', version: '', attributes: {} },
          metrics: [
            {
              name: 'http.server.request.duration',
              description: '',
              unit: 's',
              kind: 'histogram',
              temporality: 2,
              points: pts.map((p) => ({
                attributes: { 'http.route': p.route ?? '/a', 'http.request.method': 'GET', 'http.response.status_code': p.status ?? 200 },
                startTimeMs: p.start,
                timeMs: p.time,
                startTimeUnixNano: `${p.start}000000`,
                timeUnixNano: `${p.time}000000`,
                flags: 0,
                count: p.count,
                sum: p.sum ?? p.count * 0.2,
                min: undefined,
                max: undefined,
                bucketCounts: p.buckets ?? [p.count, 0, 0],
                explicitBounds: BOUNDS,
              })),
            },
          ],
        },
      ],
    })),
  };
  return Buffer.from(encodeMetricsRequest(req));
}

/** A monotonic cumulative sum `http.server.requests` with one point. */
function sumRequest(value: number, instance = 's'): Buffer {
  const req: MetricsRequest = {
    resourceMetrics: [
      {
        resource: { 'service.name': 'checkout', 'service.instance.id': instance },
        scopeMetrics: [
          {
            scope: { name: 'test', version: '', attributes: {} },
            metrics: [
              {
                name: 'http.server.requests',
                description: '',
                unit: '{request}',
                kind: 'sum',
                temporality: 2,
                monotonic: true,
                points: [{ attributes: {}, startTimeMs: T0, timeMs: T0 + 1000, startTimeUnixNano: `${T0}000000`, timeUnixNano: `${T0 + 1000}000000`, flags: 0, value, isInt: false }],
              },
            ],
          },
        ],
      },
    ],
  };
  return Buffer.from(encodeMetricsRequest(req));
}

const counterRule = { name: 'requests', metric: 'http.server.requests', kind: 'counter', groupBy: ['service.name'] };

function driver(overrides: Record<string, unknown> = {}): TopologyTestDriver {
  const config = parseIngestConfig({ rules: defaultRules, bucketMs: B, allowedLatenessMs: 0, ...overrides });
  return new TopologyTestDriver({ name: 'ingest', inputTopic: 'otlp_metrics', factory: () => new IngestProcessor(config), partitions: { 'aiops.signals.v1': 2 } });
}

function partials(d: TopologyTestDriver): SignalRecord[] {
  return d
    .outputs('aiops.signals.v1')
    .map((r) => signalSerde.deserialize(r.value as Buffer))
    .filter((r) => r.kind === 'PARTIAL');
}

describe('IngestProcessor', () => {
  it('feeds a filtered rule only from points whose attributes match its filter', async () => {
    const sloRule = { name: 'slo.pay', metric: 'http.server.request.duration', kind: 'http', groupBy: ['service.name'], filter: { 'service.name': ['checkout'], 'http.route': ['/pay', '/refund'] } };
    const d = driver({ rules: [...defaultRules, sloRule] });
    const start = T0 - 1000;
    await d.pipe(0, [request([{ route: '/pay', start, time: T0 + 1000, count: 4 }, { route: '/refund', start, time: T0 + 1000, count: 3, status: 503 }, { route: '/a', start, time: T0 + 1000, count: 5 }])]);
    await d.pipe(0, [request([{ route: '/pay', start, time: T0 + 2000, count: 9 }], 'shipping')]);
    await d.pipe(0, [request([{ route: '/a', start, time: T0 + B + 1000, count: 5 }])]);
    const slo = partials(d).filter((p) => p.rule === 'slo.pay');
    expect(slo.map((p) => [p.signal, p.count, p.errors])).toEqual([['slo.pay{service.name="checkout"}', 7, 3]]);
    // The unfiltered rule still sees every route of both services.
    expect(partials(d).filter((p) => p.rule === 'http' && p.bucketStartMs === T0).reduce((n, p) => n + p.count, 0)).toBe(21);
  });

  it('matches a rule by the Prometheus name of the metric, with PromQL matchers and a bad-events matcher', async () => {
    // The OTel histogram http.server.request.duration (unit s) is http_server_request_duration_seconds
    // in Prometheus, as the collector's exporter names it.
    const rule = {
      name: 'slo.p',
      metric: 'http_server_request_duration_seconds',
      prometheusName: 'http_server_request_duration_seconds',
      kind: 'http',
      groupBy: ['aiops.slo'],
      matchers: [{ attribute: 'http.route', op: '!~', value: '/health|/metrics' }],
      badWhen: { attribute: 'http.response.status_code', op: '=~', value: '5..|429' },
    };
    const d = driver({ rules: [...defaultRules, rule] });
    const start = T0 - 1000;
    await d.pipe(0, [
      request([
        { route: '/pay', start, time: T0 + 1000, count: 4 },
        { route: '/pay', status: 429, start, time: T0 + 1000, count: 2 },
        { route: '/pay', status: 404, start, time: T0 + 1000, count: 1 },
        { route: '/health', status: 503, start, time: T0 + 1000, count: 5 },
      ]),
    ]);
    await d.pipe(0, [request([{ route: '/pay', start, time: T0 + B + 1000, count: 4 }], 'shipping')]);
    const slo = partials(d).filter((p) => p.rule === 'slo.p');
    // Every service (no job matcher), /health left out; 429 is bad by the matcher, 404 is not.
    expect(slo.map((p) => [p.signal, p.count, p.errors])).toEqual([['slo.p{aiops.slo=""}', 7, 2]]);
  });

  it('turns cumulative histograms into per-bucket deltas, closed by the watermark', async () => {
    const d = driver();
    await d.pipe(0, [request([{ start: T0 - 1000, time: T0 + 1000, count: 10, buckets: [6, 4, 0] }])]);
    await d.pipe(0, [request([{ start: T0 - 1000, time: T0 + B + 1000, count: 25, buckets: [10, 10, 5] }])]);
    await d.pipe(0, [request([{ start: T0 - 1000, time: T0 + 2 * B + 1000, count: 25, buckets: [10, 10, 5] }])]);
    const out = partials(d);
    expect(out.map((p) => [p.bucketStartMs - T0, p.count])).toEqual([
      [0, 10],
      [B, 15],
    ]);
    expect(out[1]?.bucketCounts).toEqual([4, 6, 5]);
    expect(out[0]).toMatchObject({ signal: 'http{service.name="checkout",http.route="/a"}', dimensions: { 'service.name': 'checkout', 'http.route': '/a' }, bounds: BOUNDS, series: 1 });
    // The watermark goes to every partition of the signals topic.
    const marks = d.outputs('aiops.signals.v1').filter((r) => r.key === null);
    expect(new Set(marks.map((m) => m.partition))).toEqual(new Set([0, 1]));
  });

  it('treats a new start time or a decrease as a reset, counting from zero', async () => {
    const d = driver();
    await d.pipe(0, [request([{ start: T0, time: T0 + 1000, count: 10 }])]);
    await d.pipe(0, [request([{ start: T0 + 5000, time: T0 + B + 1000, count: 4 }])]); // restarted process
    await d.pipe(0, [request([{ start: T0 + 5000, time: T0 + 2 * B + 1000, count: 3 }])]); // decrease, same start
    await d.pipe(0, [request([{ start: T0 + 5000, time: T0 + 3 * B + 1000, count: 3 }])]);
    expect(partials(d).map((p) => p.count)).toEqual([10, 4, 3]);
    expect(d.counters.get('resets')).toBe(2);
  });

  it('sets only a baseline for the first point of a series that started long before', async () => {
    const d = driver();
    await d.pipe(0, [request([{ start: T0 - 86_400_000, time: T0 + 1000, count: 1_000_000 }])]);
    await d.pipe(0, [request([{ start: T0 - 86_400_000, time: T0 + B + 1000, count: 1_000_012 }])]);
    await d.pipe(0, [request([{ start: T0 - 86_400_000, time: T0 + 2 * B + 1000, count: 1_000_012 }])]);
    expect(partials(d).map((p) => [p.bucketStartMs - T0, p.count])).toEqual([[B, 12]]);
  });

  it('counts errors (status >= 500) and status classes per signal, merging instances', async () => {
    const d = driver();
    await d.pipe(0, [
      request([
        { instance: 'i-1', status: 200, start: T0, time: T0 + 1000, count: 7 },
        { instance: 'i-1', status: 503, start: T0, time: T0 + 1000, count: 2 },
        { instance: 'i-2', status: 404, start: T0, time: T0 + 2000, count: 1 },
      ]),
    ]);
    await d.idle(0);
    const [p] = partials(d);
    expect(p).toMatchObject({ count: 10, errors: 2, statusClasses: [0, 7, 0, 1, 2, 0], series: 3, idle: true });
  });

  it('drops and counts points for buckets already closed', async () => {
    const d = driver();
    await d.pipe(0, [request([{ instance: 'a', start: T0, time: T0 + B + 1000, count: 5 }])]);
    await d.pipe(0, [request([{ instance: 'a', start: T0, time: T0 + 2 * B + 1000, count: 6 }])]);
    await d.pipe(0, [request([{ instance: 'b', start: T0, time: T0 + 1000, count: 9 }])]); // bucket 0 closed long ago
    expect(d.counters.get('late_points')).toBe(1);
    expect(partials(d).map((p) => p.count)).toEqual([5]);
  });

  it('keeps going through bad input: garbage, truncated protobuf, JSON, empty records, NaN and negative counts', async () => {
    const d = driver({ rules: [...defaultRules, counterRule] });
    const good = request([{ start: T0, time: T0 + 1000, count: 3 }]);
    const json = Buffer.from(JSON.stringify({ resourceMetrics: [] }));
    const nan = sumRequest(Number.NaN, 'n');
    const negative = sumRequest(-4, 'm');
    await d.pipe(0, [Buffer.from([0xff, 0x01, 0x02]), good.subarray(0, good.length - 3), json, { value: null }, nan, negative, good]);
    await d.idle(0);
    const dlq = d.outputs('aiops.dlq.v1');
    expect(dlq.map((r) => r.headers?.['aiops.dlq.source.offset'])).toEqual(['0', '1', '2', '3']);
    for (const r of dlq) expect(String(r.headers?.['aiops.dlq.reason'])).toMatch(/undecodable otlp_proto payload|empty record value/);
    expect(dlq[0]?.value).toEqual(Buffer.from([0xff, 0x01, 0x02]));
    expect(d.counters.get('bad_values')).toBe(2);
    expect(partials(d).map((p) => [p.rule, p.count])).toEqual([['http', 3]]);
  });

  it('decodes once: a record failing half-way rolls the partition back to its last commit, and nothing is lost or counted twice', async () => {
    const earlier = request([{ instance: 'a', start: T0, time: T0 + 1000, count: 2 }]);
    const first = request([{ instance: 'a', start: T0, time: T0 + 2000, count: 5 }]);
    // Two instances: the first one's point reaches the state before the payload ends too early.
    const twoInstances = request([
      { instance: 'b', start: T0, time: T0 + 2000, count: 7 },
      { instance: 'c', start: T0, time: T0 + 2000, count: 11 },
    ]);
    const truncated = twoInstances.subarray(0, twoInstances.length - 5);
    const last = request([{ instance: 'a', start: T0, time: T0 + 3000, count: 6 }]);
    const rolled = driver();
    await rolled.pipe(0, [earlier]);
    await rolled.pipe(0, [first, truncated, last]);
    await rolled.idle(0);
    const clean = driver();
    await clean.pipe(0, [earlier]);
    await clean.pipe(0, [first, request([]), last]);
    await clean.idle(0);
    expect(rolled.counters.get('rollbacks')).toBe(1);
    expect(clean.counters.get('rollbacks')).toBeUndefined();
    const dlq = rolled.outputs('aiops.dlq.v1');
    expect(dlq.map((r) => r.headers?.['aiops.dlq.source.offset'])).toEqual(['2']);
    expect(String(dlq[0]?.headers?.['aiops.dlq.reason'])).toMatch(/^undecodable otlp_proto payload: /);
    const view = (d: TopologyTestDriver): unknown[] => partials(d).map((p) => [p.signal, p.bucketStartMs, p.count, p.series]);
    expect(view(rolled)).toEqual(view(clean));
    // Instance a counted once: 2 (first point, no earlier value), then +3 and +1.
    expect(partials(rolled).reduce((n, p) => n + p.count, 0)).toBe(6);
  });

  it('aggregates counter rules from monotonic sums', async () => {
    const d = driver({ rules: [counterRule] });
    await d.pipe(0, [sumRequest(12)]);
    await d.idle(0);
    expect(partials(d).map((p) => [p.signal, p.count])).toEqual([['requests{service.name="checkout"}', 12]]);
  });

  it('stops taking new series at the limit, counting what it drops', async () => {
    const d = driver({ maxSeries: 2 });
    await d.pipe(0, [
      request([
        { route: '/a', start: T0, time: T0 + 1000, count: 1 },
        { route: '/b', start: T0, time: T0 + 1000, count: 1 },
        { route: '/c', start: T0, time: T0 + 1000, count: 1 },
      ]),
    ]);
    await d.idle(0);
    expect(partials(d).map((p) => p.dimensions['http.route']).sort()).toEqual(['/a', '/b']);
    expect(d.counters.get('series_limited_points')).toBe(1);
  });

  it('continues exactly after a restart: series and open buckets come back from the changelog', async () => {
    const d = driver();
    await d.pipe(0, [request([{ start: T0, time: T0 + 1000, count: 10 }])]);
    await d.restart(0);
    await d.pipe(0, [request([{ start: T0, time: T0 + 2000, count: 14 }])]); // same bucket, open across the restart
    await d.pipe(0, [request([{ start: T0, time: T0 + B + 1000, count: 20 }])]);
    await d.restart(0);
    await d.idle(0);
    expect(partials(d).map((p) => [p.bucketStartMs - T0, p.count])).toEqual([
      [0, 14],
      [B, 6],
    ]);
  });

  it('forgets series that sent nothing for staleSeriesMs of event time', async () => {
    const d = driver({ staleSeriesMs: 60_000 });
    await d.pipe(0, [request([{ route: '/old', start: T0, time: T0 + 1000, count: 1 }])]);
    for (let k = 1; k <= 10; k++) await d.pipe(0, [request([{ route: '/live', start: T0, time: T0 + k * B + 1000, count: k }])]);
    expect(d.counters.get('series_evicted')).toBe(1);
    // The old series comes back as new: its first point is recent, so it counts from zero.
    await d.pipe(0, [request([{ route: '/old', start: T0 + 100_000, time: T0 + 10 * B + 2000, count: 4 }])]);
    await d.idle(0);
    const old = partials(d).filter((p) => p.dimensions['http.route'] === '/old');
    expect(old.map((p) => p.count)).toEqual([1, 4]);
  });

  it('skips duplicate and out-of-order points of a series', async () => {
    const d = driver();
    const first = request([{ start: T0, time: T0 + 2000, count: 10 }]);
    await d.pipe(0, [first, first, request([{ start: T0, time: T0 + 1000, count: 8 }])]);
    await d.idle(0);
    expect(partials(d).map((p) => p.count)).toEqual([10]);
    expect(d.counters.get('out_of_order_points')).toBe(2);
  });
});
