import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka, Message, ProducerRecord } from 'kafkajs';
import { describe, expect, it, vi } from 'vitest';
import { nabLayout, parseNabCsv, scoreCorpus } from '../../../processors/anomaly/nab/index.js';
import type { NabFile } from '../../../processors/anomaly/nab/index.js';
import { signalKey } from '../../../processors/ingest/signal-keys.js';
import {
  DAY_MS,
  Pacer,
  encodeNabRecord,
  nabNameOf,
  parseSpeedup,
  planNabReplay,
  replayNab,
  replayTimes,
  runReplay,
  scoreMeasurements,
} from '../../../producers/replay/index.js';
import type { NabReplayInput } from '../../../producers/replay/index.js';
import { ManualClock } from '../../../runtime/clock.js';
import { decodeMetricsRequest } from '../../../runtime/otlp/index.js';
import type { NumberPoint } from '../../../runtime/otlp/index.js';
import type { Measurement } from '../../../schemas/measurements.js';

const MIN = 60_000;

function series(name: string, rows: [string, number][]): NabReplayInput {
  return { name, series: parseNabCsv(['timestamp,value', ...rows.map(([t, v]) => `${t},${v}`)].join('\n')) };
}

const a = series('cat/a.csv', [
  ['2014-04-01 10:00:00', 1],
  ['2014-04-01 10:05:00', 2],
  ['2014-04-01 10:05:00', 3],
  ['2014-04-01 10:10:00', 4],
]);
const b = series('other/b.csv', [
  ['2011-07-03 09:05:00', 10],
  ['2011-07-03 10:05:00', 11],
  ['2011-07-04 10:05:01', 12],
]);

describe('planNabReplay', () => {
  it('moves every file by whole days onto one start day, keeping time of day', () => {
    const plan = planNabReplay([a, b]);
    expect(plan.startDayMs).toBe(Date.UTC(2011, 6, 3));
    for (const f of plan.files) {
      expect(Number.isInteger(f.shiftMs / DAY_MS)).toBe(true);
      expect(Math.floor(f.firstMs / DAY_MS) * DAY_MS).toBe(plan.startDayMs);
    }
    expect(plan.shifts['other/b.csv']).toBe(0);
    expect(plan.shifts['cat/a.csv']).toBe(Date.UTC(2011, 6, 3) - Date.UTC(2014, 3, 1));
    expect(plan.files[0]).toMatchObject({ name: 'cat/a.csv', rows: 4, shiftDays: -1003, nudged: 1, maxNudgeMs: 1_000 });
    // The time of day of a's first row is kept.
    expect(new Date(plan.files[0]?.firstMs as number).toISOString()).toBe('2011-07-03T10:00:00.000Z');
  });

  it('merges rows by time into one record per time, nudging a duplicate to the next free second', () => {
    const plan = planNabReplay([a, b]);
    const records = [...plan.recordTimes].map((t, k) => ({
      at: new Date(t).toISOString().slice(11, 19),
      points: Array.from({ length: (plan.recordStart[k + 1] as number) - (plan.recordStart[k] as number) }, (_, j) => {
        const i = (plan.recordStart[k] as number) + j;
        return `${plan.fileOf[i]}:${plan.rowOf[i]}`;
      }),
    }));
    expect(records.slice(0, 5)).toEqual([
      { at: '09:05:00', points: ['1:0'] },
      { at: '10:00:00', points: ['0:0'] },
      { at: '10:05:00', points: ['0:1', '1:1'] },
      { at: '10:05:01', points: ['0:2'] },
      { at: '10:10:00', points: ['0:3'] },
    ]);
    expect(records).toHaveLength(6);
    expect(plan.rows).toBe(7);
    expect(plan.nudged).toBe(1);
    expect(plan.expectedMeasurements).toBe(7);
    expect([...plan.recordTimes]).toEqual([...plan.recordTimes].sort((x, y) => x - y));
  });

  it('starts on a chosen day and counts rows that are not numbers', () => {
    const c = series('c/c.csv', [
      ['2020-01-01 00:00:00', Number.NaN],
      ['2020-01-01 00:01:00', 1],
    ]);
    const plan = planNabReplay([c], { startDayMs: Date.UTC(2026, 0, 5, 13) });
    expect(plan.startDayMs).toBe(Date.UTC(2026, 0, 5));
    expect(plan.files[0]?.firstMs).toBe(Date.UTC(2026, 0, 5));
    expect(plan.nonFinite).toBe(1);
    expect(plan.expectedMeasurements).toBe(1);
  });

  it('rejects a file listed twice and a bucket that does not divide a day', () => {
    expect(() => planNabReplay([a, a])).toThrow(/listed twice/);
    expect(() => planNabReplay([a], { bucketMs: 7_000 })).toThrow(/divide a day/);
  });
});

describe('replayTimes', () => {
  it('keeps every row in a bucket of its own, in file order', () => {
    const t = [0, 0, 0, 1_000, 5_000, 4_000, 4_500];
    const r = replayTimes(t, 0, 1_000);
    expect([...r.times]).toEqual([0, 1_000, 2_000, 3_000, 5_000, 6_000, 7_000]);
    expect(r.nudged).toBe(5);
    expect(r.maxNudgeMs).toBe(2_500);
    // Sub-bucket times keep their offset unless moved.
    expect([...replayTimes([10_250, 12_400, 12_900], DAY_MS, 1_000).times]).toEqual([DAY_MS + 10_250, DAY_MS + 12_400, DAY_MS + 13_000]);
  });
});

describe('NAB records as OTLP', () => {
  it('encodes one gauge nab.value of service.name=nab with a point per file', () => {
    const t = Date.UTC(2011, 6, 1, 0, 0, 1);
    const request = decodeMetricsRequest(
      encodeNabRecord(t, [
        { file: 'realAdExchange/exchange-2_cpc_results.csv', value: 0.081 },
        { file: 'x/y.csv', value: -3 },
      ]),
    );
    expect(request.resourceMetrics).toHaveLength(1);
    const rm = request.resourceMetrics[0];
    expect(rm?.resource).toEqual({ 'service.name': 'nab' });
    const metric = rm?.scopeMetrics[0]?.metrics[0];
    expect(metric).toMatchObject({ name: 'nab.value', unit: '1', kind: 'gauge' });
    expect(metric?.points.map((p) => [p.attributes['nab.file'], p.timeMs, (p as { value: number }).value])).toEqual([
      ['realAdExchange/exchange-2_cpc_results.csv', t, 0.081],
      ['x/y.csv', t, -3],
    ]);
  });

  it('names a CSV path by its folder and file', () => {
    expect(nabNameOf('/data/nab/data/realTraffic/speed_7578.csv')).toBe('realTraffic/speed_7578.csv');
    expect(nabNameOf('speed.csv')).toBe('speed.csv');
  });
});

describe('Pacer', () => {
  it('runs data time speedup times faster than wall time from the first record', async () => {
    const clock = new ManualClock(1_000);
    const slept: number[] = [];
    const pacer = new Pacer(60, clock, async (ms) => {
      slept.push(ms);
      clock.advance(ms);
    });
    expect(pacer.delayFor(0)).toBe(0); // anchors
    expect(pacer.delayFor(60_000)).toBe(1_000);
    clock.advance(400);
    expect(pacer.delayFor(60_000)).toBe(600);
    expect(await pacer.waitFor(300_000, { stepMs: 1_000 })).toBe(4_600);
    expect(slept).toEqual([1_000, 1_000, 1_000, 1_000, 600]);
    expect(pacer.delayFor(0)).toBe(0);
  });

  it('never waits at max and parses --speedup', async () => {
    const pause = vi.fn(async () => undefined);
    const pacer = new Pacer('max', new ManualClock(), pause);
    expect(pacer.delayFor(0)).toBe(0);
    expect(await pacer.waitFor(1e12)).toBe(0);
    expect(pause).not.toHaveBeenCalled();
    expect(parseSpeedup('max')).toBe('max');
    expect(parseSpeedup('60')).toBe(60);
    expect(parseSpeedup('0.5')).toBe(0.5);
    expect(() => parseSpeedup('0')).toThrow(/positive/);
    expect(() => parseSpeedup('fast')).toThrow(/positive/);
  });
});

/** A kafkajs stand-in that keeps what producers send. */
function fakeKafka(): { kafka: Kafka; sent: ProducerRecord[] } {
  const sent: ProducerRecord[] = [];
  const producer = { connect: async () => undefined, disconnect: async () => undefined, send: async (r: ProducerRecord) => void sent.push(r) };
  return { kafka: { producer: () => producer } as unknown as Kafka, sent };
}

describe('replayNab', () => {
  it('writes one record per time, all with one key, in time order', async () => {
    const { kafka, sent } = fakeKafka();
    const r = await replayNab(kafka, { topic: 't', source: { files: [a, b] }, speedup: 'max', batchRecords: 4 });
    expect(sent.map((s) => s.messages.length)).toEqual([4, 2]);
    const messages = sent.flatMap((s) => s.messages) as Message[];
    expect(new Set(messages.map((m) => String(m.key)))).toEqual(new Set(['nab']));
    const times = messages.map((m) => decodeMetricsRequest(m.value as Buffer).resourceMetrics[0]?.scopeMetrics[0]?.metrics[0]?.points.map((p) => p.timeMs) ?? []);
    expect(times.map((t) => new Set(t).size)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(times.flat()).toHaveLength(7);
    expect(r).toMatchObject({ rows: 7, records: 6, nudged: 1, topic: 't' });
    expect(r.shifts).toEqual(r.plan.shifts);
  });

  it('is driven by aiops replay --csv', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aiops-replay-'));
    mkdirSync(join(dir, 'cat'));
    writeFileSync(join(dir, 'cat', 'one.csv'), 'timestamp,value\n2015-01-01 00:00:00,1\n2015-01-01 00:05:00,2\n');
    writeFileSync(join(dir, 'cat', 'two.csv'), 'timestamp,value\n2016-02-02 00:00:00,5\n');
    const { kafka, sent } = fakeKafka();
    const brokers: string[][] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const code = await runReplay(['--csv', join(dir, 'cat', 'one.csv'), join(dir, 'cat', 'two.csv'), '--topic', 'dest', '--brokers', 'h:1,h:2', '--plan-out', join(dir, 'plan.json')], (b) => {
        brokers.push(b);
        return kafka;
      });
      expect(code).toBe(0);
    } finally {
      write.mockRestore();
    }
    expect(brokers).toEqual([['h:1', 'h:2']]);
    expect(sent.every((s) => s.topic === 'dest')).toBe(true);
    const points = sent.flatMap((s) => s.messages).flatMap((m) => (decodeMetricsRequest(m.value as Buffer).resourceMetrics[0]?.scopeMetrics[0]?.metrics[0]?.points ?? []) as NumberPoint[]);
    expect(points.map((p) => [p.attributes['nab.file'], new Date(p.timeMs).toISOString()])).toEqual([
      ['cat/one.csv', '2015-01-01T00:00:00.000Z'],
      ['cat/two.csv', '2015-01-01T00:00:00.000Z'],
      ['cat/one.csv', '2015-01-01T00:05:00.000Z'],
    ]);
  });

  it('rejects a command line without exactly one source or with a bad speed-up', async () => {
    const never = (): Kafka => {
      throw new Error('no Kafka expected');
    };
    await expect(runReplay([], never)).rejects.toThrow(/choose one source/);
    await expect(runReplay(['--nab', 'x', '--from-topic', 'y'], never)).rejects.toThrow(/choose one source/);
    await expect(runReplay(['--from-topic', 'y', '--speedup', 'soon'], never)).rejects.toThrow(/speedup/);
    await expect(runReplay(['--from-topic', 'otlp_metrics'], never)).rejects.toThrow(/must differ/);
    await expect(runReplay(['--nab', 'x', '--bucket-ms', '7000'], never)).rejects.toThrow(/bucket-ms/);
  });
});

describe('scoreMeasurements', () => {
  const rows = 40;
  const ts = Float64Array.from({ length: rows }, (_, i) => Date.UTC(2014, 3, 1) + i * 5 * MIN);
  ts[11] = ts[10] as number; // a duplicate timestamp
  const file: NabFile = {
    name: 'cat/f.csv',
    series: { stamps: [], timestamps: ts, values: new Float64Array(rows) },
    windows: [{ startMs: ts[30] as number, endMs: ts[34] as number }],
  };
  const shift = -10 * DAY_MS;
  const signal = signalKey('nab', { 'nab.file': 'cat/f.csv' });
  const point = (timestamp: number, detection: number, extra: Partial<Measurement> = {}): Measurement => ({
    measurement: 'anomaly', timestamp, tags: { signal, metric: 'nab.mean', service: '', endpoint: '' }, fields: { detection, score: 0 }, ...extra,
  });
  const want = new Float64Array(rows);
  want[32] = 0.9;
  want[20] = 0.6;
  const { times } = replayTimes(ts, shift);

  it('lays each point on its row by the replay timing and scores like the backtest', () => {
    const ms = [...times].map((t, i) => point(t, want[i] as number)).reverse();
    ms.push(point(times[5] as number, 0.1, { tags: { signal, metric: 'nab.max', service: '', endpoint: '' } }));
    ms.push(point(times[5] as number, 0.1, { tags: { signal: signalKey('nab', { 'nab.file': 'cat/other.csv' }), metric: 'nab.mean', service: '', endpoint: '' } }));
    ms.push(point(times[5] as number, 0.1, { measurement: 'slo' }));
    const r = scoreMeasurements(ms, { files: [file], timing: { shifts: { 'cat/f.csv': shift } } });
    expect([...(r.files[0]?.scores ?? [])]).toEqual([...want]);
    expect(r).toMatchObject({ measurements: rows, ignored: 3, matched: rows, missing: 0, unexpected: 0, duplicates: 0 });
    expect(r.corpus).toEqual(scoreCorpus([{ layout: nabLayout(file.name, ts, file.windows), scores: want }], 0.5));
    expect(r.corpus.detectedWindows).toBe(1);
    expect(r.corpus.falsePositives).toBe(1);
  });

  it('counts missing, unexpected and repeated points', () => {
    const ms = [...times].map((t, i) => point(t, want[i] as number)).filter((_, i) => i !== 3);
    ms.push(point((times[7] as number) + 500, 1), point(times[32] as number, 0.2));
    const r = scoreMeasurements(ms, { files: [file], timing: { shifts: { 'cat/f.csv': shift } } });
    expect(r).toMatchObject({ matched: rows - 1, missing: 1, unexpected: 1, duplicates: 1 });
    expect(Number.isNaN(r.files[0]?.scores[3] as number)).toBe(true);
    expect(r.files[0]?.scores[32]).toBe(0.2); // the last one read wins
  });

  it('without the timing, takes a file’s points in time order as its rows', () => {
    const ms = [...times].map((t, i) => point(t, want[i] as number)).reverse();
    const r = scoreMeasurements(ms, { files: [file] });
    expect([...(r.files[0]?.scores ?? [])]).toEqual([...want]);
    expect(r).toMatchObject({ matched: rows, missing: 0, unexpected: 0 });
  });
});
