import { describe, expect, it } from 'vitest';
import { EvaluateProcessor } from '../../../processors/evaluate/evaluate-processor.js';
import { isSloHeartbeat, openStateHeartbeatMs } from '../../../processors/evaluate/heartbeat.js';
import { SloBoard, SloStage, periodLabel } from '../../../processors/slo/slo-stage.js';
import { parseSloFiles } from '../../../processors/slo/spec.js';
import { TopologyTestDriver } from '../../../runtime/testing/topology-test-driver.js';
import { measurementSerde, signalSerde } from '../../../schemas/index.js';
import { sloEventId, sloEventSerde } from '../../../schemas/slo.js';
import type { SloEvent } from '../../../schemas/slo.js';

/** A partial and the WATERMARK that follows it in ingest's transaction (only WATERMARKs close buckets). */
function closing(partialRecord: Buffer): Buffer[] {
  const p = signalSerde.deserialize(partialRecord);
  return [
    partialRecord,
    signalSerde.serialize({ ...p, kind: 'WATERMARK', signal: '', rule: '', dimensions: {}, count: 0, errors: 0, statusClasses: [], sum: 0, bounds: [], bucketCounts: [], series: 0, bucketStartMs: p.watermarkMs }),
  ];
}

const B = 10_000;
const T0 = Date.UTC(2026, 10, 1);
const [availability] = parseSloFiles([new URL('../../fixtures/slo/checkout-availability.openslo.yaml', import.meta.url).pathname]);
const SLO = 'checkout-requests-availability';

/** One closed bucket of the SLO's signal: `count` requests of which `errors` are 5xx. */
function bucket(k: number, count: number, errors: number): Buffer {
  return signalSerde.serialize({
    kind: 'PARTIAL', sourcePartition: 0, watermarkMs: T0 + (k + 1) * B, idle: false, signal: `slo.${SLO}{service.name="checkout"}`, rule: `slo.${SLO}`,
    dimensions: { 'service.name': 'checkout' }, bucketStartMs: T0 + k * B, bucketMs: B, count, errors, statusClasses: [0, count - errors, 0, 0, errors, 0],
    sum: count * 0.05, min: Number.NaN, max: Number.NaN, bounds: [], bucketCounts: [], series: 1,
  });
}

function watermark(k: number): Buffer {
  return signalSerde.serialize({
    kind: 'WATERMARK', sourcePartition: 0, watermarkMs: T0 + k * B, idle: false, signal: '', rule: '', dimensions: {}, bucketStartMs: T0 + k * B, bucketMs: B,
    count: 0, errors: 0, statusClasses: [], sum: 0, min: Number.NaN, max: Number.NaN, bounds: [], bucketCounts: [], series: 0,
  });
}

function driver(board?: SloBoard): TopologyTestDriver {
  if (!availability) throw new Error('fixture did not parse');
  const slos = [availability];
  return new TopologyTestDriver({ name: 'evaluate', inputTopic: 'aiops.signals.v1', factory: () => new EvaluateProcessor({ emitValues: false, consumers: () => [new SloStage(slos, board ? { board } : {})] }) });
}

function events(d: TopologyTestDriver): SloEvent[] {
  return d.outputs('aiops.slo.v1').map((r) => sloEventSerde.deserialize(r.value as Buffer));
}

/** 30 minutes clean, then `errorBuckets` of 100% errors, then clean again until `end`. */
const CLEAN = 180;
const ERRORS = 6;
const timeline = (end: number): Buffer[] => Array.from({ length: end }, (_, k) => bucket(k, 100, k >= CLEAN && k < CLEAN + ERRORS ? 100 : 0));

describe('SloStage in evaluate', () => {
  it('repeats a firing tier’s FIRING (same id) every heartbeat of data time while it fires, for the sinks’ staleness', async () => {
    const d = driver();
    for (const r of timeline(CLEAN + 240)) await d.pipe(0, closing(r));
    const page = events(d).filter((e) => e.tier === 'page');
    const [firing] = page as [SloEvent];
    const resolved = page.find((e) => e.state === 'RESOLVED') as SloEvent;
    const beats = page.filter(isSloHeartbeat);
    expect(beats.length).toBe(Math.floor((resolved.timestamp - firing.timestamp - 1) / openStateHeartbeatMs));
    beats.forEach((b, i) => {
      expect(b.id).toBe(firing.id);
      expect(b.started_at).toBe(firing.started_at);
      expect(b.timestamp - firing.timestamp).toBe((i + 1) * openStateHeartbeatMs);
    });
    // Between heartbeats nothing repeats, and after the resolution none comes.
    expect(page.filter((e) => e.timestamp > resolved.timestamp)).toEqual([]);
  });

  it('fires the page tier when a rule holds over both its windows, and resolves when no page rule holds', async () => {
    const d = driver();
    for (const r of timeline(CLEAN + 240)) await d.pipe(0, closing(r));
    const page = events(d).filter((e) => e.tier === 'page' && !isSloHeartbeat(e));
    expect(page.map((e) => e.state)).toEqual(['FIRING', 'RESOLVED']);
    const [firing, resolved] = page as [SloEvent, SloEvent];
    // After k error buckets the 6h window holds 18,000 + 100k requests, 100k bad, and the 30m window
    // 18,000 requests, 100k bad: both reach 6 x 0.001 first at k = 2 (the 1h/5m pair at 14.4 needs k = 3).
    expect(firing.timestamp).toBe(T0 + (CLEAN + 2) * B);
    expect(firing.long_window_ms).toBe(6 * 3_600_000);
    expect(firing.short_window_ms).toBe(1_800_000);
    expect(firing.factor).toBeCloseTo(6, 12);
    expect(firing.long_burn_rate).toBeCloseTo(200 / 18_200 / 0.001, 9);
    expect(firing.short_burn_rate).toBeCloseTo(200 / 18_000 / 0.001, 9);
    // The 30m window needs two error buckets (200 of 18,000 = 1.1% >= 0.6%); one is 0.56%. The tier
    // resolves once the second-to-last error bucket has left it (the 5m window cleared long before).
    expect(resolved.timestamp).toBe(T0 + (CLEAN + ERRORS - 2) * B + 1_800_000 + B);
    expect(resolved.id).toBe(firing.id);
    expect(firing.id).toBe(sloEventId(SLO, 'page', firing.timestamp));
    expect(resolved.started_at).toBe(firing.timestamp);
    expect(firing).toMatchObject({ slo: SLO, service: 'checkout', sli: 'availability', objective: 0.999, period: '30d rolling', period_ms: 30 * 86_400_000 });
    expect(firing.labels).toMatchObject({ owner: 'payments-team', team: 'payments' });
    expect(firing.budget_remaining).toBeCloseTo(1 - 200 / (18_200 * 0.001), 9);
    expect(periodLabel(availability as NonNullable<typeof availability>)).toBe('30d rolling');
    // Each evaluated bucket is also a measurement of the SLO's windows and budget.
    const points = d.outputs('aiops.measurements.v1').map((r) => measurementSerde.deserialize(r.value as Buffer));
    expect(points).toHaveLength(CLEAN + 240);
    const atFiring = points.find((m) => m.timestamp === firing.timestamp);
    expect(atFiring?.tags).toEqual({ slo: SLO, service: 'checkout' });
    expect(atFiring?.fields.burn_rate_6h).toBeCloseTo(firing.long_burn_rate, 9);
    expect(atFiring?.fields.burn_rate_30m).toBeCloseTo(firing.short_burn_rate, 9);
    expect(atFiring?.fields.budget_remaining).toBeCloseTo(firing.budget_remaining, 9);
  });

  it('resumes from the changelog mid-incident with the same events', async () => {
    const reference = driver();
    for (const r of timeline(CLEAN + 240)) await reference.pipe(0, closing(r));
    const restarted = driver();
    for (const [k, r] of timeline(CLEAN + 240).entries()) {
      await restarted.pipe(0, closing(r));
      if (k === 100 || k === CLEAN + 4 || k === CLEAN + 20) await restarted.restart(0);
    }
    expect(events(restarted)).toEqual(events(reference));
    expect(events(reference).length).toBeGreaterThan(0);
  });

  it('moves time on with the watermark when the service goes quiet, so the alert resolves without traffic', async () => {
    const board = new SloBoard();
    const d = driver(board);
    for (const r of timeline(CLEAN + ERRORS)) await d.pipe(0, closing(r));
    expect(events(d).map((e) => `${e.tier}:${e.state}`)).toContain('page:FIRING');
    expect(board.get(SLO)?.firing.page).toBe(true);
    // No more requests: only watermarks, every bucket for the next 40 minutes.
    for (let k = CLEAN + ERRORS + 1; k <= CLEAN + ERRORS + 240; k++) await d.pipe(0, [watermark(k)]);
    expect(events(d).map((e) => `${e.tier}:${e.state}`)).toContain('page:RESOLVED');
    expect(board.get(SLO)?.firing.page).toBe(false);
    const fiveMinutes = board.get(SLO)?.snapshot.windows[0];
    expect(fiveMinutes?.total).toBe(0);
  });
});

const slicedSpec = `apiVersion: openslo/v1
kind: SLO
metadata: { name: sliced }
spec:
  service: checkout
  budgetingMethod: Timeslices
  indicator:
    metadata: { name: i }
    spec:
      ratioMetric:
        counter: true
        bad: { metricSource: { type: aiops, spec: { selector: { service.name: checkout }, status: 5.. } } }
        total: { metricSource: { type: aiops, spec: { selector: { service.name: checkout } } } }
  objectives: [{ target: 0.99, timeSliceTarget: 0.95, timeSliceWindow: 1m }]
`;

/** One closed bucket of the Timeslices SLO's signal. */
function sliced(k: number, count: number, errors: number): Buffer {
  return signalSerde.serialize({
    kind: 'PARTIAL', sourcePartition: 0, watermarkMs: T0 + (k + 1) * B, idle: false, signal: 'slo.sliced{service.name="checkout"}', rule: 'slo.sliced',
    dimensions: { 'service.name': 'checkout' }, bucketStartMs: T0 + k * B, bucketMs: B, count, errors, statusClasses: [0, count - errors, 0, 0, errors, 0],
    sum: 0, min: Number.NaN, max: Number.NaN, bounds: [], bucketCounts: [], series: 1,
  });
}

async function slicedDriver(board: SloBoard): Promise<TopologyTestDriver> {
  const { parseSloText } = await import('../../../processors/slo/spec.js');
  const [slo] = parseSloText(slicedSpec, 's.yaml');
  expect(slo).toMatchObject({ budgeting: 'Timeslices', timeslices: { windowMs: 60_000, target: 0.95 } });
  return new TopologyTestDriver({ name: 'evaluate', inputTopic: 'aiops.signals.v1', factory: () => new EvaluateProcessor({ emitValues: false, consumers: () => [new SloStage([slo as NonNullable<typeof slo>], { board })] }) });
}

describe('SloStage with Timeslices budgeting', () => {
  it('counts each 1-minute slice as one event, bad when under the slice target, and pages on bad slices', async () => {
    const name = 'sliced';
    const board = new SloBoard();
    const d = await slicedDriver(board);
    // 30 minutes at 3% errors: every slice reaches 95% good, so no slice is bad although
    // every bucket has errors (Occurrences would burn 3x the budget).
    for (let k = 0; k < 180; k++) await d.pipe(0, closing(sliced(k, 100, 3)));
    // The watermark at 30 minutes closes the 30th slice too.
    expect(board.get(name)?.snapshot.period.total).toBe(30);
    expect(board.get(name)?.snapshot.period.badEvents).toBe(0);
    // Then 20 minutes at 10% errors: every slice is bad, a burn rate of 100 over both page windows.
    for (let k = 180; k < 300; k++) await d.pipe(0, closing(sliced(k, 100, 10)));
    const snap = board.get(name)?.snapshot;
    expect(snap?.period.badEvents).toBe(20);
    const page = d.outputs('aiops.slo.v1').map((r) => sloEventSerde.deserialize(r.value as Buffer)).filter((e) => e.tier === 'page');
    expect(page[0]).toMatchObject({ state: 'FIRING', slo: name });
  });

  it('keeps the slice in progress across a restart: restored mid-slice, the same slices, budget and events as without one', async () => {
    // Each slice (6 buckets) is bad only through its first three buckets (30% errors, then none:
    // 85% good < 95%); a restart after them, mid-slice, must not forget them.
    const timeline = Array.from({ length: 300 }, (_, k) => sliced(k, 100, k >= 120 && k % 6 < 3 ? 30 : 0));
    const referenceBoard = new SloBoard();
    const reference = await slicedDriver(referenceBoard);
    for (const r of timeline) await reference.pipe(0, closing(r));
    const restartedBoard = new SloBoard();
    const restarted = await slicedDriver(restartedBoard);
    for (const [k, r] of timeline.entries()) {
      await restarted.pipe(0, closing(r));
      if (k % 6 === 3 && k >= 120 && k < 200) await restarted.restart(0);
    }
    const period = (b: SloBoard) => b.get('sliced')?.snapshot.period;
    expect(period(referenceBoard)?.badEvents).toBe(30);
    expect(period(restartedBoard)?.badEvents).toBe(period(referenceBoard)?.badEvents);
    expect(period(restartedBoard)?.total).toBe(period(referenceBoard)?.total);
    const sloEvents = (d: TopologyTestDriver) => d.outputs('aiops.slo.v1').map((r) => sloEventSerde.deserialize(r.value as Buffer));
    expect(sloEvents(reference).some((e) => e.tier === 'page' && e.state === 'FIRING')).toBe(true);
    expect(sloEvents(restarted)).toEqual(sloEvents(reference));
  });
});
