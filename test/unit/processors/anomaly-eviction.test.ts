import { describe, expect, it } from 'vitest';
import { AnomalyStage } from '../../../processors/anomaly/anomaly-stage.js';
import { parseAnomalyStageConfig } from '../../../processors/anomaly/config.js';
import type { AnomalyStageConfig } from '../../../processors/anomaly/config.js';
import { EvaluateProcessor } from '../../../processors/evaluate/evaluate-processor.js';
import { openStateHeartbeatMs } from '../../../processors/evaluate/heartbeat.js';
import { TopologyTestDriver } from '../../../runtime/testing/topology-test-driver.js';
import { anomalySerde } from '../../../schemas/anomalies.js';
import type { AnomalyEvent } from '../../../schemas/anomalies.js';
import { signalSerde } from '../../../schemas/index.js';

const B = 10_000;
const BOUNDS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const signalOf = (route: string): string => `http{service.name="shop",http.route="${route}"}`;

/** A closed-bucket partial of ~200 requests of one route; `slow` moves most of them to the 1-2.5 s bucket. */
function partial(route: string, k: number, slow: boolean): Buffer {
  const jitter = (k * 7) % 5;
  const counts = slow ? [10, 10, 10, 10, 10, 20, 130, 0] : [40, 90, 50 - jitter, 12 + jitter, 6, 2, 0, 0];
  const count = counts.reduce((a, b) => a + b, 0);
  return signalSerde.serialize({
    kind: 'PARTIAL', sourcePartition: 0, watermarkMs: (k + 1) * B, idle: false, signal: signalOf(route), rule: 'http',
    dimensions: { 'service.name': 'shop', 'http.route': route }, bucketStartMs: k * B, bucketMs: B, count, errors: 1,
    statusClasses: [0, count - 1, 0, 0, 0, 1], sum: count * 0.06, min: Number.NaN, max: Number.NaN, bounds: BOUNDS, bucketCounts: counts, series: 1,
  });
}

function watermark(k: number): Buffer {
  return signalSerde.serialize({
    kind: 'WATERMARK', sourcePartition: 0, watermarkMs: (k + 1) * B, idle: false, signal: '', rule: '', dimensions: {}, bucketStartMs: (k + 1) * B, bucketMs: B,
    count: 0, errors: 0, statusClasses: [], sum: 0, min: Number.NaN, max: Number.NaN, bounds: [], bucketCounts: [], series: 0,
  });
}

function driver(config: AnomalyStageConfig): TopologyTestDriver {
  return new TopologyTestDriver({ name: 'evaluate', inputTopic: 'aiops.signals.v1', factory: () => new EvaluateProcessor({ emitValues: false, consumers: () => [new AnomalyStage(config)] }) });
}

function events(d: TopologyTestDriver): AnomalyEvent[] {
  return d.outputs('aiops.anomalies.v1').map((r) => anomalySerde.deserialize(r.value as Buffer));
}

/** Bucket k of a timeline: the routes that report in it, then the watermark that closes it. */
type Timeline = (k: number) => { route: string; slow: boolean }[];

async function play(d: TopologyTestDriver, timeline: Timeline, buckets: number, restartAfter: readonly number[] = []): Promise<void> {
  for (let k = 0; k < buckets; k++) {
    await d.pipe(0, [...timeline(k).map((p) => partial(p.route, k, p.slow)), watermark(k)]);
    if (restartAfter.includes(k)) await d.restart(0);
  }
}

describe('Anomaly stage: a series that disappears resolves its open event, across restarts of evaluate', () => {
  // /cart spikes at 40-43 and reports nothing after 44; /pay keeps reporting and moves data time on.
  const config = parseAnomalyStageConfig({ metrics: ['p95'], detector: { minHistory: 10 }, staleSeriesMs: 100_000 });
  const timeline: Timeline = (k) => [...(k < 45 ? [{ route: '/cart', slow: k >= 40 && k < 44 }] : []), { route: '/pay', slow: false }];
  const BUCKETS = 80;

  it('resolves the open event of the silent series once it is stale in data time', async () => {
    const d = driver(config);
    await play(d, timeline, BUCKETS);
    const cart = events(d).filter((e) => e.signal === signalOf('/cart'));
    expect(cart[0]?.state).toBe('OPEN');
    const resolved = cart.at(-1) as AnomalyEvent;
    expect(resolved.state).toBe('RESOLVED');
    expect(resolved.id).toBe(cart[0]?.id);
    // A gap, not a value: resolved by eviction after staleSeriesMs without a point.
    expect(Number.isNaN(resolved.actual_value)).toBe(true);
    expect(resolved.timestamp - 44 * B).toBeGreaterThanOrEqual(100_000);
    expect(events(d).filter((e) => e.signal === signalOf('/pay'))).toEqual([]);
  });

  it('gives the same events when evaluate restarts between the last point and the eviction, at any bucket', async () => {
    const reference = driver(config);
    await play(reference, timeline, BUCKETS);
    const want = events(reference);
    expect(want.some((e) => e.state === 'RESOLVED')).toBe(true);
    // Restarts after the last point, in the middle of the stale time, and one just before the eviction.
    for (const restarts of [[44], [45, 47], [46, 51, 53], [50, 52, 54, 56]]) {
      const restarted = driver(config);
      await play(restarted, timeline, BUCKETS, restarts);
      expect(events(restarted), `restarts after buckets ${restarts.join(', ')}`).toEqual(want);
    }
  });
});

describe('Anomaly stage: heartbeat of an open event', () => {
  // closeBelow 0: after the spike the event stays open silently (scores between 0 and openAbove).
  const config = parseAnomalyStageConfig({ metrics: ['p95'], detector: { minHistory: 10 }, events: { openAbove: 0.5, closeBelow: 0, closeAfter: 3 } });
  const timeline: Timeline = (k) => [{ route: '/cart', slow: k >= 40 && k < 44 }];
  const BUCKETS = 40 + 2 * (openStateHeartbeatMs / B) + 5;

  it('repeats the open event as UPDATE every heartbeat of data time while nothing else is said about it', async () => {
    const d = driver(config);
    await play(d, timeline, BUCKETS);
    const all = events(d);
    const open = all[0] as AnomalyEvent;
    expect(open.state).toBe('OPEN');
    expect(all.every((e) => e.id === open.id && e.state !== 'RESOLVED')).toBe(true);
    // The last event of any kind before each multiple of the heartbeat is at most one heartbeat old.
    const times = all.map((e) => e.timestamp);
    for (let t = open.started_at + openStateHeartbeatMs; t <= (BUCKETS - 1) * B; t += openStateHeartbeatMs) {
      const last = Math.max(...times.filter((x) => x <= t));
      expect(t - last, `at ${t}`).toBeLessThan(openStateHeartbeatMs);
    }
    expect(all.filter((e) => e.timestamp === open.started_at + openStateHeartbeatMs)).toHaveLength(1);
  });

  it('repeats at the same points when evaluate restarts', async () => {
    const reference = driver(config);
    await play(reference, timeline, BUCKETS);
    const restarted = driver(config);
    await play(restarted, timeline, BUCKETS, [45, 69, 70, 71, 100]);
    expect(events(restarted)).toEqual(events(reference));
  });
});
