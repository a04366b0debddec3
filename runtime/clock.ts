import type { Clock } from './types.js';

export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

/** A clock that moves only when told to, for tests. */
export class ManualClock implements Clock {
  constructor(private time = 0) {}

  now(): number {
    return this.time;
  }

  set(ms: number): void {
    this.time = ms;
  }

  advance(ms: number): void {
    this.time += ms;
  }
}
