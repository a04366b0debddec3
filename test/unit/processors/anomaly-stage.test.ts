import { describe, expect, it } from 'vitest';
import { AnomalyStage } from '../../../processors/anomaly/anomaly-stage.js';
import { BandBoard, signalMatcher } from '../../../processors/anomaly/bands.js';
import { parseAnomalyStageConfig } from '../../../processors/anomaly/config.js';
import type { AnomalyStageConfig } from '../../../processors/anomaly/config.js';
import { DetectorBank, DetectorResult } from '../../../processors/anomaly/detector-bank.js';
import { EventTracker, EventTransition } from '../../../processors/anomaly/event-tracker.js';
import { EvaluateProcessor } from '../../../processors/evaluate/evaluate-processor.js';
import { createTelemetry } from '../../../runtime/telemetry.js';
import { TopologyTestDriver } from '../../../runtime/testing/topology-test-driver.js';
import { anomalySerde } from '../../../schemas/anomalies.js';
import type { AnomalyEvent } from '../../../schemas/anomalies.js';
import { measurementSerde, signalSerde } from '../../../schemas/index.js';

/** A partial and the WATERMARK that follows it in ingest's transaction (only WATERMARKs close buckets). */
function closing(partialRecord: Buffer): Buffer[] {
  const p = signalSerde.deserialize(partialRecord);
  return [
    partialRecord,
    signalSerde.serialize({ ...p, kind: 'WATERMARK', signal: '', rule: '', dimensions: {}, count: 0, errors: 0, statusClasses: [], sum: 0, bounds: [], bucketCounts: [], series: 0, bucketStartMs: p.watermarkMs }),
  ];
}

const B = 10_000;
const BOUNDS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const SIGNAL = 'http{service.name="shop",http.route="/cart"}';

/** A closed-bucket partial of 200 requests; `slow` moves most of them to the 1-2.5 s bucket. */
function partial(k: number, slow: boolean): Buffer {
  const jitter = (k * 7) % 5;
  const counts = slow ? [10, 10, 10, 10, 10, 20, 130, 0] : [40, 90, 50 - jitter, 12 + jitter, 6, 2, 0, 0];
  const count = counts.reduce((a, b) => a + b, 0);
  return signalSerde.serialize({
    kind: 'PARTIAL', sourcePartition: 0, watermarkMs: (k + 1) * B, idle: false, signal: SIGNAL, rule: 'http',
    dimensions: { 'service.name': 'shop', 'http.route': '/cart' }, bucketStartMs: k * B, bucketMs: B, count, errors: 1 + (k % 3),
    statusClasses: [0, count - 1 - (k % 3), 0, 0, 0, 1 + (k % 3)], sum: count * 0.06, min: Number.NaN, max: Number.NaN, bounds: BOUNDS, bucketCounts: counts, series: 1,
  });
}

const config: AnomalyStageConfig = parseAnomalyStageConfig({ metrics: ['rate', 'errorRatio', 'p95'], detector: { minHistory: 10 } });

function driver(bands?: BandBoard): TopologyTestDriver {
  return new TopologyTestDriver({ name: 'evaluate', inputTopic: 'aiops.signals.v1', factory: () => new EvaluateProcessor({ emitValues: false, consumers: () => [new AnomalyStage(config, bands)] }) });
}

/** 40 normal buckets, 4 slow ones, 40 normal ones; a closed bucket per record (the watermark passes it). */
const timeline = Array.from({ length: 84 }, (_, k) => partial(k, k >= 40 && k < 44));

function events(d: TopologyTestDriver): AnomalyEvent[] {
  return d.outputs('aiops.anomalies.v1').map((r) => anomalySerde.deserialize(r.value as Buffer));
}

describe('AnomalyStage in evaluate', () => {
  it('opens one p95 event on a latency spike and resolves it after recovery, keyed by signal, with one id', async () => {
    const d = driver();
    for (const record of timeline) await d.pipe(0, closing(record));
    const all = events(d);
    const p95 = all.filter((e) => e.metric === 'http.p95');
    expect(p95.map((e) => e.state)).toEqual(['OPEN', ...p95.slice(1, -1).map(() => 'UPDATE'), 'RESOLVED']);
    const [open, resolved] = [p95[0] as AnomalyEvent, p95.at(-1) as AnomalyEvent];
    // The spike starts at bucket 40; the event opens once it has lasted two buckets (events.confirmPoints).
    expect(open.timestamp).toBe(41 * B);
    expect(open.started_at).toBe(41 * B);
    expect(open.actual_value).toBeGreaterThan(1);
    expect(open.actual_value).toBeGreaterThan(open.upper);
    expect(open.expected_value).toBeLessThan(0.25);
    expect(open.score).toBeGreaterThanOrEqual(0.5);
    expect(open.mode).toBe('warmup');
    expect(open.detector).not.toBe('none');
    expect(open.context).toEqual({ service: 'shop', endpoint: '/cart', dimensions: { 'service.name': 'shop', 'http.route': '/cart' } });
    expect(resolved.timestamp).toBeGreaterThanOrEqual(44 * B);
    expect(new Set(p95.map((e) => e.id)).size).toBe(1);
    expect(new Set(d.outputs('aiops.anomalies.v1').map((r) => String(r.key)))).toEqual(new Set([SIGNAL]));
    // The steady rate and the cycling error ratio raise nothing.
    expect(all.filter((e) => e.metric !== 'http.p95')).toEqual([]);
    // Every point of the watched signal is also a measurement, the open one with its band.
    const points = d.outputs('aiops.measurements.v1').map((r) => measurementSerde.deserialize(r.value as Buffer));
    expect(points).toHaveLength(timeline.length * 3);
    const atOpen = points.find((m) => m.tags.metric === 'http.p95' && m.timestamp === open.timestamp);
    expect(atOpen?.tags).toEqual({ signal: SIGNAL, metric: 'http.p95', service: 'shop', endpoint: '/cart' });
    expect(atOpen?.fields).toMatchObject({ actual: open.actual_value, expected: open.expected_value, lower: open.lower, upper: open.upper });
    // The event carries the score of the run's best point, the spike's first bucket.
    const first = points.find((m) => m.tags.metric === 'http.p95' && m.timestamp === 40 * B);
    expect(first?.fields.score).toBe(open.score);
  });

  it('resumes models and open events from the changelog: a restart mid-incident gives the same events', async () => {
    const reference = driver();
    for (const record of timeline) await reference.pipe(0, closing(record));
    const restarted = driver();
    for (const [k, record] of timeline.entries()) {
      await restarted.pipe(0, closing(record));
      if (k === 20 || k === 41 || k === 45) await restarted.restart(0);
    }
    expect(events(restarted)).toEqual(events(reference));
    expect(restarted.changelogBytes(0)).toBeGreaterThan(3 * new DetectorBank(config.detector).slotStateBytes);
  });

  it('exports the band of watched signals and leaves out the others', async () => {
    const bands = new BandBoard(['http{service.name="shop"*'], 10);
    const d = driver(bands);
    for (const record of timeline.slice(0, 30)) await d.pipe(0, closing(record));
    const band = bands.get(`${SIGNAL}|p95`);
    expect(band?.attributes).toEqual({ signal: SIGNAL, metric: 'http.p95', service: 'shop', endpoint: '/cart' });
    expect(band?.lower).toBeLessThan(band?.expected as number);
    expect(band?.upper).toBeGreaterThan(band?.expected as number);
    expect(bands.size).toBe(3);
    // As Prometheus scrapes them from the process's /metrics.
    const telemetry = createTelemetry('evaluate', async () => ({ counters: {}, lag: {}, stateBytes: 0, stateEntries: 0, partitions: [] }) as never);
    bands.register(telemetry.meter);
    const text = await telemetry.render();
    const line = text.split('\n').find((l) => l.startsWith('aiops_anomaly_upper{') && l.includes('metric="http.p95"'));
    expect(line).toContain('service="shop"');
    expect(line).toContain('endpoint="/cart"');
    expect(Number(line?.split(' ').at(-1))).toBeCloseTo(band?.upper as number, 6);
    for (const name of ['expected', 'lower', 'actual', 'score']) expect(text).toContain(`aiops_anomaly_${name}{`);
    await telemetry.shutdown();
    await d.close();
    expect(bands.size).toBe(0);
    expect(new BandBoard(['http{service.name="other"*'], 10).watches(SIGNAL)).toBe(false);
  });
});

describe('signalMatcher', () => {
  it('matches globs over the whole key', () => {
    const m = signalMatcher(['http{service.name="a"*', 'db.*']);
    expect(m('http{service.name="a",http.route="/"}')).toBe(true);
    expect(m('http{service.name="ab"}')).toBe(false);
    expect(m('db.calls')).toBe(true);
    expect(m('xdb.calls')).toBe(false);
    expect(signalMatcher([])('x')).toBe(false);
  });
});

describe('slot state', () => {
  it('round-trips a detector slot and an event slot exactly', () => {
    const a = new DetectorBank();
    const b = new DetectorBank();
    const ra = new DetectorResult();
    const rb = new DetectorResult();
    const slot = a.allocate();
    for (let i = 0; i < 500; i++) a.update(slot, i * 300_000, 10 + Math.sin(i / 12) + (i % 17 === 0 ? 8 : 0), ra);
    const bytes = Buffer.alloc(a.slotStateBytes);
    expect(a.writeSlot(slot, bytes)).toBe(a.slotStateBytes);
    b.allocate();
    const other = b.allocate();
    expect(b.readSlot(other, bytes)).toBe(a.slotStateBytes);
    for (let i = 500; i < 900; i++) {
      const v = 10 + Math.sin(i / 12) + (i % 23 === 0 ? 6 : 0);
      a.update(slot, i * 300_000, v, ra);
      b.update(other, i * 300_000, v, rb);
      expect(rb).toEqual(ra);
    }
    const t = new EventTracker();
    const u = new EventTracker();
    const out = new EventTransition();
    t.observe(3, 1_000, 0.9, out);
    const e = Buffer.alloc(EventTracker.slotStateBytes);
    t.writeSlot(3, e);
    u.readSlot(0, e);
    expect(u.isOpen(0)).toBe(true);
    expect(u.peakScore(0)).toBe(0.9);
    expect(u.observe(0, 2_000, 0.95, out)).toBe(true);
    expect(out).toMatchObject({ state: 'update', startedMs: 1_000, points: 2, sequence: 1 });
  });

  it('rejects a configuration with the problems named under anomaly.', () => {
    expect(() => parseAnomalyStageConfig({ metrics: ['p42'], detector: { seasonSlots: 7 }, events: { openAbove: 0.2, closeBelow: 0.4 } })).toThrow(/anomaly\.metrics\.0[\s\S]*anomaly\.detector\.seasonSlots/);
    expect(() => parseAnomalyStageConfig({ events: { openAbove: 0.2, closeBelow: 0.4 } })).toThrow(/anomaly\.events\.closeBelow/);
  });
});
