import { describe, expect, it } from 'vitest';
import { EvidenceClock, Serial, span, stalenessFromEnv } from '../../../sinks/staleness.js';

describe('EvidenceClock', () => {
  it('finds an alert stale once its kind’s time passed without evidence, per kind', () => {
    let now = 1_000_000;
    const clock = new EvidenceClock({ anomalyMs: 10_000, sloMs: 30_000 }, () => now);
    clock.seen('a', 'anomaly');
    clock.seen('s', 'slo');
    now += 9_999;
    expect(clock.due()).toEqual([]);
    now += 1;
    expect(clock.due()).toEqual([{ id: 'a', kind: 'anomaly', silentMs: 10_000 }]);
    now += 20_000;
    expect(clock.due().map((d) => d.id).sort()).toEqual(['a', 's']);
  });

  it('restarts the wait on new evidence and forgets resolved alerts', () => {
    let now = 0;
    const clock = new EvidenceClock({ anomalyMs: 10_000, sloMs: 10_000 }, () => now);
    clock.seen('a', 'anomaly');
    clock.seen('b', 'anomaly');
    now = 8_000;
    clock.seen('a', 'anomaly');
    clock.forget('b');
    now = 12_000;
    expect(clock.due()).toEqual([]);
    now = 18_000;
    expect(clock.due().map((d) => d.id)).toEqual(['a']);
  });

  it('never finds a kind stale whose time is 0 (off)', () => {
    let now = 0;
    const clock = new EvidenceClock({ anomalyMs: 0, sloMs: 5_000 }, () => now);
    clock.seen('a', 'anomaly');
    now = 1e12;
    expect(clock.due()).toEqual([]);
    expect(clock.shortest).toBe(5_000);
    expect(new EvidenceClock({ anomalyMs: 0, sloMs: 0 }).shortest).toBeUndefined();
  });
});

describe('stalenessFromEnv', () => {
  it('reads both kinds, defaults to 15 minutes, and reports every bad value at once', () => {
    const problems: string[] = [];
    expect(stalenessFromEnv({}, problems)).toEqual({ anomalyMs: 900_000, sloMs: 900_000 });
    expect(stalenessFromEnv({ AIOPS_SINKS_STALE_ANOMALY_MS: '0', AIOPS_SINKS_STALE_SLO_MS: '7200000' }, problems)).toEqual({ anomalyMs: 0, sloMs: 7_200_000 });
    expect(problems).toEqual([]);
    stalenessFromEnv({ AIOPS_SINKS_STALE_ANOMALY_MS: '5', AIOPS_SINKS_STALE_SLO_MS: 'soon' }, problems);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain('AIOPS_SINKS_STALE_ANOMALY_MS');
    expect(problems[1]).toContain('AIOPS_SINKS_STALE_SLO_MS');
  });
});

describe('Serial', () => {
  it('runs steps one after another, and a failed step does not stop the next', async () => {
    const serial = new Serial();
    const order: string[] = [];
    const first = serial.run(async () => {
      await new Promise((r) => setTimeout(r, 20));
      order.push('first');
      throw new Error('boom');
    });
    const second = serial.run(async () => {
      order.push('second');
      return 2;
    });
    await expect(first).rejects.toThrow('boom');
    expect(await second).toBe(2);
    expect(order).toEqual(['first', 'second']);
  });
});

describe('span', () => {
  it('writes durations for people', () => {
    expect(span(45_000)).toBe('45s');
    expect(span(15 * 60_000)).toBe('15m');
    expect(span(3 * 3_600_000 + 5 * 60_000)).toBe('3h 5m');
  });
});
