import type { SignalConsumer } from '../evaluate/types.js';
import type { ProcessorContext, StateStore } from '../../runtime/types.js';
import { anomalyEventId, anomalySerde } from '../../schemas/anomalies.js';
import type { AnomalyEvent, AnomalySeverity, AnomalyState } from '../../schemas/anomalies.js';
import type { SignalValue } from '../../schemas/signal-values.js';
import { signalMatcher } from './bands.js';
import type { BandBoard } from './bands.js';
import { measurementSerde } from '../../schemas/measurements.js';
import type { AnomalyStageConfig, SignalMetric } from './config.js';
import { DetectorBank, DetectorResult } from './detector-bank.js';
import { EventTracker, EventTransition } from './event-tracker.js';
import { SeriesSlots } from './series-slots.js';
import { openStateHeartbeatMs } from '../evaluate/heartbeat.js';
import { impactSeverity, metricKind, significanceFloor } from './significance.js';

/** What the stage remembers of a series besides its model: where it comes from. */
interface SeriesMeta {
  signal: string;
  rule: string;
  metric: SignalMetric;
  dimensions: Record<string, string>;
}

/**
 * Layout version of a series' changelog value. 3 appends the stage's three bytes (the run of
 * significant points, peak severity, the run's best score) after the event state; a version 2 value is still
 * read (those start at 0).
 */
const STATE_VERSION = 3;
const STAGE_BYTES = 3;
/** version u8, seasonSlots u16, noveltyBlocks u8, meta length u32. */
const HEADER_BYTES = 8;

/** Id of the detector series of one value of one signal: `<signal>|<metric>`. */
export function anomalySeriesId(signal: string, metric: string): string {
  return `${signal}|${metric}`;
}

/** Service of a signal's dimensions (empty when the rule does not group by it). */
export function serviceOf(dimensions: Readonly<Record<string, string>>): string {
  return dimensions['service.name'] ?? '';
}

/** Endpoint of a signal's dimensions: http.route, else url.path, rpc.method or endpoint. */
export function endpointOf(dimensions: Readonly<Record<string, string>>): string {
  return dimensions['http.route'] ?? dimensions['url.path'] ?? dimensions['rpc.method'] ?? dimensions.endpoint ?? '';
}

const SEVERITIES: readonly AnomalySeverity[] = ['info', 'warning', 'critical'];
/** A run byte (see AnomalyStage.significant): the run's length in the low 7 bits, this bit set for a rise. */
const RUN_RISE = 0x80;
const RUN_LENGTH = 0x7f;

/**
 * The state of every detector series of one evaluate partition as a changelog store: one entry
 * per series (key: the series id), holding its origin, its model ({@link DetectorBank.writeSlot})
 * and its event state. A series is written once per commit in which it took a point.
 */
class DetectorStateStore implements StateStore {
  readonly name = 'anomaly';
  readonly meta = new Map<string, SeriesMeta>();
  private readonly dirty = new Set<string>();
  /** Entries skipped at restore because they were written with another season or ring size. */
  incompatible = 0;

  constructor(
    private readonly bank: DetectorBank,
    private readonly slots: SeriesSlots,
    private readonly tracker: EventTracker,
    /** The stage's own per-slot bytes: read and written with the slot. */
    private readonly extra: { get(slot: number): [number, number, number]; set(slot: number, drops: number, severity: number, dropScore: number): void },
  ) {}

  /** The slot of a series, allocated (and its event state reset) on first sight. */
  slotOf(id: string, meta: () => SeriesMeta): number {
    const known = this.slots.get(id);
    if (known !== undefined) return known;
    const slot = this.slots.slotOf(id);
    this.tracker.reset(slot);
    this.meta.set(id, meta());
    return slot;
  }

  touch(id: string): void {
    this.dirty.add(id);
  }

  delete(id: string): void {
    this.slots.release(id);
    this.meta.delete(id);
    this.dirty.add(id);
  }

  *drainChanges(): Iterable<readonly [string, Buffer | null]> {
    for (const id of this.dirty) {
      const slot = this.slots.get(id);
      const meta = this.meta.get(id);
      if (slot === undefined || !meta) {
        yield [id, null] as const;
        continue;
      }
      const json = Buffer.from(JSON.stringify([meta.signal, meta.rule, meta.metric, meta.dimensions]), 'utf8');
      const value = Buffer.allocUnsafe(HEADER_BYTES + json.length + this.bank.slotStateBytes + EventTracker.slotStateBytes + STAGE_BYTES);
      let o = value.writeUInt8(STATE_VERSION, 0);
      o = value.writeUInt16LE(this.bank.slots, o);
      o = value.writeUInt8(this.bank.config.noveltyBlocks, o);
      o = value.writeUInt32LE(json.length, o);
      o += json.copy(value, o);
      o += this.bank.writeSlot(slot, value, o);
      o += this.tracker.writeSlot(slot, value, o);
      const [drops, severity, dropScore] = this.extra.get(slot);
      o = value.writeUInt8(drops, o);
      o = value.writeUInt8(severity, o);
      value.writeUInt8(dropScore, o);
      yield [id, value] as const;
    }
    this.dirty.clear();
  }

  restore(id: string, value: Buffer | null): void {
    if (value === null) {
      this.slots.release(id);
      this.meta.delete(id);
      return;
    }
    const version = value.readUInt8(0);
    if ((version !== STATE_VERSION && version !== 2) || value.readUInt16LE(1) !== this.bank.slots || value.readUInt8(3) !== this.bank.config.noveltyBlocks) {
      // Written under another layout or season configuration: the series starts over.
      this.incompatible++;
      this.slots.release(id);
      this.meta.delete(id);
      return;
    }
    const length = value.readUInt32LE(4);
    const [signal, rule, metric, dimensions] = JSON.parse(value.toString('utf8', HEADER_BYTES, HEADER_BYTES + length)) as [string, string, SignalMetric, Record<string, string>];
    const slot = this.slotOf(id, () => ({ signal, rule, metric, dimensions }));
    let o = HEADER_BYTES + length;
    o += this.bank.readSlot(slot, value, o);
    o += this.tracker.readSlot(slot, value, o);
    if (version === STATE_VERSION) this.extra.set(slot, value.readUInt8(o), value.readUInt8(o + 1), value.readUInt8(o + 2));
    else this.extra.set(slot, 0, 0, 0);
  }

  clear(): void {
    this.slots.clear();
    this.meta.clear();
    this.dirty.clear();
  }

  sizeBytes(): number {
    return this.slots.size * (this.bank.slotStateBytes + EventTracker.slotStateBytes + STAGE_BYTES);
  }

  size(): number {
    return this.slots.size;
  }
}

/**
 * Streaming anomaly detection inside evaluate: every closed bucket of every signal feeds one
 * detector per configured metric (series `<signal>|<metric>`, e.g. the p95 latency of a route),
 * and each open, update or resolved transition of a series' event becomes an AnomalyEvent on the
 * anomalies topic, written in evaluate's transaction with the input that caused it. The models
 * and event states are a changelog store, so a restarted or moved partition resumes them.
 */
export class AnomalyStage implements SignalConsumer {
  readonly name = 'anomaly';
  readonly bank: DetectorBank;
  private readonly slots: SeriesSlots;
  /** Whether reaching maxSeries was logged (once per stage: a flood logs one line, the counter counts). */
  private seriesLimitLogged = false;
  private readonly tracker: EventTracker;
  private readonly store: DetectorStateStore;
  private readonly result = new DetectorResult();
  private readonly transition = new EventTransition();
  private readonly banded = new Set<string>();
  private latestMs = -Infinity;
  private scannedMs = -Infinity;
  private readonly watched: (signal: string) => boolean;
  /**
   * Per slot: the current run of significant points (length and side, see RUN_RISE), and the highest
   * severity of the open event (index into SEVERITIES). Written to the changelog with the slot.
   */
  private drops = new Uint8Array(64);
  private peakSeverity = new Uint8Array(64);
  /**
   * The highest detector score of the current run, in 1/255: a detector scores the first point of
   * a change highest (the next ones are no longer news to it), and the confirming point opens the
   * event with that score.
   */
  private dropScore = new Uint8Array(64);

  /** Data time between repeats of an open event's state (UPDATE) when nothing else was emitted about it. */
  private readonly heartbeatMs: number;

  constructor(
    private readonly config: AnomalyStageConfig,
    private readonly bands?: BandBoard,
    options: { heartbeatMs?: number } = {},
  ) {
    this.heartbeatMs = options.heartbeatMs ?? openStateHeartbeatMs;
    this.bank = new DetectorBank(config.detector, { initialSeries: 64, maxSeries: config.maxSeries });
    this.slots = new SeriesSlots(this.bank);
    this.tracker = new EventTracker({ ...config.events, initialSeries: 64 });
    this.store = new DetectorStateStore(this.bank, this.slots, this.tracker, {
      get: (slot) => [(this.drops[slot] as number | undefined) ?? 0, (this.peakSeverity[slot] as number | undefined) ?? 0, (this.dropScore[slot] as number | undefined) ?? 0],
      set: (slot, drops, severity, dropScore) => {
        this.ensure(slot);
        this.drops[slot] = drops;
        this.peakSeverity[slot] = severity;
        this.dropScore[slot] = dropScore;
      },
    });
    this.watched = config.measurementsTopic === '' ? () => false : signalMatcher(config.bands);
  }

  init(context: ProcessorContext): void {
    context.register(this.store);
  }

  restored(context: ProcessorContext): void {
    if (this.store.incompatible > 0) {
      context.log.warn({ series: this.store.incompatible }, 'anomaly state written under another season configuration was dropped; those series start over');
      context.counters.add('anomaly_state_incompatible', this.store.incompatible);
    }
    for (const [, slot] of this.slots.entries()) this.latestMs = Math.max(this.latestMs, this.bank.lastTimestamp(slot));
    // The eviction scan runs when data time enters a new period of staleSeriesMs / 8; the restored
    // point's period was scanned before its commit, so a restart keeps the scans (and the
    // resolutions of series that went silent) at the same points as a run that went through.
    this.scannedMs = this.latestMs;
  }

  /** Series currently watched. */
  get series(): number {
    return this.slots.size;
  }

  onSignalValue(value: Readonly<SignalValue>, context: ProcessorContext): void {
    // Signals of SLO rules (`slo.<name>`) repeat what the service's own signals already show.
    if (value.rule.startsWith('slo.')) return;
    const ts = value.bucketStartMs;
    for (const metric of this.config.metrics) {
      const id = anomalySeriesId(value.signal, metric);
      let slot: number;
      const known = this.slots.get(id) !== undefined;
      try {
        slot = this.store.slotOf(id, () => ({ signal: value.signal, rule: value.rule, metric, dimensions: { ...value.dimensions } }));
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
        context.counters.add('anomaly_series_limited');
        if (!this.seriesLimitLogged) {
          this.seriesLimitLogged = true;
          context.log.warn({ maxSeries: this.config.maxSeries }, 'anomaly series limit reached: new series are not watched (counted in anomaly_series_limited)');
        }
        continue;
      }
      if (!known) {
        this.ensure(slot);
        this.drops[slot] = 0;
        this.peakSeverity[slot] = 0;
        this.dropScore[slot] = 0;
      }
      // A ratio or quantile of no requests is a gap, not a zero.
      const x = metric === 'errorRatio' && value.count === 0 ? Number.NaN : value[metric];
      // The series' previous point (restored with the model), for the open event's heartbeat.
      const previousTs = known ? this.bank.lastTimestamp(slot) : Number.NaN;
      const r = this.bank.update(slot, ts, x, this.result);
      this.store.touch(id);
      context.counters.add('anomaly_points');
      if (this.bands?.watches(value.signal)) {
        if (this.bands.set(id, { signal: value.signal, metric: `${value.rule}.${metric}`, service: serviceOf(value.dimensions), endpoint: endpointOf(value.dimensions) }, r.expected, r.lower, r.upper, x, r.rawScore)) this.banded.add(id);
      }
      if (this.watched(value.signal)) {
        const measurement = {
          measurement: 'anomaly',
          timestamp: ts,
          tags: { signal: value.signal, metric: `${value.rule}.${metric}`, service: serviceOf(value.dimensions), endpoint: endpointOf(value.dimensions) },
          fields: { actual: x, expected: r.expected, lower: r.lower, upper: r.upper, score: r.rawScore, detection: r.score },
        };
        context.emit({ topic: this.config.measurementsTopic, key: id, value: measurementSerde.serialize(measurement) });
      }
      const { score, magnitude } = this.significant(slot, metric, value, x, r);
      if (this.tracker.observe(slot, ts, score, this.transition, x, r.lower, r.upper)) {
        const requests = metricKind(metric) === 'value' ? Number.NaN : metricKind(metric) === 'rate' ? Math.max(value.count, (Math.max(0, r.expected) * (metric === 'rate' ? value.bucketMs : 1000)) / 1000) : value.count;
        const level = SEVERITIES.indexOf(impactSeverity(magnitude, this.transition.points, requests, this.config.severity));
        if (this.transition.state === 'open') {
          this.peakSeverity[slot] = 0;
          // The event carries the score that opened it: the run's best (see significant).
          if (score > r.rawScore) r.rawScore = score;
        }
        if (level > (this.peakSeverity[slot] as number)) this.peakSeverity[slot] = level;
        this.emit(context, value.signal, value.rule, metric, value.dimensions, x, r, this.transition, this.transition.state === 'resolved' ? (this.peakSeverity[slot] as number) : level);
      } else if (this.heartbeatDue(slot, previousTs, ts) && this.tracker.current(slot, ts, this.transition)) {
        // Still open and nothing said about it for a heartbeat: an UPDATE tells the sinks it is not stale.
        this.emit(context, value.signal, value.rule, metric, value.dimensions, x, r, this.transition, this.peakSeverity[slot] as number);
        context.counters.add('anomaly_events_heartbeat');
      }
    }
    if (ts > this.latestMs) this.latestMs = ts;
    const scanEvery = this.config.staleSeriesMs / 8;
    if (Math.floor(this.latestMs / scanEvery) > Math.floor(this.scannedMs / scanEvery)) this.evictStale(context);
  }

  /**
   * The score the event state machine sees, and `magnitude`, the deviation in significance floors.
   * A deviation counts only while it is practically significant (see significance.ts), and an
   * event opens only once it has lasted: a run starts at a significant point that scores at the
   * alert level (for a fall of a rate or count, at any significant fall) and goes on while the
   * points stay significant on the same side; the event opens when the run reaches
   * `events.confirmPoints` points (`traffic.confirmDrop` for a fall of a rate or count), with the
   * run's best score (a detector scores the first point of a change highest; the next ones are no
   * longer news to it). A one-bucket blip (a pause, a noisy neighbour for seconds) opens nothing;
   * neither does a clean shutdown's last partial bucket. Once open, an event sees the undamped
   * score (the run's best for a fall of traffic) while significant. With traffic.zeroIsStop a fall
   * to exactly zero counts for nothing.
   */
  private significant(slot: number, metric: SignalMetric, value: Readonly<SignalValue>, x: number, r: DetectorResult): { score: number; magnitude: number } {
    this.ensure(slot);
    const rate = metricKind(metric) === 'rate';
    if (!Number.isFinite(x) || !Number.isFinite(r.expected)) {
      this.endRun(slot);
      return { score: 0, magnitude: 0 };
    }
    const open = this.tracker.isOpen(slot);
    const run = this.drops[slot] as number;
    if (r.rawScore <= 0 && !rate && !open && run === 0) return { score: 0, magnitude: 0 };
    const deviation = x - r.expected;
    const floor = significanceFloor(metric, value, r.expected, x, this.config.significance);
    const size = Math.abs(deviation);
    const magnitude = floor > 0 ? size / floor : size > 0 ? Number.POSITIVE_INFINITY : 0;
    if (!(floor < Number.POSITIVE_INFINITY && size > 0 && size >= floor)) {
      this.endRun(slot);
      return { score: 0, magnitude };
    }
    const side = deviation > 0 ? RUN_RISE : 0;
    const fall = rate && side === 0;
    const continues = run > 0 && (run & RUN_RISE) === side;
    if (!continues && !fall && r.rawScore < this.config.events.openAbove) {
      this.endRun(slot);
      return { score: open ? r.rawScore : 0, magnitude };
    }
    const length = continues ? Math.min(RUN_LENGTH, (run & RUN_LENGTH) + 1) : 1;
    this.drops[slot] = length | side;
    const best = Math.min(1, Math.max(r.rawScore, continues ? (this.dropScore[slot] as number) / 255 : 0));
    this.dropScore[slot] = Math.round(best * 255);
    if (fall && this.config.traffic.zeroIsStop && x === 0) return { score: 0, magnitude };
    if (open) return { score: fall ? best : r.rawScore, magnitude };
    return { score: length >= (fall ? this.config.traffic.confirmDrop : this.config.events.confirmPoints) ? best : 0, magnitude };
  }

  /** Ends the slot's run of significant points (see {@link significant}). */
  private endRun(slot: number): void {
    this.drops[slot] = 0;
    this.dropScore[slot] = 0;
  }

  /**
   * Whether the point at `ts` crosses a multiple of the heartbeat (counted from the open event's
   * start) that the series' previous point had not: decided from the data and the restored state
   * alone, so a restarted evaluate repeats at the same points as one that ran through.
   */
  private heartbeatDue(slot: number, previousTs: number, ts: number): boolean {
    const started = this.tracker.openedAt(slot);
    if (this.heartbeatMs <= 0 || !Number.isFinite(started) || !Number.isFinite(previousTs) || !(ts > started)) return false;
    return Math.floor((ts - started) / this.heartbeatMs) > Math.floor((Math.max(previousTs, started) - started) / this.heartbeatMs);
  }

  /** Grows the per-slot byte columns to hold `slot`. */
  private ensure(slot: number): void {
    if (slot < this.drops.length) return;
    let n = this.drops.length;
    while (n <= slot) n *= 2;
    const drops = new Uint8Array(n);
    drops.set(this.drops);
    this.drops = drops;
    const peak = new Uint8Array(n);
    peak.set(this.peakSeverity);
    this.peakSeverity = peak;
    const dropScore = new Uint8Array(n);
    dropScore.set(this.dropScore);
    this.dropScore = dropScore;
  }

  close(): void {
    for (const id of this.banded) this.bands?.delete(id);
    this.banded.clear();
  }

  /** Forgets series with no point for staleSeriesMs; an open event is resolved first. */
  private evictStale(context: ProcessorContext): void {
    this.scannedMs = this.latestMs;
    const cutoff = this.latestMs - this.config.staleSeriesMs;
    const stale: [string, number][] = [];
    for (const [id, slot] of this.slots.entries()) if (this.bank.lastTimestamp(slot) < cutoff) stale.push([id, slot]);
    for (const [id, slot] of stale) {
      const meta = this.store.meta.get(id);
      if (meta && this.tracker.isOpen(slot)) {
        // Enough scores below closeBelow resolve the event; the result says it was a gap.
        let resolved = false;
        for (let i = 0; i < this.config.events.closeAfter && !resolved; i++) {
          resolved = this.tracker.observe(slot, this.latestMs, 0, this.transition);
        }
        this.bank.update(slot, Number.NaN, Number.NaN, this.result);
        if (resolved) this.emit(context, meta.signal, meta.rule, meta.metric, meta.dimensions, Number.NaN, this.result, this.transition, (this.peakSeverity[slot] as number | undefined) ?? 0);
      }
      this.store.delete(id);
      this.bands?.delete(id);
      this.banded.delete(id);
    }
    if (stale.length > 0) context.counters.add('anomaly_series_evicted', stale.length);
  }

  private emit(
    context: ProcessorContext,
    signal: string,
    rule: string,
    metric: SignalMetric,
    dimensions: Readonly<Record<string, string>>,
    actual: number,
    r: DetectorResult,
    t: EventTransition,
    severity: number,
  ): void {
    const state: AnomalyState = t.state === 'open' ? 'OPEN' : t.state === 'update' ? 'UPDATE' : 'RESOLVED';
    const name = `${rule}.${metric}`;
    const event: AnomalyEvent = {
      id: anomalyEventId(signal, name, t.startedMs, t.sequence),
      timestamp: t.timestampMs,
      metric: name,
      signal,
      expected_value: r.expected,
      actual_value: actual,
      lower: r.lower,
      upper: r.upper,
      deviation: r.deviation,
      score: r.rawScore,
      confidence: r.confidence,
      severity: SEVERITIES[severity] ?? 'info',
      state,
      detector: r.detector,
      mode: r.mode,
      started_at: t.startedMs,
      context: { service: serviceOf(dimensions), endpoint: endpointOf(dimensions), dimensions: { ...dimensions } },
    };
    context.emit({ topic: this.config.topic, key: signal, value: anomalySerde.serialize(event) });
    context.counters.add(`anomaly_events_${t.state}`);
  }
}
