import { S_BUCKETS, S_COUNT, S_START, S_TIME } from './series-store.js';

/** How a cumulative point relates to the series' previous one. */
export enum Step {
  /** Skip: out of order or a duplicate. */
  SKIP,
  /** Increase over the previous point. */
  DELTA,
  /** A reset (new start time or a decrease): the value counts from zero. */
  RESET,
  /** First point of a series that ran before it was seen: sets the baseline only. */
  BASELINE,
}

/**
 * Classifies a cumulative point against the series' previous one (its state's start, time and
 * count) and, unless it is skipped, stores it as the new previous. A new start time or a decrease
 * is a reset; the first point of a series whose start lies more than `firstPointMaxAgeMs` back
 * ran before it was seen and only sets the baseline.
 */
export function cumulativeStep(state: Float64Array, startTimeMs: number, timeMs: number, value: number, firstPointMaxAgeMs: number): Step {
  const isNew = Number.isNaN(state[S_START] as number);
  if (!isNew && timeMs <= (state[S_TIME] as number)) return Step.SKIP;
  let step: Step;
  if (isNew) step = startTimeMs > 0 && timeMs - startTimeMs > firstPointMaxAgeMs ? Step.BASELINE : Step.RESET;
  else if (startTimeMs !== state[S_START] || value < (state[S_COUNT] as number)) step = Step.RESET;
  else step = Step.DELTA;
  state[S_START] = startTimeMs;
  state[S_TIME] = timeMs;
  state[S_COUNT] = value;
  return step;
}

/**
 * Where the increment of a cumulative point began: the previous point's time, or for a reset
 * the new start time when it lies after the previous point (the counter restarted inside the
 * gap). NaN for a series' first point: nothing to spread over.
 */
export function gapStart(step: Step, previousStart: number, previousTime: number, startTimeMs: number): number {
  if (Number.isNaN(previousStart)) return Number.NaN;
  return step === Step.RESET && startTimeMs > previousTime ? startTimeMs : previousTime;
}

/** What a histogram point's buckets add in all since the previous point. */
export function bucketDeltaTotal(state: Float64Array, counts: Float64Array, n: number, subtractPrevious: boolean): number {
  let total = 0;
  for (let i = 0; i < n; i++) total += (counts[i] as number) - (subtractPrevious ? ((state[S_BUCKETS + i] as number) || 0) : 0);
  return total;
}
