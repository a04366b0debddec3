import { sleep } from '../../runtime/retry.js';
import type { Clock } from '../../runtime/types.js';

/** How fast data time runs: `speedup` times wall time, or 'max' for as fast as possible. */
export type Speedup = number | 'max';

/** Parses `--speedup`: a positive number (e.g. 60, 0.5) or `max`. */
export function parseSpeedup(text: string): Speedup {
  if (text.trim().toLowerCase() === 'max') return 'max';
  const x = Number(text);
  if (!(Number.isFinite(x) && x > 0)) throw new RangeError(`speedup: expected a positive number or max, got "${text}"`);
  return x;
}

/**
 * Paces a replay: data time advances `speedup` times faster than wall time from the first data
 * time it is asked about (the anchor). With 'max' nothing ever waits.
 */
export class Pacer {
  private anchorData = Number.NaN;
  private anchorWall = Number.NaN;

  constructor(
    readonly speedup: Speedup,
    private readonly clock: Clock = { now: () => Date.now() },
    private readonly pause: (ms: number, signal?: AbortSignal) => Promise<void> = sleep,
  ) {
    if (speedup !== 'max' && !(Number.isFinite(speedup) && speedup > 0)) throw new RangeError(`speedup must be a positive number or 'max', got ${speedup}`);
  }

  /** Milliseconds of wall time until data time `dataMs` is due (0 when due or with 'max'); the first call anchors. */
  delayFor(dataMs: number): number {
    if (this.speedup === 'max' || !Number.isFinite(dataMs)) return 0;
    if (Number.isNaN(this.anchorData)) {
      this.anchorData = dataMs;
      this.anchorWall = this.clock.now();
      return 0;
    }
    const due = this.anchorWall + (dataMs - this.anchorData) / this.speedup;
    return Math.max(0, due - this.clock.now());
  }

  /**
   * Waits until `dataMs` is due, in steps of at most `stepMs` with `onStep` between them (a
   * consumer's heartbeat, a flush). Returns the time waited.
   */
  async waitFor(dataMs: number, options: { stepMs?: number; onStep?: () => Promise<void>; signal?: AbortSignal } = {}): Promise<number> {
    let waited = 0;
    for (let delay = this.delayFor(dataMs); delay > 0; delay = this.delayFor(dataMs)) {
      const step = Math.min(delay, options.stepMs ?? 1_000);
      await this.pause(step, options.signal);
      waited += step;
      if (options.onStep) await options.onStep();
    }
    return waited;
  }
}
