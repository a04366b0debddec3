import { KeyValueStore } from '../../runtime/state/kv-store.js';
import { JsonSerde } from '../../runtime/serde.js';
import { OtlpMetricsDecoder } from '../../runtime/otlp/metrics-decoder.js';
import { decodeMetricsJson } from '../../runtime/otlp/json-decoder.js';
import type { AttributeSet, MetricInfo, MetricsVisitor } from '../../runtime/otlp/visitor.js';
import { RecordRollback } from '../../runtime/rollback.js';
import type { InputRecord, Processor, ProcessorContext } from '../../runtime/types.js';
import { signalSerde } from '../../schemas/index.js';
import { BucketStore } from './bucket-store.js';
import type { Partial } from './bucket-store.js';
import type { AttributeMatch, IngestConfig, SignalRule } from './config.js';
import { prometheusMetricName } from '../slo/names.js';
import type { OtlpKind } from '../slo/names.js';
import { MetricType } from '../../runtime/otlp/visitor.js';
import { EXP_BOUNDS, exponentialToExplicit } from './exponential.js';
import { GapSplit } from './gap-split.js';
import { SeriesStore, S_BUCKETS, S_COUNT, S_START, S_SUM, S_TIME } from './series-store.js';
import type { Series } from './series-store.js';
import { newPartial, parseSignalKey, seriesKey, signalKey, statusClassOf } from './signal-keys.js';

/** How a cumulative point relates to the series' previous one. */
const enum Step {
  /** Skip: out of order or a duplicate. */
  SKIP,
  /** Increase over the previous point. */
  DELTA,
  /** A reset (new start time or a decrease): the value counts from zero. */
  RESET,
  /** First point of a series that ran before it was seen: sets the baseline only. */
  BASELINE,
}

interface Meta {
  /** Largest event time seen on the partition. */
  maxEventMs: number;
  /** Every bucket ending at or before this has been closed and sent. */
  closedThroughMs: number;
  /** Whether the last thing sent was an idle watermark. */
  idle: boolean;
  /** Watermark at the last stale-series scan. */
  evictionScanMs?: number;
}

/**
 * Ingest: decodes OTLP metrics, turns cumulative series into deltas, and aggregates the points
 * that match a signal rule into per-signal partials over event-time buckets. A bucket closes when
 * the partition's watermark (max event time minus allowed lateness) passes its end, or when the
 * partition goes idle; its partials go to aiops.signals.v1 keyed by signal, and the watermark to
 * every partition of that topic.
 */
export class IngestProcessor implements Processor, MetricsVisitor {
  private context!: ProcessorContext;
  private readonly series = new SeriesStore();
  private readonly buckets = new BucketStore();
  private readonly metaStore = new KeyValueStore<Meta>('meta', new JsonSerde<Meta>());
  private meta: Meta = { maxEventMs: -Infinity, closedThroughMs: -Infinity, idle: false };
  private readonly decoder: OtlpMetricsDecoder;
  /** metric name → indexes of the rules it feeds. */
  private readonly rulesByMetric = new Map<string, number[]>();
  private readonly metricIds = new Map<string, number>();
  private readonly extractSlot = new Map<string, number>();
  private readonly extractKeys: string[];
  // The resource and metric being visited.
  private resource: AttributeSet | undefined;
  private metric: MetricInfo | undefined;
  private metricId = 0;
  /** Whether the series limit was logged since the store was last below it. */
  private seriesLimitLogged = false;
  private metricRules: number[] = [];
  /** Whether the record being decoded has reached a metric that feeds a rule (and so maybe the state). */
  private touched = false;
  /** Per rule, its filter as attribute slots and allowed values (undefined: no filter). */
  private readonly filters: ({ slots: number[]; values: Set<string>[] } | undefined)[] = [];
  /** Per rule, its further matchers as attribute slots and tests (empty: none). */
  private readonly matchers: { slot: number; test: (value: string) => boolean }[][] = [];
  /** Per rule, the test that makes a series bad (undefined: the status attribute decides). */
  private readonly badWhen: ({ slot: number; test: (value: string) => boolean } | undefined)[] = [];
  /** Scratch for exponential histogram points as explicit bucket counts. */
  private readonly expCounts = new Float64Array(EXP_BOUNDS.length + 1);
  /** Prometheus name → indexes of the rules matching metrics by it. */
  private readonly rulesByPromName = new Map<string, number[]>();
  /** OTLP metric (name, unit, kind) → the rules it feeds and its id; [] when none. */
  private readonly metricCache = new Map<string, { rules: number[]; id: number }>();
  /** Pieces of the increment being placed: one bucket, or the buckets a gap covers (gap-split.ts). */
  private readonly gaps: GapSplit;

  constructor(private readonly config: IngestConfig) {
    for (const [i, rule] of config.rules.entries()) {
      const byName = rule.prometheusName === undefined ? this.rulesByMetric : this.rulesByPromName;
      const key = rule.prometheusName ?? rule.metric;
      const list = byName.get(key) ?? [];
      list.push(i);
      byName.set(key, list);
      const filterKeys = Object.keys(rule.filter ?? {});
      const matchKeys = [...(rule.matchers ?? []), ...(rule.badWhen ? [rule.badWhen] : [])].map((m) => m.attribute);
      for (const key of [...rule.groupBy, rule.statusAttribute, ...filterKeys, ...matchKeys]) if (!this.extractSlot.has(key)) this.extractSlot.set(key, this.extractSlot.size);
      this.matchers.push((rule.matchers ?? []).map((m) => ({ slot: this.extractSlot.get(m.attribute) as number, test: matchTest(m) })));
      this.badWhen.push(rule.badWhen ? { slot: this.extractSlot.get(rule.badWhen.attribute) as number, test: matchTest(rule.badWhen) } : undefined);
      this.filters.push(
        filterKeys.length === 0
          ? undefined
          : { slots: filterKeys.map((k) => this.extractSlot.get(k) as number), values: filterKeys.map((k) => new Set(rule.filter?.[k] ?? [])) },
      );
    }
    // Ids follow the configuration, not the order metrics happen to arrive in: series keys
    // derived from them must be the same after a restart.
    for (const name of this.rulesByMetric.keys()) this.metricIds.set(name, this.metricIds.size + 1);
    for (const name of this.rulesByPromName.keys()) this.metricIds.set(`prometheus:${name}`, this.metricIds.size + 1);
    this.extractKeys = [...this.extractSlot.keys()];
    this.decoder = new OtlpMetricsDecoder({ extractKeys: this.extractKeys });
    this.gaps = new GapSplit(config.bucketMs);
  }

  init(context: ProcessorContext): void {
    this.context = context;
    context.register(this.series);
    context.register(this.buckets);
    context.register(this.metaStore);
  }

  restored(): void {
    this.meta = this.metaStore.get('meta') ?? this.meta;
    this.context.log.debug({ meta: this.meta, series: this.series.size(), openBuckets: this.buckets.size() }, 'ingest state restored');
  }

  process(records: readonly InputRecord[], context: ProcessorContext): void {
    for (const record of records) {
      if (record.value === null || record.value.length === 0) {
        context.reject(record, 'empty record value');
        continue;
      }
      // Decoded once: a payload that fails before any of its points reached the state is
      // rejected here; one that fails after (a truncated payload) rolls the partition back to
      // its last commit, and the runner replays the input with this record rejected.
      this.touched = false;
      try {
        this.decode(record.value, this);
      } catch (error) {
        const reason = `undecodable ${this.config.encoding} payload: ${(error as Error).message}`;
        if (this.touched) throw new RecordRollback(record, reason, error);
        context.reject(record, reason, error);
        continue;
      }
      // Per record, not per batch: what closes when then depends only on the partition's input,
      // never on how the consumer happened to batch it, so a replay reproduces the output.
      this.advance(false);
    }
  }

  idle(): void {
    // Nothing seen yet, or already idle with nothing open: nothing to close or announce.
    if (this.buckets.size() === 0 && (this.meta.idle || !Number.isFinite(this.meta.closedThroughMs))) return;
    this.advance(true);
  }

  close(): void {
    this.resource = undefined;
  }

  private decode(bytes: Buffer, visitor: MetricsVisitor): void {
    if (this.config.encoding === 'otlp_json') decodeMetricsJson(bytes, visitor, { extractKeys: this.extractKeys });
    else this.decoder.decode(bytes, visitor);
  }

  // ---- visitor ----

  onResource(resource: AttributeSet): boolean {
    this.resource = resource;
    return true;
  }

  onMetric(metric: MetricInfo): boolean {
    let rules = this.rulesByMetric.get(metric.name);
    let id = rules ? (this.metricIds.get(metric.name) as number) : 0;
    if (this.rulesByPromName.size > 0) {
      const cacheKey = `${metric.type}|${metric.monotonic ? 1 : 0}|${metric.unit}|${metric.name}`;
      let hit = this.metricCache.get(cacheKey);
      if (!hit) {
        const promName = prometheusMetricName(metric.name, metric.unit, otlpKind(metric));
        const byProm = this.rulesByPromName.get(promName) ?? [];
        hit = { rules: [...(rules ?? []), ...byProm], id: rules ? id : byProm.length > 0 ? (this.metricIds.get(`prometheus:${promName}`) as number) : 0 };
        if (this.metricCache.size < 10_000) this.metricCache.set(cacheKey, hit);
      }
      rules = hit.rules;
      id = hit.id;
    }
    if (!rules || rules.length === 0) return false;
    this.touched = true;
    this.metric = metric;
    this.metricRules = rules;
    this.metricId = id;
    return true;
  }

  onNumberPoint(attrs: AttributeSet, startTimeMs: number, timeMs: number, value: number): void {
    if (!Number.isFinite(value)) return this.badValue('non-finite value');
    const metric = this.metric as MetricInfo;
    for (const ruleIndex of this.metricRules) {
      const rule = this.config.rules[ruleIndex] as SignalRule;
      const series = this.seriesFor(ruleIndex, rule, attrs, 1);
      if (!series) continue;
      let delta = value;
      let from = Number.NaN;
      if (rule.kind !== 'gauge') {
        if (value < 0 && metric.monotonic) {
          this.badValue('negative value of a monotonic sum');
          continue;
        }
        if (metric.temporality === 2) {
          const previous = series.state[S_COUNT] as number;
          const previousStart = series.state[S_START] as number;
          const previousTime = series.state[S_TIME] as number;
          const step = this.step(series, startTimeMs, timeMs, value);
          if (step === Step.SKIP || step === Step.BASELINE) continue;
          delta = step === Step.DELTA ? value - previous : value;
          from = gapStart(step, previousStart, previousTime, startTimeMs);
        }
      }
      const pieces = this.gaps.plan(from, timeMs, this.meta.closedThroughMs);
      if (this.gaps.moved) this.context.counters.add('late_increments_moved');
      for (let p = 0; p < pieces; p++) {
        const partial = this.partialFor(series, rule, p === pieces - 1 ? Math.max(timeMs, this.gaps.starts[p] as number) : (this.gaps.starts[p] as number));
        if (!partial) continue;
        if (rule.kind === 'gauge') {
          partial.count += 1;
          partial.sum += value;
          partial.min = Number.isNaN(partial.min) ? value : Math.min(partial.min, value);
          partial.max = Number.isNaN(partial.max) ? value : Math.max(partial.max, value);
        } else {
          const share = this.gaps.share(delta, p);
          partial.count += share;
          partial.sum += share;
          if (rule.kind === 'http') this.addStatus(partial, series, share);
        }
        this.buckets.touch(partial);
      }
    }
  }

  onHistogramPoint(attrs: AttributeSet, startTimeMs: number, timeMs: number, count: number, sum: number, bounds: Float64Array, counts: Float64Array, bucketCount: number): void {
    if (!Number.isFinite(count) || count < 0) return this.badValue('histogram count is negative or not finite');
    const metric = this.metric as MetricInfo;
    for (const ruleIndex of this.metricRules) {
      const rule = this.config.rules[ruleIndex] as SignalRule;
      if (rule.kind === 'gauge') continue;
      const series = this.seriesFor(ruleIndex, rule, attrs, 2 + bucketCount);
      if (!series) continue;
      const state = series.state;
      let step = Step.RESET;
      let dCount = count;
      let dSum = Number.isFinite(sum) ? sum : 0;
      let from = Number.NaN;
      if (metric.temporality === 2) {
        const previousCount = state[S_COUNT] as number;
        const previousSum = state[S_SUM] as number;
        const previousStart = state[S_START] as number;
        const previousTime = state[S_TIME] as number;
        step = this.step(series, startTimeMs, timeMs, count);
        if (step === Step.SKIP) continue;
        from = gapStart(step, previousStart, previousTime, startTimeMs);
        if (step === Step.DELTA) {
          dCount = count - previousCount;
          dSum -= previousSum;
        }
        state[S_SUM] = Number.isFinite(sum) ? sum : 0;
      }
      const pieces = step === Step.BASELINE ? 0 : this.gaps.plan(from, timeMs, this.meta.closedThroughMs);
      if (pieces > 0 && this.gaps.moved) this.context.counters.add('late_increments_moved');
      // Split over a gap, the count follows the histogram buckets' shares when they add up to it,
      // so every piece stays a consistent histogram.
      const byBuckets = pieces > 1 && bucketCount > 0 && bucketDeltaTotal(state, counts, bucketCount, step === Step.DELTA) === dCount;
      for (let p = 0; p < pieces; p++) {
        const partial = this.partialFor(series, rule, p === pieces - 1 ? Math.max(timeMs, this.gaps.starts[p] as number) : (this.gaps.starts[p] as number));
        if (!partial) continue;
        const added = this.addBuckets(partial, series, bounds, counts, bucketCount, step === Step.DELTA, p);
        const share = byBuckets && !Number.isNaN(added) ? added : this.gaps.share(dCount, p);
        partial.count += share;
        partial.sum += dSum * this.gaps.fraction(p);
        if (rule.kind === 'http') this.addStatus(partial, series, share);
        this.buckets.touch(partial);
      }
      if (metric.temporality === 2) for (let i = 0; i < bucketCount && S_BUCKETS + i < state.length; i++) state[S_BUCKETS + i] = counts[i] as number;
    }
  }

  onExponentialHistogramPoint(
    attrs: AttributeSet,
    startTimeMs: number,
    timeMs: number,
    count: number,
    sum: number,
    scale: number,
    zeroCount: number,
    positiveOffset: number,
    positive: Float64Array,
    nPositive: number,
    _negativeOffset: number,
    negative: Float64Array,
    nNegative: number,
  ): void {
    // Buckets reduced to the common scale as explicit bounds (exponential.ts): they merge across
    // instances and intervals, and give percentiles and latency SLIs.
    const n = exponentialToExplicit(scale, zeroCount, positiveOffset, positive, nPositive, negative, nNegative, this.expCounts);
    this.onHistogramPoint(attrs, startTimeMs, timeMs, count, sum, EXP_BOUNDS, this.expCounts, n);
  }

  onSummaryPoint(attrs: AttributeSet, startTimeMs: number, timeMs: number, count: number, sum: number): void {
    this.onHistogramPoint(attrs, startTimeMs, timeMs, count, sum, EMPTY, EMPTY, 0);
  }

  // ---- helpers ----

  private badValue(reason: string): void {
    this.context.counters.add('bad_values');
    this.context.counters.add(`bad_values.${reason.replace(/[^a-z]+/g, '_')}`);
  }

  /** Finds or creates the series; undefined when the series limit bites. */
  private seriesFor(ruleIndex: number, rule: SignalRule, attrs: AttributeSet, stateLength: number): Series | undefined {
    const resource = this.resource as AttributeSet;
    const filter = this.filters[ruleIndex];
    if (filter) {
      for (let i = 0; i < filter.slots.length; i++) {
        const slot = filter.slots[i] as number;
        const value = attrs.value(slot) ?? resource.value(slot);
        if (value === undefined || !(filter.values[i] as Set<string>).has(value)) return undefined;
      }
    }
    for (const m of this.matchers[ruleIndex] as { slot: number; test: (value: string) => boolean }[]) {
      if (!m.test(attrs.value(m.slot) ?? resource.value(m.slot) ?? '')) return undefined;
    }
    const key = seriesKey(resource.hashHi, resource.hashLo, this.metricId * 64 + ruleIndex, attrs.hashHi, attrs.hashLo);
    const found = this.series.get(key);
    if (found) {
      if (found.state.length < S_BUCKETS + stateLength - 2) found.state = grow(found.state, S_BUCKETS + stateLength - 2);
      return found;
    }
    if (this.series.size() >= this.config.maxSeries) {
      this.context.counters.add('series_limited_points');
      // One line when the limit is reached (again), not one per dropped point: a flood of new
      // series must not become a flood of log lines. The counter counts every point.
      if (!this.seriesLimitLogged) {
        this.seriesLimitLogged = true;
        this.context.log.warn({ maxSeries: this.config.maxSeries }, 'series limit reached: points of new series are dropped (counted in series_limited_points)');
      }
      return undefined;
    }
    this.seriesLimitLogged = false;
    const dims: Record<string, string> = {};
    for (const name of rule.groupBy) {
      const slot = this.extractSlot.get(name) as number;
      dims[name] = attrs.value(slot) ?? resource.value(slot) ?? '';
    }
    const status = attrs.value(this.extractSlot.get(rule.statusAttribute) as number);
    const state = new Float64Array(S_BUCKETS + Math.max(0, stateLength - 2));
    state[S_START] = Number.NaN;
    const bad = this.badWhen[ruleIndex];
    // badWhen: the series is an error (class 5xx, index 4) or not (2xx, index 1) by the matcher.
    const statusClass = bad ? (bad.test(attrs.value(bad.slot) ?? resource.value(bad.slot) ?? '') ? 4 : 1) : statusClassOf(status);
    const series: Series = { key, signal: signalKey(rule.name, dims), statusClass, state, lastBucket: Number.NaN };
    this.series.add(series);
    this.context.counters.add('series_created');
    this.dimensionsCache.set(series.signal, dims);
    return series;
  }

  private readonly dimensionsCache = new Map<string, Record<string, string>>();

  /**
   * Classifies a cumulative point against the series' previous one and stores it as the new
   * previous (start, time, count). A new start time or a decrease is a reset.
   */
  private step(series: Series, startTimeMs: number, timeMs: number, value: number): Step {
    const state = series.state;
    const isNew = Number.isNaN(state[S_START] as number);
    if (!isNew && timeMs <= (state[S_TIME] as number)) {
      this.context.counters.add('out_of_order_points');
      return Step.SKIP;
    }
    let step: Step;
    if (isNew) step = startTimeMs > 0 && timeMs - startTimeMs > this.config.firstPointMaxAgeMs ? Step.BASELINE : Step.RESET;
    else if (startTimeMs !== state[S_START] || value < (state[S_COUNT] as number)) {
      step = Step.RESET;
      this.context.counters.add('resets');
    } else step = Step.DELTA;
    state[S_START] = startTimeMs;
    state[S_TIME] = timeMs;
    state[S_COUNT] = value;
    this.series.markDirty(series);
    return step;
  }

  /** The open partial of the series' signal for the bucket holding `timeMs`; undefined if late. */
  private partialFor(series: Series, rule: SignalRule, timeMs: number): Partial | undefined {
    const bucketMs = this.config.bucketMs;
    const start = Math.floor(timeMs / bucketMs) * bucketMs;
    if (start + bucketMs <= this.meta.closedThroughMs) {
      this.context.counters.add('late_points');
      return undefined;
    }
    if (timeMs > this.meta.maxEventMs) this.meta.maxEventMs = timeMs;
    let partial = this.buckets.get(series.signal, start);
    if (!partial) {
      const dims = this.dimensionsCache.get(series.signal) ?? parseSignalKey(series.signal).dims;
      partial = newPartial(series.signal, rule, dims, start, bucketMs, this.context.partition);
      this.buckets.put(partial);
    }
    if (series.lastBucket !== start) {
      series.lastBucket = start;
      this.series.markDirty(series);
      partial.series += 1;
    }
    return partial;
  }

  private addStatus(partial: Partial, series: Series, delta: number): void {
    partial.statusClasses[series.statusClass] = (partial.statusClasses[series.statusClass] as number) + delta;
    if (series.statusClass === 4) partial.errors += delta;
  }

  /** Adds piece `piece` of the histogram's bucket increments; returns what it added in all, NaN if nothing. */
  private addBuckets(partial: Partial, series: Series, bounds: Float64Array, counts: Float64Array, n: number, subtractPrevious: boolean, piece: number): number {
    if (n === 0) return Number.NaN;
    if (partial.bounds.length === 0 && partial.bucketCounts.length === 0) {
      for (let i = 0; i < n - 1; i++) partial.bounds.push(bounds[i] as number);
      for (let i = 0; i < n; i++) partial.bucketCounts.push(0);
    } else if (partial.bucketCounts.length !== n || !sameBounds(partial.bounds, bounds, n - 1)) {
      this.context.counters.add('bounds_mismatch_points');
      return Number.NaN;
    }
    const state = series.state;
    let added = 0;
    for (let i = 0; i < n; i++) {
      const previous = subtractPrevious ? ((state[S_BUCKETS + i] as number) || 0) : 0;
      const share = this.gaps.share((counts[i] as number) - previous, piece);
      partial.bucketCounts[i] = (partial.bucketCounts[i] as number) + share;
      added += share;
    }
    return added;
  }

  /**
   * Forgets series with no point for `staleSeriesMs` of event time (tombstones in the changelog),
   * scanning at most every quarter of that period.
   */
  private evictStale(): void {
    const horizon = this.meta.closedThroughMs - this.config.staleSeriesMs;
    if (!(this.meta.closedThroughMs - (this.meta.evictionScanMs ?? -Infinity) >= this.config.staleSeriesMs / 4)) return;
    this.meta.evictionScanMs = this.meta.closedThroughMs;
    let evicted = 0;
    for (const [key, series] of this.series.entries()) {
      if ((series.state[S_TIME] as number) < horizon) {
        this.series.delete(key);
        evicted++;
      }
    }
    if (evicted > 0) this.context.counters.add('series_evicted', evicted);
  }

  /** Closes the buckets the watermark has passed (all open ones when idle) and sends them. */
  private advance(idle: boolean): void {
    const bucketMs = this.config.bucketMs;
    const through = idle
      ? Math.max(this.buckets.latestEnd(), this.meta.closedThroughMs)
      : Math.floor((this.meta.maxEventMs - this.config.allowedLatenessMs) / bucketMs) * bucketMs;
    const resumed = !idle && this.meta.idle && this.buckets.size() > 0;
    const moved = through > this.meta.closedThroughMs || (idle && !this.meta.idle);
    if (moved) {
      const closed = this.buckets.closeThrough(through);
      for (const partial of closed) {
        partial.watermarkMs = through;
        partial.idle = idle;
        this.context.emit({ topic: this.config.signalsTopic, key: partial.signal, value: signalSerde.serialize(partial) });
      }
      this.context.counters.add('buckets_closed', closed.length);
      if (through > this.meta.closedThroughMs) this.meta.closedThroughMs = through;
      this.evictStale();
    }
    if (moved || resumed) {
      // Every partition of the signals topic learns this source's watermark, and whether it is
      // idle: a source that resumes after idling says so at once, before any bucket it now
      // feeds could be closed without it.
      this.meta.idle = idle;
      const marker = signalSerde.serialize(newWatermark(this.context.partition, this.meta.closedThroughMs, idle, bucketMs));
      const partitions = this.context.partitionsOf(this.config.signalsTopic);
      for (let p = 0; p < partitions; p++) this.context.emit({ topic: this.config.signalsTopic, key: null, value: marker, partition: p });
    }
    this.metaStore.put('meta', this.meta);
  }
}

const EMPTY = new Float64Array(0);

/**
 * Where the increment of a cumulative point began: the previous point's time, or for a reset
 * the new start time when it lies after the previous point (the counter restarted inside the
 * gap). NaN for a series' first point: nothing to spread over.
 */
function gapStart(step: Step, previousStart: number, previousTime: number, startTimeMs: number): number {
  if (Number.isNaN(previousStart)) return Number.NaN;
  return step === Step.RESET && startTimeMs > previousTime ? startTimeMs : previousTime;
}

/** What a histogram point's buckets add in all since the previous point. */
function bucketDeltaTotal(state: Float64Array, counts: Float64Array, n: number, subtractPrevious: boolean): number {
  let total = 0;
  for (let i = 0; i < n; i++) total += (counts[i] as number) - (subtractPrevious ? ((state[S_BUCKETS + i] as number) || 0) : 0);
  return total;
}

function grow(state: Float64Array, length: number): Float64Array {
  const bigger = new Float64Array(length);
  bigger.set(state);
  return bigger;
}

function sameBounds(a: number[], b: Float64Array, n: number): boolean {
  if (a.length !== n) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

function newWatermark(sourcePartition: number, watermarkMs: number, idle: boolean, bucketMs: number): Partial {
  return {
    kind: 'WATERMARK', sourcePartition, watermarkMs, idle, signal: '', rule: '', dimensions: {}, bucketStartMs: watermarkMs, bucketMs,
    count: 0, errors: 0, statusClasses: [], sum: 0, min: Number.NaN, max: Number.NaN, bounds: [], bucketCounts: [], series: 0,
  };
}

/** A PromQL matcher as a test of an attribute value ('' when missing); regexes anchored. */
function matchTest(m: AttributeMatch): (value: string) => boolean {
  if (m.op === '=') return (v) => v === m.value;
  if (m.op === '!=') return (v) => v !== m.value;
  const re = new RegExp(`^(?:${m.value})$`);
  return m.op === '=~' ? (v) => re.test(v) : (v) => !re.test(v);
}

/** The naming kind of an OTLP metric. */
function otlpKind(metric: MetricInfo): OtlpKind {
  switch (metric.type) {
    case MetricType.SUM:
      return metric.monotonic ? 'monotonicSum' : 'sum';
    case MetricType.HISTOGRAM:
      return 'histogram';
    case MetricType.EXPONENTIAL_HISTOGRAM:
      return 'exponentialHistogram';
    case MetricType.SUMMARY:
      return 'summary';
    default:
      return 'gauge';
  }
}
