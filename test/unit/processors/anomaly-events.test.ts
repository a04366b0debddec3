import { describe, expect, it } from 'vitest';
import { EventTracker, EventTransition } from '../../../processors/anomaly/event-tracker.js';

function run(tracker: EventTracker, slot: number, scores: number[]): string[] {
  const out = new EventTransition();
  const seen: string[] = [];
  scores.forEach((s, i) => {
    if (tracker.observe(slot, i * 1000, s, out)) seen.push(`${i}:${out.state}:${out.sequence}:${out.peakScore}`);
  });
  return seen;
}

describe('EventTracker', () => {
  it('opens on crossing, updates while above, resolves after k points below the lower threshold', () => {
    const t = new EventTracker({ openAbove: 0.5, closeBelow: 0.3, closeAfter: 2 });
    //                 0    1    2    3    4    5    6    7    8    9
    const seen = run(t, 0, [0.1, 0.6, 0.8, 0.4, 0.2, 0.35, 0.2, 0.1, 0.0, 0.7]);
    // 3: between thresholds, silent; 4: first below; 5: back between resets the count; 6, 7: resolve.
    expect(seen).toEqual(['1:open:1:0.6', '2:update:1:0.8', '7:resolved:1:0.8', '9:open:2:0.7']);
  });

  it('tracks series independently and grows past its initial size', () => {
    const t = new EventTracker({ openAbove: 0.5, closeBelow: 0.5, closeAfter: 1, initialSeries: 1 });
    const out = new EventTransition();
    expect(t.observe(5, 0, 0.9, out)).toBe(true);
    expect(out.state).toBe('open');
    expect(t.isOpen(5)).toBe(true);
    expect(t.isOpen(0)).toBe(false);
    expect(t.observe(5, 1000, Number.NaN, out)).toBe(true);
    expect(out.state).toBe('resolved');
    expect(out.startedMs).toBe(0);
    expect(out.points).toBe(2);
  });

  it('rejects a lower threshold above the upper one', () => {
    expect(() => new EventTracker({ openAbove: 0.3, closeBelow: 0.5, closeAfter: 1 })).toThrow(RangeError);
  });
});
