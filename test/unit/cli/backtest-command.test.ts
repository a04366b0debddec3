import { afterEach, describe, expect, it, vi } from 'vitest';
import { runBacktest } from '../../../cli/backtest-command.js';
import { defaultNabDir } from '../../../processors/anomaly/nab/index.js';

describe('aiops backtest --cv', () => {
  afterEach(() => vi.restoreAllMocks());

  it('prints the leave-one-category-out score, pooled and per fold, next to the plain score', async () => {
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    expect(await runBacktest(['--nab', defaultNabDir(), '--cv'])).toBe(0);
    expect(out).toMatch(/at the configured threshold \(threshold 0\.5000\)\n {2}standard +\d+\.\d\d/);
    const pooled = /pooled: standard (\d+\.\d\d), reward_low_FP_rate (\d+\.\d\d), reward_low_FN_rate (\d+\.\d\d)/.exec(out);
    expect(pooled).not.toBeNull();
    // Today's cross-validated figures were 73.97 / 71.75 / 77.06 before the shorter novelty memory.
    expect(Number(pooled?.[1])).toBeGreaterThan(73.97);
    expect(Number(pooled?.[2])).toBeGreaterThan(71.75);
    expect(Number(pooled?.[3])).toBeGreaterThan(77.06);
    for (const category of ['artificialNoAnomaly', 'artificialWithAnomaly', 'realAWSCloudwatch', 'realAdExchange', 'realTraffic']) {
      expect(out).toMatch(new RegExp(`\\n {2}${category}: \\d+ files, \\d+ windows, detected \\d+, false positives \\d+; standard (n/a|\\d+\\.\\d\\d) @ \\d\\.\\d{4}`));
    }
  });

  it('scores with detector settings changed by --detector, and names a bad one', async () => {
    const scores: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      scores.push(String(chunk));
      return true;
    });
    expect(await runBacktest(['--nab', defaultNabDir()])).toBe(0);
    expect(await runBacktest(['--nab', defaultNabDir(), '--detector', '{"levelShiftWeight":0}'])).toBe(0);
    const standard = scores.map((o) => Number(/\n {2}standard +(\d+\.\d\d)/.exec(o)?.[1]));
    // Without the level-shift score the detector misses windows it otherwise finds.
    expect(standard[1]).toBeLessThan(standard[0] as number);
    await expect(runBacktest(['--nab', defaultNabDir(), '--detector', '{"alpha":2}'])).rejects.toThrow(/alpha/);
    await expect(runBacktest(['--nab', defaultNabDir(), '--detector', 'alpha=2'])).rejects.toThrow(/--detector/);
  });
});
