import { describe, expect, it } from 'vitest';
import { aiopsError } from '../../../runtime/errors.js';
import { backoffDelay, retry } from '../../../runtime/retry.js';

describe('backoffDelay', () => {
  it('grows exponentially from the initial delay and stops at the cap', () => {
    const noJitter = { initialDelayMs: 100, factor: 2, maxDelayMs: 1_000, jitter: 0 };
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, noJitter))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('spreads each delay by the jitter share around the base', () => {
    const opts = { initialDelayMs: 1_000, jitter: 0.2 };
    expect(backoffDelay(1, { ...opts, random: () => 0 })).toBe(800);
    expect(backoffDelay(1, { ...opts, random: () => 0.5 })).toBe(1_000);
    expect(backoffDelay(1, { ...opts, random: () => 1 })).toBe(1_200);
  });
});

describe('retry', () => {
  const instant = { sleep: async () => undefined, random: () => 0.5 };

  it('retries retriable errors until the operation succeeds, waiting the backoff delays', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await retry(
      async () => {
        calls++;
        if (calls < 3) throw aiopsError('TIMEOUT', ['probe', 1]);
        return 'ok';
      },
      { ...instant, initialDelayMs: 10, onRetry: (_e, _a, delay) => waits.push(delay) },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(waits).toEqual([10, 20]);
  });

  it('does not retry an error that is not retriable', async () => {
    let calls = 0;
    await expect(
      retry(async () => {
        calls++;
        throw aiopsError('CONFIG_INVALID', ['bad']);
      }, instant),
    ).rejects.toMatchObject({ code: 'AIOPS_ERR_CONFIG_INVALID' });
    expect(calls).toBe(1);
  });

  it('gives up after the configured attempts and rethrows the last error', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error(`attempt ${calls}`);
        },
        { ...instant, retries: 4, shouldRetry: () => true },
      ),
    ).rejects.toThrow('attempt 4');
    expect(calls).toBe(4);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          controller.abort();
          throw new Error('down');
        },
        { ...instant, signal: controller.signal, shouldRetry: () => true },
      ),
    ).rejects.toThrow('down');
    expect(calls).toBe(1);
  });
});
