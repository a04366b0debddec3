import { describe, expect, it } from 'vitest';
import { DetectorBank, DetectorResult } from '../../../processors/anomaly/detector-bank.js';
import { defaultDetectorConfig, parseDetectorConfig } from '../../../processors/anomaly/config.js';
import { SeriesSlots } from '../../../processors/anomaly/series-slots.js';
import { EventTracker, EventTransition } from '../../../processors/anomaly/event-tracker.js';

const STEP = 5 * 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2024, 0, 1);

/** Deterministic noise in [-0.5, 0.5). */
function noise(i: number): number {
  const x = Math.sin(i * 12.9898 + 78.233) * 43758.5453;
  return x - Math.floor(x) - 0.5;
}

/** Roughly normal deterministic noise (sum of four uniforms, sd about 0.58). */
function bell(i: number): number {
  return noise(i) + noise(i + 100_000) + noise(i + 200_000) + noise(i + 300_000);
}

/** A daily pattern (amplitude 20 around 100) plus small noise, one point every 5 minutes. */
function seasonal(i: number): number {
  const phase = ((i * STEP) % DAY) / DAY;
  return 100 + 20 * Math.sin(2 * Math.PI * phase) + 0.5 * noise(i);
}

describe('DetectorBank', () => {
  it('learns a clean seasonal signal: warm-up for one season, then expected close to actual', () => {
    const bank = new DetectorBank();
    const slot = bank.allocate();
    const out = new DetectorResult();
    const perDay = DAY / STEP;
    const modes: string[] = [];
    let worst = 0;
    for (let i = 0; i < 4 * perDay; i++) {
      const v = seasonal(i);
      bank.update(slot, T0 + i * STEP, v, out);
      modes.push(out.mode);
      if (i >= 2 * perDay) {
        worst = Math.max(worst, Math.abs(out.expected - v));
        expect(out.lower).toBeLessThanOrEqual(out.expected);
        expect(out.upper).toBeGreaterThanOrEqual(out.expected);
      }
    }
    expect(modes[10]).toBe('warmup');
    expect(modes[perDay - 1]).toBe('warmup');
    expect(modes[perDay + 1]).toBe('seasonal');
    expect(worst).toBeLessThan(2); // amplitude 20, noise +-0.25
  });

  it('flags an injected spike above the threshold and the event resolves afterwards', () => {
    const bank = new DetectorBank();
    const slot = bank.allocate();
    const out = new DetectorResult();
    const tracker = new EventTracker({ openAbove: 0.5, closeBelow: 0.3, closeAfter: 3 });
    const transition = new EventTransition();
    const spikeAt = 3 * (DAY / STEP) + 100;
    const states: string[] = [];
    let spikeScore = 0;
    let maxBefore = 0;
    for (let i = 0; i < spikeAt + 50; i++) {
      const v = seasonal(i) + (i === spikeAt ? 60 : 0);
      bank.update(slot, T0 + i * STEP, v, out);
      if (i === spikeAt) {
        spikeScore = out.score;
        expect(out.detector).not.toBe('none');
        expect(out.severity).not.toBe('none');
        expect(out.upper).toBeLessThan(v);
      } else if (i > 2 * (DAY / STEP) && i < spikeAt) maxBefore = Math.max(maxBefore, out.score);
      if (tracker.observe(slot, T0 + i * STEP, out.rawScore, transition)) states.push(`${transition.state}@${i}`);
    }
    expect(spikeScore).toBeGreaterThanOrEqual(0.5);
    expect(maxBefore).toBeLessThan(0.5);
    expect(states[0]).toBe(`open@${spikeAt}`);
    expect(states.at(-1)?.startsWith('resolved@')).toBe(true);
    expect(tracker.isOpen(slot)).toBe(false);
  });

  it('does not move level or trend over gaps (NaN values or missing time)', () => {
    const bank = new DetectorBank();
    const slot = bank.allocate();
    const out = new DetectorResult();
    let i = 0;
    for (; i < 2 * (DAY / STEP); i++) bank.update(slot, T0 + i * STEP, seasonal(i) + 0.01 * i, out);
    const before = bank.inspect(slot);
    expect(before.mode).toBe('seasonal');
    bank.update(slot, T0 + i * STEP, Number.NaN, out);
    expect(out.mode).toBe('gap');
    expect(out.score).toBe(0);
    const afterNaN = bank.inspect(slot);
    expect(afterNaN.level).toBe(before.level);
    expect(afterNaN.trend).toBe(before.trend);
    expect(afterNaN.count).toBe(before.count);
    // Six hours missing: the first point after the gap does not update level or trend.
    const late = i + 72;
    bank.update(slot, T0 + late * STEP, seasonal(late) + 5, out);
    const afterGap = bank.inspect(slot);
    expect(afterGap.level).toBe(before.level);
    expect(afterGap.trend).toBe(before.trend);
    expect(out.mode).toBe('seasonal');
    // The next regular point does.
    bank.update(slot, T0 + (late + 1) * STEP, seasonal(late + 1) + 5, out);
    expect(bank.inspect(slot).level).not.toBe(before.level);
  });

  it('reports warm-up mode from robust statistics and scores nothing before minHistory', () => {
    const bank = new DetectorBank(parseDetectorConfig({ minHistory: 20 }));
    const slot = bank.allocate();
    const out = new DetectorResult();
    for (let i = 0; i < 19; i++) {
      bank.update(slot, T0 + i * STEP, i === 15 ? 1_000 : 10 + noise(i), out);
      expect(out.mode).toBe('warmup');
      expect(out.score).toBe(0);
    }
    for (let i = 19; i < 60; i++) bank.update(slot, T0 + i * STEP, 10 + noise(i), out);
    // The streaming median ignored the outlier at 1000.
    expect(out.expected).toBeGreaterThan(9);
    expect(out.expected).toBeLessThan(11);
    // A residual no larger than the early outlier is not news; a larger one is.
    bank.update(slot, T0 + 60 * STEP, 500, out);
    expect(out.mode).toBe('warmup');
    expect(out.score).toBeLessThan(0.5);
    bank.update(slot, T0 + 61 * STEP, 5_000, out);
    expect(out.mode).toBe('warmup');
    expect(out.detector).toBe('robust-z');
    expect(out.score).toBeGreaterThanOrEqual(0.5);
  });

  it('alerts on a spike that recurs daily only when it is larger than the recent ones', () => {
    const perDay = DAY / STEP;
    const alerts = (config: object): string[] => {
      const bank = new DetectorBank(parseDetectorConfig(config));
      const slot = bank.allocate();
      const out = new DetectorResult();
      const seen: string[] = [];
      for (let i = 0; i < 8 * perDay; i++) {
        const day = Math.floor(i / perDay);
        // Same time each day give or take 10 minutes; twice as large on the last day.
        const spikeAt = 40 + ((day * 7) % 5) - 2;
        const spike = i % perDay === spikeAt ? (day === 7 ? 60 : 30) : 0;
        bank.update(slot, T0 + i * STEP, 100 + 2 * bell(i) + spike, out);
        if (out.score >= 0.5) seen.push(`${day}:${out.detector}`);
      }
      return seen;
    };
    expect(alerts({})).toEqual(['7:holt-winters']);
    // Without the novelty requirement every daily spike alerts.
    expect(alerts({ noveltyBlocks: 0 }).length).toBeGreaterThanOrEqual(6);
  });

  it('lets an old record fade: an incident three days after a larger one still alerts (the memory before was four days or more)', () => {
    const perDay = DAY / STEP;
    const alerts = (config: object): number[] => {
      const bank = new DetectorBank(parseDetectorConfig(config));
      const slot = bank.allocate();
      const out = new DetectorResult();
      const seen: number[] = [];
      for (let i = 0; i < 7 * perDay; i++) {
        // A spike of 80 on day 2, one of 40 on day 5: not a record, but plainly an incident.
        const spike = i === 2 * perDay + 100 ? 80 : i === 5 * perDay + 100 ? 40 : 0;
        bank.update(slot, T0 + i * STEP, 100 + 2 * bell(i) + spike, out);
        if (out.score >= 0.5) seen.push(Math.floor(i / perDay));
      }
      return seen;
    };
    expect(alerts({})).toEqual([2, 5]);
    // The earlier memory (16 blocks of at least 6 h) still held day 2's spike and kept day 5 quiet.
    expect(alerts({ noveltyBlocks: 16, noveltyBlockMs: 6 * 3_600_000 })).toEqual([2]);
  });

  it('never puts the band of a series that has never been negative below zero', () => {
    const perDay = DAY / STEP;
    const bank = new DetectorBank();
    const slot = bank.allocate();
    const out = new DetectorResult();
    const lowest = (b: DetectorBank, s: number): number => {
      let low = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 4 * perDay; i++) {
        // A bursty count: mostly 0-2 at night, 20-40 by day.
        const phase = ((i * STEP) % DAY) / DAY;
        const v = phase > 0.3 && phase < 0.8 ? 30 + Math.round(10 * noise(i)) : Math.max(0, Math.round(1 + 2 * noise(i)));
        b.update(s, T0 + i * STEP, v, out);
        if (i > perDay) low = Math.min(low, out.lower, out.expected);
      }
      return low;
    };
    expect(lowest(bank, slot)).toBe(0);
    // Without the minimum the range detector keeps (it is off), the band goes below zero.
    const plain = new DetectorBank(parseDetectorConfig({ rangeWeight: 0 }));
    expect(lowest(plain, plain.allocate())).toBeLessThan(0);
  });

  it('reports a sustained level shift once it has persisted', () => {
    const perDay = DAY / STEP;
    const bank = new DetectorBank(parseDetectorConfig({ rangeWeight: 0 }));
    const slot = bank.allocate();
    const out = new DetectorResult();
    const shiftAt = 3 * perDay;
    const seen: string[] = [];
    for (let i = 0; i < shiftAt + 100; i++) {
      bank.update(slot, T0 + i * STEP, 50 + bell(i) + (i >= shiftAt ? 3 : 0), out);
      if (i >= 1.5 * perDay && out.score >= 0.5) seen.push(`${i - shiftAt}:${out.detector}`);
    }
    const shift = seen.find((e) => e.endsWith(':level-shift'));
    expect(seen.filter((e) => Number(e.split(':')[0]) < 0)).toEqual([]);
    expect(shift).toBeDefined();
    const after = Number(shift?.split(':')[0]);
    expect(after).toBeGreaterThanOrEqual(defaultDetectorConfig.shiftPersist - 1);
    expect(after).toBeLessThan(60);
  });

  it('flags a value beyond the range seen so far by more than the tolerance', () => {
    const perDay = DAY / STEP;
    const bank = new DetectorBank();
    const slot = bank.allocate();
    const out = new DetectorResult();
    const scores = new Map<number, DetectorResult>();
    for (let i = 0; i < 3 * perDay; i++) {
      // Uniform in [0, 10); then 10.3 (within 5 % of the range) and 11 (beyond it).
      const v = i === 3 * perDay - 50 ? 10.3 : i === 3 * perDay - 10 ? 11 : 5 + 10 * noise(i);
      bank.update(slot, T0 + i * STEP, v, out);
      if (v > 10) scores.set(i, Object.assign(new DetectorResult(), out));
    }
    expect(scores.get(3 * perDay - 50)?.score).toBeLessThan(0.5);
    expect(scores.get(3 * perDay - 10)?.score).toBeGreaterThanOrEqual(0.5);
    expect(scores.get(3 * perDay - 10)?.detector).toBe('range');
  });

  it('stays quiet on stationary noise, with or without a daily pattern', () => {
    const perDay = DAY / STEP;
    for (const amplitude of [0, 20]) {
      const bank = new DetectorBank();
      const slot = bank.allocate();
      const out = new DetectorResult();
      let alerts = 0;
      for (let i = 0; i < 10 * perDay; i++) {
        bank.update(slot, T0 + i * STEP, 100 + 2 * bell(i) + amplitude * Math.sin((2 * Math.PI * i) / perDay), out);
        if (i >= perDay && out.score >= 0.5) alerts++;
      }
      expect(alerts).toBeLessThanOrEqual(1);
    }
  });

  it('fits a multiplicative season when configured', () => {
    const bank = new DetectorBank(parseDetectorConfig({ seasonality: 'multiplicative' }));
    const slot = bank.allocate();
    const out = new DetectorResult();
    let worst = 0;
    for (let i = 0; i < 4 * (DAY / STEP); i++) {
      const v = 50 * (1 + 0.3 * Math.sin((2 * Math.PI * (i * STEP)) / DAY)) + 0.2 * noise(i);
      bank.update(slot, T0 + i * STEP, v, out);
      if (i >= 2 * (DAY / STEP)) worst = Math.max(worst, Math.abs(out.expected - v));
    }
    expect(worst).toBeLessThan(1.5);
  });

  it('gives each series of a shared, growing bank exactly what a bank of its own gives, and restores across capacities', () => {
    // Series join one by one (capacity grows 1 -> 2 -> 4 -> 8 mid-stream, moving the interleaved
    // season rows) and take points in a shuffled order; each must match a bank holding it alone.
    const series = 6;
    const shared = new DetectorBank(defaultDetectorConfig, { initialSeries: 1 });
    const alone = Array.from({ length: series }, () => new DetectorBank(defaultDetectorConfig, { initialSeries: 1 }));
    const slot = new Array<number>(series).fill(-1);
    const own = alone.map((bank) => bank.allocate());
    const a = new DetectorResult();
    const b = new DetectorResult();
    const value = (k: number, i: number): number => seasonal(i + 37 * k) * (1 + k) + (i === 400 + 50 * k ? 60 : 0);
    for (let i = 0; i < 2 * 288 + 200; i++) {
      for (let j = 0; j < series; j++) {
        const k = (j * 5 + i) % series;
        if (i < 20 * k) continue; // series k joins at point 20k
        if (slot[k] === -1) slot[k] = shared.allocate();
        shared.update(slot[k] as number, T0 + i * STEP, value(k, i), a);
        alone[k]?.update(own[k] as number, T0 + i * STEP, value(k, i), b);
        expect(a).toEqual(b);
      }
    }
    expect(shared.capacity).toBe(8);
    expect(shared.inspect(slot[3] as number)).toEqual(alone[3]?.inspect(own[3] as number));
    // Restore a series written by the shared bank into a bank of another capacity.
    const bytes = Buffer.alloc(shared.slotStateBytes);
    shared.writeSlot(slot[4] as number, bytes);
    const restored = new DetectorBank(defaultDetectorConfig, { initialSeries: 3 });
    restored.allocate();
    const r = restored.allocate();
    restored.readSlot(r, bytes);
    expect(restored.inspect(r)).toEqual(shared.inspect(slot[4] as number));
    for (let i = 2 * 288 + 200; i < 2 * 288 + 300; i++) {
      shared.update(slot[4] as number, T0 + i * STEP, value(4, i), a);
      restored.update(r, T0 + i * STEP, value(4, i), b);
      expect(b).toEqual(a);
    }
  });

  it('keeps series apart and stays within 1.5 KiB of state per series with a 288-slot season', () => {
    const bank = new DetectorBank(defaultDetectorConfig, { initialSeries: 2 });
    expect(bank.slots).toBe(288);
    expect(bank.bytesPerSeries).toBeLessThanOrEqual(1536);
    const slots = new SeriesSlots(bank);
    const a = slots.slotOf('a');
    const b = slots.slotOf('b');
    expect(slots.slotOf('a')).toBe(a);
    expect(b).not.toBe(a);
    const out = new DetectorResult();
    for (let i = 0; i < 10; i++) {
      bank.update(a, T0 + i * STEP, 5, out);
      bank.update(b, T0 + i * STEP, 500, out);
    }
    expect(bank.inspect(a).count).toBe(10);
    bank.update(a, T0 + 10 * STEP, 5, out);
    expect(out.expected).toBeCloseTo(5, 6);
    // Growth past the initial capacity keeps state.
    for (let k = 0; k < 10; k++) slots.slotOf(`s${k}`);
    expect(bank.capacity).toBeGreaterThanOrEqual(12);
    expect(bank.inspect(b).count).toBe(10);
    // A released slot is reused with fresh state.
    expect(slots.release('b')).toBe(true);
    const c = slots.slotOf('c');
    expect(c).toBe(b);
    expect(bank.inspect(c).count).toBe(0);
  });
});

describe('DetectorBank scores on live-like series', () => {
  it('scores the first move of a series that was constant until then at the alert level, and does not widen its band by it', () => {
    const bank = new DetectorBank(parseDetectorConfig({ minHistory: 12 }));
    const slot = bank.allocate();
    const out = new DetectorResult();
    for (let i = 0; i < 100; i++) bank.update(slot, T0 + i * STEP, 0, out);
    bank.update(slot, T0 + 100 * STEP, 0.53, out);
    expect(out.rawScore).toBeGreaterThanOrEqual(0.5);
    bank.update(slot, T0 + 101 * STEP, 0.55, out);
    // The band after the jump is still the constant series' own, not half the jump wide.
    expect(out.upper).toBeLessThan(0.1);
  });
});
