import { sleep } from '../../runtime/retry.js';

/**
 * Calls `probe` until it returns a value other than undefined, then returns it; fails with the
 * last error or value after `timeoutMs`. For state that real services reach asynchronously
 * (a scrape, a trace flush), never as a timing assertion.
 */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    await sleep(options.intervalMs ?? 500);
  }
  throw new Error(`${what}: not reached within ${timeoutMs} ms${lastError ? `; last error: ${(lastError as Error).message}` : ''}`);
}
