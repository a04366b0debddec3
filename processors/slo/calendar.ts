import type { SloWindow } from './types.js';

/**
 * Calendar periods of an SLO window in an IANA time zone, without a time-zone library: a zone's
 * offset at an instant comes from `Intl.DateTimeFormat#formatToParts`, and a local wall-clock
 * time becomes an instant by trying the offsets in force around it (see {@link localToInstant}).
 *
 * "Wall-clock ms" below: a local date and time written as if it were UTC, i.e. `Date.UTC` of
 * its fields. Wall-clock arithmetic (adding days or months) happens in that space, so a day
 * period is 23 or 25 hours long across a DST change, and a month period is its month's length.
 */

/** A calendar SLO window. */
export type CalendarWindow = Extract<SloWindow, { kind: 'calendar' }>;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** One formatter per zone: constructing them is slow (milliseconds), formatting is not. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    // Throws a RangeError for an unknown zone.
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Wall-clock ms of a date (month 0-based, day may exceed the month: it rolls over like Date.UTC) plus `timeMs`. */
function wallMs(year: number, month0: number, day: number, timeMs = 0): number {
  if (year >= 0 && year < 100) {
    // Date.UTC maps years 0-99 to 1900-1999.
    const d = new Date(Date.UTC(2000, month0, day));
    d.setUTCFullYear(year + (d.getUTCFullYear() - 2000));
    return d.getTime() + timeMs;
  }
  return Date.UTC(year, month0, day) + timeMs;
}

function daysInMonth(year: number, month0: number): number {
  return new Date(wallMs(year, month0 + 1, 0)).getUTCDate();
}

/**
 * Offset of `timeZone` from UTC at instant `tMs`, in ms (local − UTC): +3_600_000 for Berlin in
 * winter, +19_800_000 for Kolkata. Offsets with seconds (historical local mean time) are kept.
 */
export function zoneOffsetMs(timeZone: string, tMs: number): number {
  if (!Number.isFinite(tMs)) throw new RangeError(`instant must be finite, got ${tMs}`);
  const seconds = tMs - (((tMs % 1000) + 1000) % 1000);
  let year = 0;
  let month = 1;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  for (const p of formatterFor(timeZone).formatToParts(seconds)) {
    switch (p.type) {
      case 'year':
        year = Number(p.value);
        break;
      case 'month':
        month = Number(p.value);
        break;
      case 'day':
        day = Number(p.value);
        break;
      case 'hour':
        hour = Number(p.value) % 24; // some ICU versions print midnight as 24
        break;
      case 'minute':
        minute = Number(p.value);
        break;
      case 'second':
        second = Number(p.value);
        break;
      default:
        break;
    }
  }
  return wallMs(year, month - 1, day, ((hour * 60 + minute) * 60 + second) * 1000) - seconds;
}

/** Local wall-clock ms of instant `tMs` in `timeZone`. */
export function toWallClockMs(timeZone: string, tMs: number): number {
  return tMs + zoneOffsetMs(timeZone, tMs);
}

/**
 * The instant at which the local wall clock of `timeZone` shows `localMs` (wall-clock ms).
 * Tries the offsets in force a day before and a day after (a zone changes offset at most once
 * in two days): a candidate is valid when the zone's offset at it is the one tried.
 * - One valid: that instant.
 * - Both valid (a repeated hour, DST ending): the earlier one.
 * - None (a skipped hour, DST starting): the time is moved forward by the gap, i.e. the offset
 *   before the change is used (02:30 on a spring-forward night in Berlin becomes 03:30 CEST),
 *   as Temporal's 'compatible' disambiguation does.
 */
export function localToInstant(timeZone: string, localMs: number): number {
  const before = zoneOffsetMs(timeZone, localMs - DAY);
  const after = zoneOffsetMs(timeZone, localMs + DAY);
  const a = localMs - before;
  if (before === after) {
    // No change nearby (the common case); still check, in case of a change within the hour.
    const oa = zoneOffsetMs(timeZone, a);
    return oa === before ? a : localMs - oa;
  }
  const b = localMs - after;
  const validA = zoneOffsetMs(timeZone, a) === before;
  const validB = zoneOffsetMs(timeZone, b) === after;
  if (validA && validB) return Math.min(a, b);
  if (validB) return b;
  return a;
}

function validate(window: CalendarWindow): void {
  if (!Number.isInteger(window.count) || window.count < 1) throw new RangeError(`calendar period count must be a positive integer, got ${window.count}`);
  if (!Number.isFinite(window.startMs)) throw new RangeError(`calendar period start must be finite, got ${window.startMs}`);
  if (window.unit !== 'day' && window.unit !== 'week' && window.unit !== 'month' && window.unit !== 'year') {
    throw new RangeError(`unknown calendar unit ${String(window.unit)}`);
  }
}

/** Wall-clock ms of the start of period `k` (0: the one starting at the anchor). */
function periodWallMs(window: CalendarWindow, anchorWall: number, k: number): number {
  if (window.unit === 'day' || window.unit === 'week') {
    return anchorWall + k * window.count * (window.unit === 'day' ? 1 : 7) * DAY;
  }
  const a = new Date(anchorWall);
  const months = window.count * (window.unit === 'month' ? 1 : 12);
  const index = a.getUTCFullYear() * 12 + a.getUTCMonth() + k * months;
  const year = Math.floor(index / 12);
  const month0 = index - year * 12;
  const day = Math.min(a.getUTCDate(), daysInMonth(year, month0));
  const timeOfDay = anchorWall - wallMs(a.getUTCFullYear(), a.getUTCMonth(), a.getUTCDate());
  return wallMs(year, month0, day, timeOfDay);
}

/**
 * The calendar period containing instant `tMs`, as [startMs, endMs).
 *
 * Periods repeat from the window's anchor `startMs` (an instant; its local wall-clock time in
 * `timeZone` is what repeats) every `count` units, forwards and backwards:
 * - day / week: every `count` (× 7) local days at the anchor's local time of day, so a week
 *   starts on the anchor's weekday; across a DST change a day is 23 or 25 hours long.
 * - month / year: every `count` (× 12) months on the anchor's day of month, clamped to the
 *   month's length (an anchor on Jan 31 gives periods starting Feb 28 (29), Mar 31, Apr 30 ...:
 *   each start clamps the anchor's day on its own, it does not drift), at the anchor's local
 *   time of day. 3 months is a quarter.
 * A start whose local time falls into a skipped hour moves forward by the gap; one in a
 * repeated hour is the first occurrence (see {@link localToInstant}).
 */
export function periodBounds(window: CalendarWindow, tMs: number): { startMs: number; endMs: number } {
  validate(window);
  if (!Number.isFinite(tMs)) throw new RangeError(`instant must be finite, got ${tMs}`);
  const tz = window.timeZone;
  const anchorWall = toWallClockMs(tz, window.startMs);
  const tWall = toWallClockMs(tz, tMs);
  // Estimate the period index in wall-clock terms, then settle it against the real instants.
  let k: number;
  if (window.unit === 'day' || window.unit === 'week') {
    k = Math.floor((tWall - anchorWall) / (window.count * (window.unit === 'day' ? 1 : 7) * DAY));
  } else {
    const a = new Date(anchorWall);
    const t = new Date(tWall);
    const diff = t.getUTCFullYear() * 12 + t.getUTCMonth() - (a.getUTCFullYear() * 12 + a.getUTCMonth());
    k = Math.floor(diff / (window.count * (window.unit === 'month' ? 1 : 12)));
  }
  let start = localToInstant(tz, periodWallMs(window, anchorWall, k));
  while (start > tMs) {
    k--;
    start = localToInstant(tz, periodWallMs(window, anchorWall, k));
  }
  let end = localToInstant(tz, periodWallMs(window, anchorWall, k + 1));
  while (end <= tMs) {
    k++;
    start = end;
    end = localToInstant(tz, periodWallMs(window, anchorWall, k + 1));
  }
  return { startMs: start, endMs: end };
}

/** Start (inclusive) of the calendar period containing `tMs`; see {@link periodBounds}. */
export function periodStart(window: CalendarWindow, tMs: number): number {
  return periodBounds(window, tMs).startMs;
}

/** End (exclusive) of the calendar period containing `tMs`: the next period's start. */
export function periodEnd(window: CalendarWindow, tMs: number): number {
  return periodBounds(window, tMs).endMs;
}

/**
 * Nominal length of an SLO period, to scale burn-rate factors to: a rolling window's duration;
 * for calendar periods `count` × 1 day, 7 days, 30 days (month) or 365 days (year), whatever the
 * current period's actual length (as the Prometheus rules do, so both alert alike).
 */
export function nominalPeriodMs(window: SloWindow): number {
  if (window.kind === 'rolling') return window.durationMs;
  const days = window.unit === 'day' ? 1 : window.unit === 'week' ? 7 : window.unit === 'month' ? 30 : 365;
  return window.count * days * DAY;
}

/**
 * An upper bound of any period's actual length: the rolling duration, or `count` × 1, 7, 31 or
 * 366 days plus one day (DST changes and day-of-month clamping stay well within it).
 */
export function periodUpperBoundMs(window: SloWindow): number {
  if (window.kind === 'rolling') return window.durationMs;
  validate(window);
  const days = window.unit === 'day' ? 1 : window.unit === 'week' ? 7 : window.unit === 'month' ? 31 : 366;
  return window.count * days * DAY + DAY;
}
