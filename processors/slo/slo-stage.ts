import type { SignalConsumer } from '../evaluate/types.js';
import type { ProcessorContext, StateStore } from '../../runtime/types.js';
import { sloEventId, sloEventSerde, sloTopic } from '../../schemas/slo.js';
import type { SloEvent } from '../../schemas/slo.js';
import type { SignalValue } from '../../schemas/signal-values.js';
import { measurementSerde, measurementsTopic } from '../../schemas/measurements.js';
import { openStateHeartbeatMs } from '../evaluate/heartbeat.js';
import { nominalPeriodMs } from './calendar.js';
import { SloEngine, SloSnapshot } from './engine.js';
import type { AlertTier, AlertTransition } from './engine.js';
import { goodAndTotal, sloNameOf } from './signals.js';
import { SloBoard, periodLabel, windowLabel } from './slo-board.js';
import type { SloSpec } from './types.js';

/** What the stage keeps per SLO besides the engine's pages. */
interface SloMeta {
  bucketMs: number;
  /** When each firing tier started firing (for the event id of its RESOLVED record). */
  firingSince: Partial<Record<AlertTier, number>>;
  /**
   * Timeslices budgeting: the slice being summed (index = start / slice length, and its counts),
   * kept in the changelog with the rest of the meta so a restart resumes it mid-slice.
   */
  openSlice?: { slice: number; good: number; total: number };
}

export { SloBoard, periodLabel, windowLabel };

/**
 * The state of every SLO engine of one evaluate partition as a changelog store: the engine's
 * pages (`<slo>/<page>`) and the stage's meta (`<slo>/meta`). Restored entries are buffered and
 * applied once the partition's restore is complete, because the engine is built from the meta.
 */
class SloStateStore implements StateStore {
  readonly name = 'slo';
  readonly pending = new Map<string, Map<string, Buffer>>();
  readonly dirtyMeta = new Set<string>();

  constructor(private readonly stage: SloStage) {}

  *drainChanges(): Iterable<readonly [string, Buffer | null]> {
    for (const name of this.dirtyMeta) {
      const meta = this.stage.metaOf(name);
      yield [`${name}/meta`, meta ? Buffer.from(JSON.stringify(meta)) : null] as const;
    }
    this.dirtyMeta.clear();
    for (const [name, engine] of this.stage.engineEntries()) {
      for (const key of engine.dirtyPages()) yield [`${name}/${key}`, engine.writePage(key)] as const;
      engine.clearDirty();
    }
  }

  restore(key: string, value: Buffer | null): void {
    const at = key.lastIndexOf('/');
    const name = key.slice(0, at);
    let pages = this.pending.get(name);
    if (!pages) this.pending.set(name, (pages = new Map()));
    if (value === null) pages.delete(key.slice(at + 1));
    else pages.set(key.slice(at + 1), value);
  }

  clear(): void {
    this.pending.clear();
    this.dirtyMeta.clear();
    this.stage.reset();
  }

  sizeBytes(): number {
    let n = 0;
    for (const [, engine] of this.stage.engineEntries()) n += engine.pageKeys().length * 360 * 16;
    return n;
  }

  size(): number {
    return [...this.stage.engineEntries()].length;
  }
}

/**
 * The SLO engine inside evaluate: every closed bucket of an SLO's signal (rule `slo.<name>`, see
 * signals.ts) adds its good and total events to the SLO's engine; each alert tier that starts or
 * stops firing becomes an SloEvent on `aiops.slo.v1`, in evaluate's transaction. Evaluate's
 * watermark moves the engines on through buckets without traffic, so windows drain and calendar
 * periods roll over even when a service goes quiet.
 */
export class SloStage implements SignalConsumer {
  readonly name = 'slo';
  private readonly specs = new Map<string, SloSpec>();
  private readonly engines = new Map<string, SloEngine>();
  private readonly metas = new Map<string, SloMeta>();
  private readonly store = new SloStateStore(this);
  private readonly transitions: AlertTransition[] = [];
  /** Tiers pushed again by the current evaluation (heartbeats), and the bucket each tier last beat in. */
  private readonly repeated = new Set<AlertTier>();
  private readonly beats = new Map<string, number>();
  private readonly heartbeatMs: number;
  private readonly topic: string;
  private readonly board: SloBoard | undefined;
  private readonly measurements: string;
  private readonly scratch = new SloSnapshot();

  /**
   * `topic`: where SloEvents go; `measurementsTopic`: where each evaluated bucket's windows and
   * budget go as a measurement (default aiops.measurements.v1, '' for none); `board`: gauges.
   */
  constructor(
    specs: readonly SloSpec[],
    options: { topic?: string; board?: SloBoard; measurementsTopic?: string; heartbeatMs?: number } = {},
  ) {
    this.heartbeatMs = options.heartbeatMs ?? openStateHeartbeatMs;
    for (const s of specs) this.specs.set(s.name, s);
    this.topic = options.topic ?? sloTopic;
    this.board = options.board;
    this.measurements = options.measurementsTopic ?? measurementsTopic;
  }

  init(context: ProcessorContext): void {
    context.register(this.store);
  }

  restored(context: ProcessorContext): void {
    for (const [name, pages] of this.store.pending) {
      const spec = this.specs.get(name);
      const metaBytes = pages.get('meta');
      if (!spec || !metaBytes) continue; // an SLO no longer configured: its state is left alone
      const meta = JSON.parse(metaBytes.toString('utf8')) as SloMeta;
      try {
        const engine = new SloEngine(spec, { bucketMs: meta.bucketMs });
        for (const [key, page] of pages) if (key !== 'meta') engine.readPage(key, page);
        engine.restored();
        this.engines.set(name, engine);
        this.metas.set(name, meta);
        this.publish(spec, engine);
      } catch (error) {
        // Written under another period or bucket length: the SLO starts over.
        context.log.warn({ slo: name, error: (error as Error).message }, 'SLO state does not fit the current specification; starting over');
        context.counters.add('slo_state_incompatible');
      }
    }
    this.store.pending.clear();
  }

  /** Forgets every engine (before a restore). */
  reset(): void {
    this.engines.clear();
    this.metas.clear();
  }

  metaOf(name: string): SloMeta | undefined {
    return this.metas.get(name);
  }

  engineEntries(): IterableIterator<[string, SloEngine]> {
    return this.engines.entries();
  }

  onSignalValue(value: Readonly<SignalValue>, context: ProcessorContext): void {
    const name = sloNameOf(value.rule);
    if (name === undefined) return;
    const spec = this.specs.get(name);
    if (!spec) {
      context.counters.add('slo_unknown_signals');
      return;
    }
    let engine = this.engines.get(name);
    if (!engine) {
      try {
        engine = new SloEngine(spec, { bucketMs: value.bucketMs });
      } catch (error) {
        context.counters.add('slo_rejected_buckets');
        context.log.error({ slo: name, bucketMs: value.bucketMs, error: (error as Error).message }, 'SLO cannot be evaluated with this bucket length');
        return;
      }
      this.engines.set(name, engine);
      this.metas.set(name, { bucketMs: value.bucketMs, firingSince: {} });
      this.store.dirtyMeta.add(name);
    } else if (engine.bucketMs !== value.bucketMs) {
      context.counters.add('slo_rejected_buckets');
      return;
    }
    const { good, total } = goodAndTotal(spec.sli, value);
    if (spec.timeslices) this.addToSlice(spec, engine, value.bucketStartMs, value.bucketMs, good, total, context);
    else if (!engine.add(value.bucketStartMs, good, total)) context.counters.add('slo_late_buckets');
    this.evaluate(spec, engine, context);
  }

  /**
   * Timeslices and RatioTimeslices: buckets are summed per slice; once a later slice begins (or
   * the watermark passes the slice's end) the slice is one event for the engine, at its last
   * bucket: good when its good ratio reaches the target (Timeslices), or worth its good ratio
   * (RatioTimeslices). Slices without traffic are no event. A bucket of an already closed slice
   * is late. The open slice is in the SLO's meta, so it survives a restart.
   */
  private addToSlice(spec: SloSpec, engine: SloEngine, bucketStartMs: number, bucketMs: number, good: number, total: number, context: ProcessorContext): void {
    const windowMs = spec.timeslices?.windowMs ?? bucketMs;
    if (windowMs % bucketMs !== 0) {
      context.counters.add('slo_rejected_buckets');
      return;
    }
    const slice = Math.floor(bucketStartMs / windowMs);
    const meta = this.metas.get(spec.name) as SloMeta;
    const open = meta.openSlice;
    if (open && slice < open.slice) {
      context.counters.add('slo_late_buckets');
      return;
    }
    if (open && slice > open.slice) this.closeSlice(spec, engine, bucketMs, context);
    const current = meta.openSlice ?? { slice, good: 0, total: 0 };
    current.good += good;
    current.total += total;
    meta.openSlice = current;
    this.store.dirtyMeta.add(spec.name);
  }

  private closeSlice(spec: SloSpec, engine: SloEngine, bucketMs: number, context: ProcessorContext): void {
    const meta = this.metas.get(spec.name) as SloMeta;
    const open = meta.openSlice;
    delete meta.openSlice;
    this.store.dirtyMeta.add(spec.name);
    if (!open || !(open.total > 0) || !spec.timeslices) return;
    const ratio = Math.min(1, open.good / open.total);
    const good = spec.budgeting === 'Timeslices' ? (ratio >= (spec.timeslices.target ?? 1) ? 1 : 0) : ratio;
    const lastBucket = (open.slice + 1) * spec.timeslices.windowMs - bucketMs;
    if (!engine.add(lastBucket, good, 1)) context.counters.add('slo_late_buckets');
  }

  onWatermark(watermarkMs: number, context: ProcessorContext): void {
    for (const [name, engine] of this.engines) {
      const spec = this.specs.get(name) as SloSpec;
      const open = this.metas.get(name)?.openSlice;
      let changed = false;
      if (spec.timeslices && open && watermarkMs >= (open.slice + 1) * spec.timeslices.windowMs) {
        this.closeSlice(spec, engine, engine.bucketMs, context);
        changed = true;
      }
      const now = Math.floor(watermarkMs / engine.bucketMs) * engine.bucketMs;
      if (now > engine.nowMs) {
        engine.advanceTo(now);
        changed = true;
      }
      if (changed) this.evaluate(spec, engine, context);
    }
  }

  close(): void {
    for (const name of this.engines.keys()) this.board?.delete(name);
  }

  private evaluate(spec: SloSpec, engine: SloEngine, context: ProcessorContext): void {
    this.transitions.length = 0;
    const repeated = this.repeated;
    repeated.clear();
    engine.evaluate(this.transitions, (tier) => {
      if (!this.heartbeatDue(spec.name, tier, engine)) return false;
      repeated.add(tier);
      return true;
    });
    for (const t of this.transitions) this.emit(spec, t, context, repeated.has(t.tier));
    this.publish(spec, engine);
    // Nothing to measure before the engine's first bucket (a timeslice SLO before its first slice closes).
    if (this.measurements !== '' && Number.isFinite(engine.nowMs)) {
      const snap = engine.snapshot(this.scratch);
      const fields: Record<string, number> = {
        budget_remaining: snap.period.budgetRemaining,
        period_events: snap.period.total,
        objective: spec.objective,
        observed_share: snap.period.observedShare,
      };
      for (const w of snap.windows) {
        fields[`burn_rate_${windowLabel(w.windowMs)}`] = w.burnRate;
        fields[`error_ratio_${windowLabel(w.windowMs)}`] = w.errorRatio;
      }
      const value = measurementSerde.serialize({ measurement: 'slo', timestamp: snap.nowMs, tags: { slo: spec.name, service: spec.service }, fields });
      context.emit({ topic: this.measurements, key: spec.name, value });
    }
  }

  private publish(spec: SloSpec, engine: SloEngine): void {
    if (!this.board) return;
    const snapshot = this.board.get(spec.name)?.snapshot ?? new SloSnapshot();
    engine.snapshot(snapshot);
    this.board.update(spec, snapshot, { page: engine.firing('page'), ticket: engine.firing('ticket'), budget: engine.firing('budget') });
  }

  /**
   * Whether a firing tier is due for its heartbeat: evaluate repeats a firing tier's FIRING event
   * once every `heartbeatMs` of data time since it started (in the bucket a multiple falls in), so
   * the sinks can tell an alert that still fires from one whose evaluate is gone (staleness,
   * docs/sinks.md). Decided from the data and the persisted start alone, so a restarted evaluate
   * repeats at the same points; `beats` only keeps two evaluations of one bucket from both repeating.
   */
  private heartbeatDue(name: string, tier: AlertTier, engine: SloEngine): boolean {
    const since = this.metas.get(name)?.firingSince[tier];
    const now = engine.nowMs;
    if (this.heartbeatMs <= 0 || since === undefined || !(now > since) || (now - since) % this.heartbeatMs >= engine.bucketMs) return false;
    const key = `${name}|${tier}`;
    if (this.beats.get(key) === now) return false;
    this.beats.set(key, now);
    return true;
  }

  private emit(spec: SloSpec, t: AlertTransition, context: ProcessorContext, repeat = false): void {
    const meta = this.metas.get(spec.name) as SloMeta;
    const startedAt = t.state === 'firing' ? (repeat ? (meta.firingSince[t.tier] ?? t.atMs) : t.atMs) : (meta.firingSince[t.tier] ?? t.atMs);
    if (t.state === 'firing') meta.firingSince[t.tier] = startedAt;
    else delete meta.firingSince[t.tier];
    this.store.dirtyMeta.add(spec.name);
    const budget = t.tier === 'budget';
    const event: SloEvent = {
      id: sloEventId(spec.name, t.tier, startedAt),
      timestamp: t.atMs,
      slo: spec.name,
      service: spec.service,
      description: spec.description,
      sli: spec.sli.kind,
      objective: spec.objective,
      period: periodLabel(spec),
      period_ms: nominalPeriodMs(spec.window),
      tier: t.tier,
      state: t.state === 'firing' ? 'FIRING' : 'RESOLVED',
      long_window_ms: budget ? 0 : t.longMs,
      short_window_ms: budget ? 0 : t.shortMs,
      factor: budget ? 0 : t.factor,
      long_burn_rate: t.longBurn,
      short_burn_rate: t.shortBurn,
      budget_remaining: t.budgetRemaining,
      projected_exhaustion: t.projectedExhaustionMs,
      started_at: startedAt,
      // Sloth's per-tier labels (page_alert / ticket_alert) route the tier's alerts.
      labels: { ...spec.labels, ...spec.alerting.labels, ...(t.tier === 'budget' ? {} : spec.alerting.tiers?.[t.tier].labels) },
      observed_share: t.observedShare,
    };
    context.emit({ topic: this.topic, key: spec.name, value: sloEventSerde.serialize(event) });
    context.counters.add(repeat ? `slo_events_${t.tier}_heartbeat` : `slo_events_${t.tier}_${t.state}`);
  }
}

