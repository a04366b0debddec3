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
import type { IngestConfig, SignalRule } from './config.js';
import { RuleIndex } from './rule-index.js';
import { EXP_BOUNDS, exponentialToExplicit } from './exponential.js';
import { GapSplit } from './gap-split.js';
import { SeriesStore, S_BUCKETS, S_COUNT, S_START, S_SUM, S_TIME } from './series-store.js';
import type { Series } from './series-store.js';
import { newPartial, newWatermark, parseSignalKey, seriesKey, signalKey } from './signal-keys.js';
import { bucketDeltaTotal, cumulativeStep, gapStart, Step } from './cumulative.js';

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
  private readonly index: RuleIndex;
  private readonly extractKeys: readonly string[];
  // The resource and metric being visited.
  private resource: AttributeSet | undefined;
  private metric: MetricInfo | undefined;
  private metricId = 0;
  /** Whether the series limit was logged since the store was last below it. */
  private seriesLimitLogged = false;
  private metricRules: readonly number[] = [];
  /** Whether the record being decoded has reached a metric that feeds a rule (and so maybe the state). */
  private touched = false;
  /** Scratch for exponential histogram points as explicit bucket counts. */
  private readonly expCounts = new Float64Array(EXP_BOUNDS.length + 1);
  /** Pieces of the increment being placed: one bucket, or the buckets a gap covers (gap-split.ts). */
  private readonly gaps: GapSplit;

  constructor(private readonly config: IngestConfig) {
    this.index = new RuleIndex(config.rules);
    this.extractKeys = this.index.extractKeys;
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
    const { rules, id } = this.index.lookup(metric);
    if (rules.length === 0) return false;
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
    if (!this.index.accepts(ruleIndex, attrs, resource)) return undefined;
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
    const dims = this.index.dimensions(ruleIndex, attrs, resource);
    const statusClass = this.index.statusClass(ruleIndex, attrs, resource);
    const state = new Float64Array(S_BUCKETS + Math.max(0, stateLength - 2));
    state[S_START] = Number.NaN;
    const series: Series = { key, signal: signalKey(rule.name, dims), statusClass, state, lastBucket: Number.NaN };
    this.series.add(series);
    this.context.counters.add('series_created');
    this.dimensionsCache.set(series.signal, dims);
    return series;
  }

  private readonly dimensionsCache = new Map<string, Record<string, string>>();

  /** {@link cumulativeStep}, counted, with the point stored as the series' previous one. */
  private step(series: Series, startTimeMs: number, timeMs: number, value: number): Step {
    const isNew = Number.isNaN(series.state[S_START] as number);
    const step = cumulativeStep(series.state, startTimeMs, timeMs, value, this.config.firstPointMaxAgeMs);
    if (step === Step.SKIP) {
      this.context.counters.add('out_of_order_points');
      return step;
    }
    if (step === Step.RESET && !isNew) this.context.counters.add('resets');
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
