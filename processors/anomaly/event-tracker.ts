/** Lifecycle step of an anomaly event. */
export type EventState = 'open' | 'update' | 'resolved';

/** Thresholds of the event state machine. */
export interface EventTrackerOptions {
  /** A score at or above this opens an event, or updates an open one. */
  readonly openAbove: number;
  /** Hysteresis: an open event resolves after `closeAfter` consecutive scores below this. */
  readonly closeBelow: number;
  readonly closeAfter: number;
  /**
   * Hold: while the value stays past the hold level on the side the opening value left the band
   * by, the event stays open even if the scores fall, for at most this long after it opened. The
   * hold level is half-way from the opening band's middle to the opening value, and at least the
   * band's edge: a detector adapts to a sustained shift and stops scoring it, but the incident is
   * not over until the value has come most of the way back. 0 turns the hold off. Default one hour.
   */
  readonly holdMaxMs?: number;
  /** Slots to allocate up front (grows by doubling). */
  readonly initialSeries?: number;
}

/** Default thresholds: open at 0.5, resolve after 3 points below 0.3, hold for up to an hour. */
export const defaultEventTrackerOptions: EventTrackerOptions = Object.freeze({ openAbove: 0.5, closeBelow: 0.3, closeAfter: 3, holdMaxMs: 3_600_000 });

/** What {@link EventTracker.observe} reports for a transition; reuse one instance. */
export class EventTransition {
  state: EventState = 'open';
  /** Timestamp of the point that opened the event. */
  startedMs = 0;
  /** Timestamp of the point that caused this transition. */
  timestampMs = 0;
  /** Highest score while open. */
  peakScore = 0;
  /** Points observed since the event opened (including this one). */
  points = 0;
  /** Events opened so far for this slot, this one included: with the series id, a stable event id. */
  sequence = 0;
}

/**
 * Per-series anomaly event state machine, independent of how scores are computed: idle until a
 * score reaches `openAbove` (open), then `update` on each further score at or above it, and
 * `resolved` after `closeAfter` consecutive scores below `closeBelow`. Scores in between keep the
 * event open silently, and so does a value still beyond the band the event opened against (see
 * `holdMaxMs`). State is a few typed-array columns indexed by series slot.
 */
export class EventTracker {
  readonly options: EventTrackerOptions;
  private openFlag: Uint8Array;
  private below: Uint32Array;
  private points: Uint32Array;
  private sequence: Uint32Array;
  private started: Float64Array;
  private peak: Float64Array;
  /** The hold level (see holdMaxMs), and the side: +1 above the upper edge, -1 below the lower, 0 none. */
  private holdEdge: Float64Array;
  private holdSign: Int8Array;
  private readonly holdMaxMs: number;

  constructor(options: EventTrackerOptions = defaultEventTrackerOptions) {
    if (!(options.closeBelow <= options.openAbove)) throw new RangeError('closeBelow must not exceed openAbove');
    if (!(options.closeAfter >= 1)) throw new RangeError('closeAfter must be at least 1');
    this.options = options;
    const n = Math.max(1, options.initialSeries ?? 1024);
    this.openFlag = new Uint8Array(n);
    this.below = new Uint32Array(n);
    this.points = new Uint32Array(n);
    this.sequence = new Uint32Array(n);
    this.started = new Float64Array(n);
    this.peak = new Float64Array(n);
    this.holdEdge = new Float64Array(n);
    this.holdSign = new Int8Array(n);
    this.holdMaxMs = options.holdMaxMs ?? 0;
  }

  /** Whether the series in `slot` has an open event. */
  isOpen(slot: number): boolean {
    return slot < this.openFlag.length && this.openFlag[slot] === 1;
  }

  /** Forgets the slot's event state (when the slot is given to another series). */
  reset(slot: number): void {
    if (slot >= this.openFlag.length) return;
    this.openFlag[slot] = 0;
    this.below[slot] = 0;
    this.points[slot] = 0;
    this.sequence[slot] = 0;
    this.started[slot] = 0;
    this.peak[slot] = 0;
    this.holdEdge[slot] = 0;
    this.holdSign[slot] = 0;
  }

  /**
   * Feeds one scored point. Returns true and fills `out` when it opens, updates or resolves an
   * event; false when nothing is to be reported (NaN scores count as below). `value`, `lower`
   * and `upper` (the point and the band it was judged against) drive the hold; NaN: no hold.
   */
  observe(slot: number, timestampMs: number, score: number, out: EventTransition, value = Number.NaN, lower = Number.NaN, upper = Number.NaN): boolean {
    if (slot >= this.openFlag.length) this.grow(slot + 1);
    const o = this.options;
    if (this.openFlag[slot] === 0) {
      if (!(score >= o.openAbove)) return false;
      this.openFlag[slot] = 1;
      this.below[slot] = 0;
      this.points[slot] = 1;
      this.sequence[slot] = (this.sequence[slot] as number) + 1;
      this.started[slot] = timestampMs;
      this.peak[slot] = score;
      const sign = value > upper ? 1 : value < lower ? -1 : 0;
      const halfWay = 0.5 * (0.5 * (lower + upper) + value);
      this.holdSign[slot] = sign;
      this.holdEdge[slot] = sign > 0 ? Math.max(upper, halfWay) : sign < 0 ? Math.min(lower, halfWay) : 0;
      return this.fill(slot, 'open', timestampMs, out);
    }
    this.points[slot] = (this.points[slot] as number) + 1;
    if (score >= o.openAbove) {
      this.below[slot] = 0;
      if (score > (this.peak[slot] as number)) this.peak[slot] = score;
      return this.fill(slot, 'update', timestampMs, out);
    }
    if (score >= o.closeBelow || this.held(slot, timestampMs, value)) {
      this.below[slot] = 0;
      return false;
    }
    const below = (this.below[slot] as number) + 1;
    this.below[slot] = below;
    if (below < o.closeAfter) return false;
    this.openFlag[slot] = 0;
    this.below[slot] = 0;
    return this.fill(slot, 'resolved', timestampMs, out);
  }

  /** Whether an open event's value is still past its hold level, within holdMaxMs. */
  private held(slot: number, timestampMs: number, value: number): boolean {
    const sign = this.holdSign[slot] as number;
    if (sign === 0 || this.holdMaxMs <= 0 || timestampMs - (this.started[slot] as number) >= this.holdMaxMs) return false;
    const edge = this.holdEdge[slot] as number;
    return sign > 0 ? value > edge : value < edge;
  }

  /** Bytes {@link writeSlot} writes for one series. */
  static readonly slotStateBytes = 1 + 4 * 3 + 8 * 2 + 8 + 1;

  /** Writes the slot's event state into `target` at `offset`; returns the bytes written. */
  writeSlot(slot: number, target: Buffer, offset = 0): number {
    if (slot >= this.openFlag.length) this.grow(slot + 1);
    let o = target.writeUInt8(this.openFlag[slot] as number, offset);
    o = target.writeUInt32LE(this.below[slot] as number, o);
    o = target.writeUInt32LE(this.points[slot] as number, o);
    o = target.writeUInt32LE(this.sequence[slot] as number, o);
    o = target.writeDoubleLE(this.started[slot] as number, o);
    o = target.writeDoubleLE(this.peak[slot] as number, o);
    o = target.writeDoubleLE(this.holdEdge[slot] as number, o);
    o = target.writeInt8(this.holdSign[slot] as number, o);
    return o - offset;
  }

  /** Restores a slot written by {@link writeSlot}; returns the bytes read. */
  readSlot(slot: number, source: Buffer, offset = 0): number {
    if (source.length - offset < EventTracker.slotStateBytes) throw new RangeError(`event state needs ${EventTracker.slotStateBytes} bytes, got ${source.length - offset}`);
    if (slot >= this.openFlag.length) this.grow(slot + 1);
    this.openFlag[slot] = source.readUInt8(offset);
    this.below[slot] = source.readUInt32LE(offset + 1);
    this.points[slot] = source.readUInt32LE(offset + 5);
    this.sequence[slot] = source.readUInt32LE(offset + 9);
    this.started[slot] = source.readDoubleLE(offset + 13);
    this.peak[slot] = source.readDoubleLE(offset + 21);
    this.holdEdge[slot] = source.readDoubleLE(offset + 29);
    this.holdSign[slot] = source.readInt8(offset + 37);
    return EventTracker.slotStateBytes;
  }

  /** Start (event time) of the slot's open event; NaN when none is open. */
  openedAt(slot: number): number {
    return this.isOpen(slot) ? (this.started[slot] as number) : Number.NaN;
  }

  /**
   * Fills `out` with an `update` of the slot's open event at `timestampMs` without changing its
   * state (a heartbeat: the event is still open); false when none is open.
   */
  current(slot: number, timestampMs: number, out: EventTransition): boolean {
    if (!this.isOpen(slot)) return false;
    return this.fill(slot, 'update', timestampMs, out);
  }

  /** Highest score of the slot's current (or last) event. */
  peakScore(slot: number): number {
    return slot < this.peak.length ? (this.peak[slot] as number) : 0;
  }

  private fill(slot: number, state: EventState, timestampMs: number, out: EventTransition): true {
    out.state = state;
    out.startedMs = this.started[slot] as number;
    out.timestampMs = timestampMs;
    out.peakScore = this.peak[slot] as number;
    out.points = this.points[slot] as number;
    out.sequence = this.sequence[slot] as number;
    return true;
  }

  private grow(min: number): void {
    let n = this.openFlag.length;
    while (n < min) n *= 2;
    const copy = <T extends Uint8Array | Int8Array | Uint32Array | Float64Array>(a: T, b: T): T => {
      b.set(a);
      return b;
    };
    this.openFlag = copy(this.openFlag, new Uint8Array(n));
    this.below = copy(this.below, new Uint32Array(n));
    this.points = copy(this.points, new Uint32Array(n));
    this.sequence = copy(this.sequence, new Uint32Array(n));
    this.started = copy(this.started, new Float64Array(n));
    this.peak = copy(this.peak, new Float64Array(n));
    this.holdEdge = copy(this.holdEdge, new Float64Array(n));
    this.holdSign = copy(this.holdSign, new Int8Array(n));
  }
}
