import { describe, expect, it } from 'vitest';
import { EXP_BOUNDS, EXP_SCALE, exponentialToExplicit } from '../../../../processors/ingest/exponential.js';
import { IngestProcessor, parseIngestConfig } from '../../../../processors/ingest/index.js';
import { histogramQuantile } from '../../../../processors/evaluate/quantile.js';
import { countAtOrBelow } from '../../../../processors/slo/signals.js';
import { encodeMetricsRequest } from '../../../../runtime/otlp/index.js';
import type { MetricsRequest } from '../../../../runtime/otlp/index.js';
import { TopologyTestDriver } from '../../../../runtime/testing/topology-test-driver.js';
import { signalSerde } from '../../../../schemas/index.js';
import type { SignalRecord } from '../../../../schemas/index.js';

const T0 = 1_700_000_000_000;
const B = 10_000;

/** Exponential buckets at `scale` for durations (seconds), as an SDK would record them. */
function record(durations: readonly number[], scale: number): { offset: number; bucketCounts: number[] } {
  const index = (v: number): number => Math.ceil(Math.log2(v) * 2 ** scale) - 1;
  const idx = durations.map(index);
  const offset = Math.min(...idx);
  const counts = new Array<number>(Math.max(...idx) - offset + 1).fill(0);
  for (const i of idx) counts[i - offset] = (counts[i - offset] as number) + 1;
  return { offset, bucketCounts: counts };
}

function request(instance: string, durations: readonly number[], scale: number): Buffer {
  const req: MetricsRequest = {
    resourceMetrics: [
      {
        resource: { 'service.name': 'checkout', 'service.instance.id': instance },
        scopeMetrics: [
          {
            scope: { name: 'test', version: '', attributes: {} },
            metrics: [
              {
                name: 'http.server.request.duration',
                description: '',
                unit: 's',
                kind: 'exponentialHistogram',
                temporality: 2,
                points: [
                  {
                    attributes: { 'http.route': '/pay', 'http.response.status_code': 200 },
                    startTimeMs: T0 - 1000,
                    timeMs: T0 + 1000,
                    startTimeUnixNano: `${T0 - 1000}000000`,
                    timeUnixNano: `${T0 + 1000}000000`,
                    flags: 0,
                    count: durations.length,
                    sum: durations.reduce((a, b) => a + b, 0),
                    min: undefined,
                    max: undefined,
                    scale,
                    zeroCount: 0,
                    zeroThreshold: 0,
                    positive: record(durations, scale),
                    negative: { offset: 0, bucketCounts: [] },
                  },
                ],
              },
            ],
          },
        ],
      },
    ],
  };
  return Buffer.from(encodeMetricsRequest(req));
}

describe('exponential histograms', () => {
  it('reduce to the common scale exactly, merging 2^(s-2) neighbours', () => {
    const out = new Float64Array(EXP_BOUNDS.length + 1);
    // Scale 4 buckets 0..7 cover (1, 2^(8/16)] = (1, 1.414]: at scale 2 that is buckets 0 and 1.
    exponentialToExplicit(4, 3, 0, [1, 1, 1, 1, 2, 2, 2, 2], 8, [5], 1, out);
    const first = EXP_BOUNDS.indexOf(1) + 1;
    expect(EXP_SCALE).toBe(2);
    expect([out[0], out[first], out[first + 1]]).toEqual([8, 4, 8]);
    expect(out.reduce((a, b) => a + b, 0)).toBe(20);
  });

  it('feed ingest as buckets: merged across instances of different scales, with p95 and latency SLI counts', async () => {
    const config = parseIngestConfig({
      rules: [{ name: 'http', metric: 'http.server.request.duration', kind: 'http', groupBy: ['service.name'] }],
      bucketMs: B,
      allowedLatenessMs: 0,
    });
    const d = new TopologyTestDriver({ name: 'ingest', inputTopic: 'otlp_metrics', factory: () => new IngestProcessor(config), partitions: { 'aiops.signals.v1': 1 } });
    // 1000 requests: 900 between 10 and 100 ms, 100 between 0.5 and 2 s; two instances at scales 8 and 3.
    const durations: number[] = [];
    for (let i = 0; i < 900; i++) durations.push(0.01 + (0.09 * i) / 900);
    for (let i = 0; i < 100; i++) durations.push(0.5 + (1.5 * i) / 100);
    await d.pipe(0, [request('a', durations.filter((_, i) => i % 2 === 0), 8), request('b', durations.filter((_, i) => i % 2 === 1), 3)]);
    await d.idle(0);
    const partials = d
      .outputs('aiops.signals.v1')
      .map((r) => signalSerde.deserialize(r.value as Buffer))
      .filter((r): r is SignalRecord & { kind: 'PARTIAL' } => r.kind === 'PARTIAL');
    expect(partials).toHaveLength(1);
    const p = partials[0] as SignalRecord;
    expect(p.count).toBe(1000);
    expect(p.bounds).toEqual([...EXP_BOUNDS]);
    expect(p.bucketCounts.reduce((a, b) => a + b, 0)).toBe(1000);
    // True p95 is 1.25 s; buckets are 19% wide.
    const p95 = histogramQuantile(0.95, p.bounds, p.bucketCounts);
    expect(p95).toBeGreaterThan(1.25 / 1.19);
    expect(p95).toBeLessThan(1.25 * 1.19);
    // A 250 ms threshold lies between the two groups: exactly the 900 fast requests are good.
    expect(countAtOrBelow(0.25, p.bounds, p.bucketCounts)).toBe(900);
  });
});
