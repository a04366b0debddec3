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

  it('holds an event open while the value stays most of the way out, up to holdMaxMs', () => {
    const out = new EventTransition();
    // Points: [score, value, lower, upper]. It opens at 30 against [9, 11], so the hold level is
    // 20 (half-way from 10 to 30). The detector then adapts to the shifted level (the band follows
    // it, scores fall) while the value stays high.
    const points: [number, number, number, number][] = [
      [0.1, 10, 9, 11],
      [0.9, 30, 9, 11], // 1: opens above 11
      [0.2, 30, 20, 40], // 2..5: scores low, value still above 11: held
      [0.1, 31, 25, 35],
      [0.0, 29, 27, 33],
      [0.0, 30, 28, 32],
      [0.0, 19, 28, 32], // 6..8: back under 20: three points below resolve it
      [0.0, 10, 20, 30],
      [0.0, 10, 15, 25],
    ];
    const observe = (t: EventTracker, slot: number): string[] =>
      points.flatMap(([score, value, lower, upper], i) => (t.observe(slot, i * 1000, score, out, value, lower, upper) ? [`${i}:${out.state}`] : []));
    expect(observe(new EventTracker({ openAbove: 0.5, closeBelow: 0.3, closeAfter: 3, holdMaxMs: 60_000 }), 0)).toEqual(['1:open', '8:resolved']);
    // Without the hold, the low scores resolve it while the value is still shifted.
    expect(observe(new EventTracker({ openAbove: 0.5, closeBelow: 0.3, closeAfter: 3, holdMaxMs: 0 }), 0)).toEqual(['1:open', '4:resolved']);
    // The hold ends holdMaxMs after the event opened (at 1000 ms; 2,500 ms later is point 4).
    expect(observe(new EventTracker({ openAbove: 0.5, closeBelow: 0.3, closeAfter: 3, holdMaxMs: 2_500 }), 0)).toEqual(['1:open', '6:resolved']);
    // A drop below the lower edge holds the same way (level 6, half-way from 10 to 2).
    const low = new EventTracker({ openAbove: 0.5, closeBelow: 0.3, closeAfter: 1, holdMaxMs: 60_000 });
    expect(low.observe(0, 0, 0.9, out, 2, 9, 11)).toBe(true);
    expect(low.observe(0, 1000, 0.0, out, 5.9, 1, 5)).toBe(false);
    expect(low.observe(0, 2000, 0.0, out, 6.1, 1, 5)).toBe(true);
    expect(out.state).toBe('resolved');
    // Just past the edge, the edge itself is the level (half-way would be inside the band).
    const edge = new EventTracker({ openAbove: 0.5, closeBelow: 0.3, closeAfter: 1, holdMaxMs: 60_000 });
    expect(edge.observe(0, 0, 0.9, out, 11.5, 9, 11)).toBe(true);
    expect(edge.observe(0, 1000, 0.0, out, 11.2, 9, 11)).toBe(false);
    expect(edge.observe(0, 2000, 0.0, out, 10.9, 9, 11)).toBe(true);
    expect(out.state).toBe('resolved');
  });

  it('keeps the hold across writeSlot and readSlot', () => {
    const a = new EventTracker({ openAbove: 0.5, closeBelow: 0.3, closeAfter: 1, holdMaxMs: 60_000 });
    const b = new EventTracker({ openAbove: 0.5, closeBelow: 0.3, closeAfter: 1, holdMaxMs: 60_000 });
    const out = new EventTransition();
    a.observe(2, 0, 0.9, out, 30, 9, 11);
    const bytes = Buffer.alloc(EventTracker.slotStateBytes);
    expect(a.writeSlot(2, bytes)).toBe(EventTracker.slotStateBytes);
    expect(b.readSlot(0, bytes)).toBe(EventTracker.slotStateBytes);
    expect(b.observe(0, 1000, 0, out, 25, 20, 30)).toBe(false);
    expect(b.observe(0, 2000, 0, out, 10, 20, 30)).toBe(true);
    expect(out.state).toBe('resolved');
  });

  it('rejects a lower threshold above the upper one', () => {
    expect(() => new EventTracker({ openAbove: 0.3, closeBelow: 0.5, closeAfter: 1 })).toThrow(RangeError);
  });
});
