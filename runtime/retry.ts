import { isRetriable } from './errors.js';

/** How one retried operation backs off. */
export interface RetryOptions {
  /** Attempts in all, the first included (default 8). */
  readonly retries?: number;
  /** First delay in ms (default 100). */
  readonly initialDelayMs?: number;
  /** Upper bound for one delay in ms (default 10 000). */
  readonly maxDelayMs?: number;
  /** Growth of the delay per attempt (default 2). */
  readonly factor?: number;
  /** Random share of each delay, 0..1, so that many clients do not retry in step (default 0.2). */
  readonly jitter?: number;
  /** Decides whether an error is worth another attempt (default: its `retriable` flag). */
  readonly shouldRetry?: (error: unknown, attempt: number) => boolean;
  /** Called before each wait; for logging. */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Stops retrying when aborted. */
  readonly signal?: AbortSignal;
  /** Source of randomness for the jitter, injectable for tests. */
  readonly random?: () => number;
  /** How to wait, injectable for tests. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** The delay before retry number `attempt` (1-based): exponential, capped, with jitter. */
export function backoffDelay(attempt: number, options: RetryOptions = {}): number {
  const initial = options.initialDelayMs ?? 100;
  const max = options.maxDelayMs ?? 10_000;
  const factor = options.factor ?? 2;
  const jitter = options.jitter ?? 0.2;
  const random = options.random ?? Math.random;
  const base = Math.min(max, initial * factor ** (attempt - 1));
  const spread = base * jitter;
  return Math.max(0, Math.round(base - spread + 2 * spread * random()));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `operation` until it succeeds, the error is not worth retrying, or the attempts run out;
 * then rethrows the last error. The one retry helper every component uses.
 */
export async function retry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.retries ?? 8;
  const shouldRetry = options.shouldRetry ?? ((error: unknown) => isRetriable(error));
  const wait = options.sleep ?? sleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (attempt >= attempts || options.signal?.aborted || !shouldRetry(error, attempt)) throw error;
      const delay = backoffDelay(attempt, options);
      options.onRetry?.(error, attempt, delay);
      await wait(delay, options.signal);
    }
  }
}
