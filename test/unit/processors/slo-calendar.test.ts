import { describe, expect, it } from 'vitest';
import { localToInstant, nominalPeriodMs, periodBounds, periodEnd, periodStart, periodUpperBoundMs, zoneOffsetMs } from '../../../processors/slo/calendar.js';
import type { CalendarWindow } from '../../../processors/slo/calendar.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function cal(unit: CalendarWindow['unit'], count: number, timeZone: string, startMs: number): CalendarWindow {
  return { kind: 'calendar', unit, count, timeZone, startMs };
}

// Europe/Berlin: CET (+1h) until 2026-03-29 01:00Z, CEST (+2h) until 2026-10-25 01:00Z.
// Local Berlin time L at offset o is the instant L − o, written below as Date.UTC(local fields) − o.
const CET = HOUR;
const CEST = 2 * HOUR;
/** Berlin local wall time → instant, with the offset stated by the test. */
function berlin(y: number, m1: number, d: number, h: number, min: number, offset: number): number {
  return Date.UTC(y, m1 - 1, d, h, min) - offset;
}

describe('zone offsets', () => {
  it('reads offsets from Intl, including half-hour zones and DST edges', () => {
    expect(zoneOffsetMs('Europe/Berlin', Date.UTC(2026, 0, 15))).toBe(CET);
    expect(zoneOffsetMs('Europe/Berlin', Date.UTC(2026, 2, 29, 0, 59, 59, 999))).toBe(CET);
    expect(zoneOffsetMs('Europe/Berlin', Date.UTC(2026, 2, 29, 1))).toBe(CEST);
    expect(zoneOffsetMs('Asia/Kolkata', Date.UTC(2026, 5, 1))).toBe(5.5 * HOUR);
    expect(zoneOffsetMs('America/New_York', Date.UTC(2026, 0, 1))).toBe(-5 * HOUR);
    expect(zoneOffsetMs('America/New_York', Date.UTC(2026, 6, 1))).toBe(-4 * HOUR);
    expect(zoneOffsetMs('UTC', 1_234_567)).toBe(0);
    expect(() => zoneOffsetMs('Mars/Olympus_Mons', 0)).toThrow(RangeError);
  });

  it('converts local wall time to instants: plain, skipped hour (moves forward), repeated hour (first)', () => {
    expect(localToInstant('Europe/Berlin', Date.UTC(2026, 2, 1, 0, 30))).toBe(berlin(2026, 3, 1, 0, 30, CET));
    expect(localToInstant('Europe/Berlin', Date.UTC(2026, 6, 1, 12))).toBe(berlin(2026, 7, 1, 12, 0, CEST));
    // 02:30 does not exist on 2026-03-29: taken at the old offset, i.e. 03:30 CEST = 01:30Z.
    expect(localToInstant('Europe/Berlin', Date.UTC(2026, 2, 29, 2, 30))).toBe(Date.UTC(2026, 2, 29, 1, 30));
    // 02:30 happens twice on 2026-10-25: the first time, CEST = 00:30Z.
    expect(localToInstant('Europe/Berlin', Date.UTC(2026, 9, 25, 2, 30))).toBe(Date.UTC(2026, 9, 25, 0, 30));
    expect(localToInstant('Asia/Kolkata', Date.UTC(2026, 0, 1))).toBe(Date.UTC(2025, 11, 31, 18, 30));
  });
});

describe('calendar periods', () => {
  // Monthly periods from 2026-01-01 00:00 Berlin (CET) = 2025-12-31T23:00Z.
  const month = cal('month', 1, 'Europe/Berlin', berlin(2026, 1, 1, 0, 0, CET));

  it('puts instants around a month boundary into the right Berlin month', () => {
    // 2026-03-01 00:30 local (CET) is in March; 2026-02-28 23:30 local in February.
    const marchStart = berlin(2026, 3, 1, 0, 0, CET);
    const aprilStart = berlin(2026, 4, 1, 0, 0, CEST); // after the DST change
    expect(marchStart).toBe(Date.UTC(2026, 1, 28, 23));
    expect(aprilStart).toBe(Date.UTC(2026, 2, 31, 22));
    expect(periodBounds(month, berlin(2026, 3, 1, 0, 30, CET))).toEqual({ startMs: marchStart, endMs: aprilStart });
    expect(periodBounds(month, berlin(2026, 2, 28, 23, 30, CET))).toEqual({ startMs: berlin(2026, 2, 1, 0, 0, CET), endMs: marchStart });
    // Exactly at local midnight: the new period; a millisecond before: the old one.
    expect(periodStart(month, marchStart)).toBe(marchStart);
    expect(periodStart(month, marchStart - 1)).toBe(berlin(2026, 2, 1, 0, 0, CET));
    // The March period spans the DST change: 31 days less one hour.
    expect(aprilStart - marchStart).toBe(31 * DAY - HOUR);
    expect(periodEnd(month, berlin(2026, 3, 29, 3, 30, CEST))).toBe(aprilStart);
    expect(periodStart(month, aprilStart - 1)).toBe(marchStart);
    expect(periodStart(month, aprilStart)).toBe(aprilStart);
    // Far from the anchor, both ways.
    expect(periodBounds(month, berlin(2024, 2, 29, 12, 0, CET))).toEqual({ startMs: berlin(2024, 2, 1, 0, 0, CET), endMs: berlin(2024, 3, 1, 0, 0, CET) });
    expect(periodBounds(month, berlin(2030, 10, 31, 23, 59, CET))).toEqual({ startMs: berlin(2030, 10, 1, 0, 0, CEST), endMs: berlin(2030, 11, 1, 0, 0, CET) });
  });

  it('makes Berlin day periods 23 and 25 hours long across DST changes', () => {
    const day = cal('day', 1, 'Europe/Berlin', berlin(2026, 1, 1, 0, 0, CET));
    expect(periodBounds(day, Date.UTC(2026, 2, 29, 12))).toEqual({ startMs: berlin(2026, 3, 29, 0, 0, CET), endMs: berlin(2026, 3, 30, 0, 0, CEST) });
    expect(periodEnd(day, Date.UTC(2026, 2, 29, 12)) - periodStart(day, Date.UTC(2026, 2, 29, 12))).toBe(23 * HOUR);
    expect(periodBounds(day, Date.UTC(2026, 9, 25, 12))).toEqual({ startMs: berlin(2026, 10, 25, 0, 0, CEST), endMs: berlin(2026, 10, 26, 0, 0, CET) });
    expect(periodEnd(day, Date.UTC(2026, 9, 25, 12)) - periodStart(day, Date.UTC(2026, 9, 25, 12))).toBe(25 * HOUR);
  });

  it('aligns America/New_York weeks to the anchor weekday, across the March DST change and before the anchor', () => {
    // Anchor: Monday 2026-03-02 00:00 EST (−5h) = 05:00Z. DST starts Sunday 2026-03-08 (EDT, −4h).
    const week = cal('week', 1, 'America/New_York', Date.UTC(2026, 2, 2, 5));
    // The week holding the change is 7 days less an hour.
    expect(periodBounds(week, Date.UTC(2026, 2, 8, 12))).toEqual({ startMs: Date.UTC(2026, 2, 2, 5), endMs: Date.UTC(2026, 2, 9, 4) });
    // Tuesday 2026-03-10: week from Monday 03-09 00:00 EDT = 04:00Z.
    expect(periodBounds(week, Date.UTC(2026, 2, 10, 12))).toEqual({ startMs: Date.UTC(2026, 2, 9, 4), endMs: Date.UTC(2026, 2, 16, 4) });
    // Sunday 23:59 local is still the old week; Monday 00:00 local the new one.
    expect(periodStart(week, Date.UTC(2026, 2, 16, 3, 59))).toBe(Date.UTC(2026, 2, 9, 4));
    expect(periodStart(week, Date.UTC(2026, 2, 16, 4))).toBe(Date.UTC(2026, 2, 16, 4));
    // Ten weeks before the anchor: Monday 2025-12-22 00:00 EST.
    expect(periodBounds(week, Date.UTC(2025, 11, 25))).toEqual({ startMs: Date.UTC(2025, 11, 22, 5), endMs: Date.UTC(2025, 11, 29, 5) });
    // Two-week periods alternate from the anchor.
    const fortnight = cal('week', 2, 'America/New_York', Date.UTC(2026, 2, 2, 5));
    expect(periodBounds(fortnight, Date.UTC(2026, 2, 10, 12))).toEqual({ startMs: Date.UTC(2026, 2, 2, 5), endMs: Date.UTC(2026, 2, 16, 4) });
    expect(periodBounds(fortnight, Date.UTC(2026, 2, 17, 12))).toEqual({ startMs: Date.UTC(2026, 2, 16, 4), endMs: Date.UTC(2026, 2, 30, 4) });
  });

  it('cuts Asia/Kolkata (+5:30) days at local midnight = 18:30Z', () => {
    const day = cal('day', 1, 'Asia/Kolkata', Date.UTC(2025, 11, 31, 18, 30));
    expect(periodBounds(day, Date.UTC(2026, 5, 15, 18, 29))).toEqual({ startMs: Date.UTC(2026, 5, 14, 18, 30), endMs: Date.UTC(2026, 5, 15, 18, 30) });
    expect(periodBounds(day, Date.UTC(2026, 5, 15, 18, 30))).toEqual({ startMs: Date.UTC(2026, 5, 15, 18, 30), endMs: Date.UTC(2026, 5, 16, 18, 30) });
    // Three-day periods from the anchor: 2026-01-01, 01-04, 01-07 ...
    const three = cal('day', 3, 'Asia/Kolkata', Date.UTC(2025, 11, 31, 18, 30));
    expect(periodBounds(three, Date.UTC(2026, 0, 5))).toEqual({ startMs: Date.UTC(2026, 0, 3, 18, 30), endMs: Date.UTC(2026, 0, 6, 18, 30) });
  });

  it('handles year, fiscal-year and quarter periods', () => {
    const year = cal('year', 1, 'Europe/Berlin', berlin(2026, 1, 1, 0, 0, CET));
    expect(periodBounds(year, Date.UTC(2027, 6, 1))).toEqual({ startMs: berlin(2027, 1, 1, 0, 0, CET), endMs: berlin(2028, 1, 1, 0, 0, CET) });
    expect(periodBounds(year, berlin(2027, 1, 1, 0, 0, CET) - 1)).toEqual({ startMs: berlin(2026, 1, 1, 0, 0, CET), endMs: berlin(2027, 1, 1, 0, 0, CET) });
    // Fiscal year from April 1st (CEST both ends).
    const fiscal = cal('year', 1, 'Europe/Berlin', berlin(2026, 4, 1, 0, 0, CEST));
    expect(periodBounds(fiscal, Date.UTC(2027, 1, 1))).toEqual({ startMs: berlin(2026, 4, 1, 0, 0, CEST), endMs: berlin(2027, 4, 1, 0, 0, CEST) });
    // Quarters from January.
    const quarter = cal('month', 3, 'Europe/Berlin', berlin(2026, 1, 1, 0, 0, CET));
    expect(periodBounds(quarter, Date.UTC(2026, 4, 10))).toEqual({ startMs: berlin(2026, 4, 1, 0, 0, CEST), endMs: berlin(2026, 7, 1, 0, 0, CEST) });
    expect(periodBounds(quarter, Date.UTC(2026, 11, 31, 22, 59))).toEqual({ startMs: berlin(2026, 10, 1, 0, 0, CEST), endMs: berlin(2027, 1, 1, 0, 0, CET) });
  });

  it("clamps the anchor's day of month to each month's length, without drifting", () => {
    const m = cal('month', 1, 'UTC', Date.UTC(2026, 0, 31));
    expect(periodBounds(m, Date.UTC(2026, 1, 27))).toEqual({ startMs: Date.UTC(2026, 0, 31), endMs: Date.UTC(2026, 1, 28) });
    expect(periodBounds(m, Date.UTC(2026, 2, 15))).toEqual({ startMs: Date.UTC(2026, 1, 28), endMs: Date.UTC(2026, 2, 31) });
    expect(periodBounds(m, Date.UTC(2026, 4, 30, 23))).toEqual({ startMs: Date.UTC(2026, 3, 30), endMs: Date.UTC(2026, 4, 31) });
    // Leap year: Feb 29.
    expect(periodStart(m, Date.UTC(2028, 2, 1))).toBe(Date.UTC(2028, 1, 29));
  });

  it('keeps the anchor time of day and rejects bad windows', () => {
    const m = cal('month', 1, 'UTC', Date.UTC(2026, 0, 1, 6));
    expect(periodBounds(m, Date.UTC(2026, 1, 1, 5, 59))).toEqual({ startMs: Date.UTC(2026, 0, 1, 6), endMs: Date.UTC(2026, 1, 1, 6) });
    expect(() => periodStart(cal('month', 0, 'UTC', 0), 0)).toThrow(RangeError);
    expect(() => periodStart(cal('month', 1.5, 'UTC', 0), 0)).toThrow(RangeError);
    expect(() => periodStart(cal('month', 1, 'No/Such_Zone', 0), 0)).toThrow(RangeError);
  });

  it('gives nominal lengths (month 30 days, year 365) and upper bounds', () => {
    expect(nominalPeriodMs({ kind: 'rolling', durationMs: 28 * DAY })).toBe(28 * DAY);
    expect(nominalPeriodMs(cal('month', 1, 'UTC', 0))).toBe(30 * DAY);
    expect(nominalPeriodMs(cal('month', 3, 'UTC', 0))).toBe(90 * DAY);
    expect(nominalPeriodMs(cal('week', 2, 'UTC', 0))).toBe(14 * DAY);
    expect(nominalPeriodMs(cal('year', 1, 'UTC', 0))).toBe(365 * DAY);
    expect(nominalPeriodMs(cal('day', 1, 'UTC', 0))).toBe(DAY);
    expect(periodUpperBoundMs(cal('month', 3, 'UTC', 0))).toBe(94 * DAY);
    expect(periodUpperBoundMs(cal('year', 1, 'UTC', 0))).toBe(367 * DAY);
  });
});
