/**
 * A flood of new series (10× the configured limits) through ingest and evaluate: the limits hold
 * (counted), the state stays the size it has at the limit, and the series already known go on
 * being processed.
 */
import { describe, expect, it } from 'vitest';
import { AnomalyStage } from '../../../processors/anomaly/anomaly-stage.js';
import { parseAnomalyStageConfig } from '../../../processors/anomaly/config.js';
import { EvaluateProcessor } from '../../../processors/evaluate/evaluate-processor.js';
import { IngestProcessor, defaultRules, parseIngestConfig } from '../../../processors/ingest/index.js';
import { encodeMetricsRequest } from '../../../runtime/otlp/index.js';
import type { MetricsRequest } from '../../../runtime/otlp/index.js';
import { TopologyTestDriver } from '../../../runtime/testing/topology-test-driver.js';
import { signalSerde, signalsTopic } from '../../../schemas/index.js';
import type { SignalRecord } from '../../../schemas/index.js';

const B = 10_000;
const T0 = 1_700_000_000_000;
const LIMIT = 50;

/** One request with a cumulative request-duration histogram point per route, `count` requests each. */
function request(routes: readonly string[], time: number, count: number): Buffer {
  const req: MetricsRequest = {
    resourceMetrics: [
      {
        resource: { 'service.name': 'flood', 'service.instance.id': 'i-1' },
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
                points: routes.map((route) => ({
                  attributes: { 'http.route': route, 'http.request.method': 'GET', 'http.response.status_code': 200 },
                  startTimeMs: T0,
                  timeMs: time,
                  startTimeUnixNano: `${T0}000000`,
                  timeUnixNano: `${time}000000`,
                  flags: 0,
                  count,
                  sum: count * 0.2,
                  min: undefined,
                  max: undefined,
                  bucketCounts: [count, 0, 0],
                  explicitBounds: [0.1, 0.5],
                })),
              },
            ],
          },
        ],
      },
    ],
  };
  return Buffer.from(encodeMetricsRequest(req));
}

const routes = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `/${prefix}/${i}`);

function ingestDriver(): TopologyTestDriver {
  const config = parseIngestConfig({ rules: defaultRules, bucketMs: B, maxSeries: LIMIT });
  return new TopologyTestDriver({ name: 'ingest', inputTopic: 'otlp_metrics', factory: () => new IngestProcessor(config) });
}

function partialsOf(d: TopologyTestDriver): SignalRecord[] {
  return d
    .outputs(signalsTopic)
    .map((r) => signalSerde.deserialize(r.value as Buffer))
    .filter((s) => s.kind === 'PARTIAL');
}

describe('a flood of new series', () => {
  it('stops at ingest maxSeries: dropped points counted, state as large as at the limit, known series still processed', async () => {
    const known = routes('known', LIMIT);
    // The same known series with and without a flood of 10x the limit in new series, interval after interval.
    const baseline = ingestDriver();
    const flooded = ingestDriver();
    for (let k = 0; k < 4; k++) {
      const time = T0 + k * B + 1_000;
      await baseline.pipe(0, [request(known, time, 10 * (k + 1))]);
      await flooded.pipe(0, [request(known, time, 10 * (k + 1)), request(routes(`new-${k}`, 10 * LIMIT), time, 1)]);
      await baseline.idle(0);
      await flooded.idle(0);
    }
    expect(flooded.counters.get('series_limited_points')).toBe(4 * 10 * LIMIT);
    // Memory: the flooded partition holds no more state than the one that never saw the flood.
    expect(flooded.changelogBytes(0)).toBe(baseline.changelogBytes(0));
    // Processing continues: every interval of every known series came out, as without the flood.
    const counts = (d: TopologyTestDriver): string[] =>
      partialsOf(d)
        .map((p) => `${p.signal}@${p.bucketStartMs}=${p.count}`)
        .sort();
    expect(counts(flooded)).toEqual(counts(baseline));
    expect(partialsOf(flooded).some((p) => p.dimensions['http.route']?.startsWith('/new-'))).toBe(false);
  });

  it('stops at the anomaly stage maxSeries in evaluate: new series counted and not watched, state bounded, known series still detected', async () => {
    const anomalyLimit = 20;
    const config = parseAnomalyStageConfig({ metrics: ['rate'], maxSeries: anomalyLimit, detector: { minHistory: 10 } });
    const evaluate = (): TopologyTestDriver =>
      new TopologyTestDriver({ name: 'evaluate', inputTopic: signalsTopic, factory: () => new EvaluateProcessor({ emitValues: false, consumers: () => [new AnomalyStage(config)] }) });
    const partial = (signalIndex: number, prefix: string, k: number, count: number): Buffer =>
      signalSerde.serialize({
        kind: 'PARTIAL', sourcePartition: 0, watermarkMs: (k + 1) * B, idle: false, signal: `http{service.name="${prefix}-${signalIndex}"}`, rule: 'http',
        dimensions: { 'service.name': `${prefix}-${signalIndex}` }, bucketStartMs: k * B, bucketMs: B, count, errors: 0, statusClasses: [0, count, 0, 0, 0, 0],
        sum: count * 0.1, min: Number.NaN, max: Number.NaN, bounds: [0.1, 0.5], bucketCounts: [count, 0, 0], series: 1,
      });
    const watermark = (k: number): Buffer =>
      signalSerde.serialize({
        kind: 'WATERMARK', sourcePartition: 0, watermarkMs: (k + 1) * B, idle: false, signal: '', rule: '', dimensions: {}, bucketStartMs: (k + 1) * B, bucketMs: B,
        count: 0, errors: 0, statusClasses: [], sum: 0, min: Number.NaN, max: Number.NaN, bounds: [], bucketCounts: [], series: 0,
      });
    const baseline = evaluate();
    const flooded = evaluate();
    const intervals = 30;
    for (let k = 0; k < intervals; k++) {
      const knownPartials = Array.from({ length: anomalyLimit }, (_, i) => partial(i, 'known', k, 100 + ((k * 7 + i) % 5)));
      // Every interval brings 10x the limit in series never seen before.
      const newPartials = Array.from({ length: 10 * anomalyLimit }, (_, i) => partial(i, `new-${k}`, k, 3));
      await baseline.pipe(0, [...knownPartials, watermark(k)]);
      await flooded.pipe(0, [...knownPartials, ...newPartials, watermark(k)]);
    }
    expect(flooded.counters.get('anomaly_series_limited')).toBe(intervals * 10 * anomalyLimit);
    expect(baseline.counters.get('anomaly_series_limited') ?? 0).toBe(0);
    // Memory: once each interval is closed, the flooded partition holds no more state than the baseline.
    expect(flooded.changelogBytes(0)).toBe(baseline.changelogBytes(0));
    // The known series are still watched: a spike of one of them after the flood opens its event,
    // and only its (a spike lasting two buckets: events open once a deviation is confirmed).
    for (const k of [intervals, intervals + 1]) {
      await flooded.pipe(0, [...Array.from({ length: anomalyLimit }, (_, i) => partial(i, 'known', k, i === 3 ? 5_000 : 100)), watermark(k)]);
    }
    const opened = flooded.outputs('aiops.anomalies.v1').map((r) => r.key?.toString() ?? '');
    expect([...new Set(opened)]).toEqual(['http{service.name="known-3"}']);
  });
});
