import { KeyValueStore } from '../../runtime/state/kv-store.js';
import { JsonSerde } from '../../runtime/serde.js';
import type { InputRecord, Processor, ProcessorContext } from '../../runtime/types.js';
import { signalSerde, signalValueSerde, signalValuesTopic } from '../../schemas/index.js';
import type { SignalRecord, SignalValue } from '../../schemas/index.js';
import { histogramQuantile } from './quantile.js';
import type { SignalConsumer } from './types.js';

interface SourceState {
  watermarkMs: number;
  idle: boolean;
}

interface Merged {
  partial: SignalRecord;
  sources: number[];
}

export interface EvaluateOptions {
  /**
   * Receivers of closed buckets (detectors, SLO engine): a list, or a function that builds the
   * consumers of each partition (consumers with state must not be shared between partitions).
   */
  readonly consumers?: readonly SignalConsumer[] | ((partition: number) => readonly SignalConsumer[]);
  /** Also write every closed bucket to the values topic (default true). */
  readonly emitValues?: boolean;
  /** Topic of the signal values (default aiops.signal-values.v1). */
  readonly valuesTopic?: string;
}

/**
 * Evaluate: merges the partials of a signal's bucket that arrive from different ingest
 * partitions, and closes the bucket once every active source partition's watermark has passed
 * its end (an idle source does not hold it back). A closed bucket becomes a SignalValue (rate,
 * error ratio, mean, p50/p95/p99) handed to every consumer. Partials for a bucket already
 * closed are late: counted, not merged.
 */
export class EvaluateProcessor implements Processor {
  private context!: ProcessorContext;
  private readonly sources = new KeyValueStore<SourceState>('sources', new JsonSerde<SourceState>());
  private readonly open = new KeyValueStore<Merged>('open', new JsonSerde<Merged>());
  private readonly meta = new KeyValueStore<{ closedThroughMs: number }>('meta', new JsonSerde<{ closedThroughMs: number }>());
  private closedThroughMs = -Infinity;
  private consumers: readonly SignalConsumer[] = [];

  constructor(private readonly options: EvaluateOptions = {}) {}

  init(context: ProcessorContext): void {
    this.context = context;
    context.register(this.sources);
    context.register(this.open);
    context.register(this.meta);
    const consumers = this.options.consumers ?? [];
    this.consumers = typeof consumers === 'function' ? consumers(context.partition) : consumers;
    for (const consumer of this.consumers) consumer.init?.(context);
  }

  restored(context: ProcessorContext): void {
    this.closedThroughMs = this.meta.get('meta')?.closedThroughMs ?? -Infinity;
    for (const consumer of this.consumers) consumer.restored?.(context);
  }

  process(records: readonly InputRecord[], context: ProcessorContext): void {
    for (const record of records) {
      let signal: SignalRecord;
      try {
        if (record.value === null) throw new Error('empty value');
        signal = signalSerde.deserialize(record.value);
      } catch (error) {
        context.reject(record, `not an aiops.signals.v1 record: ${(error as Error).message}`, error);
        continue;
      }
      const key = String(signal.sourcePartition);
      const source = this.sources.get(key);
      // Only WATERMARK records move a source's watermark. A partial carries the watermark after
      // its bucket closed, but the other partials of that close may still be on their way (a
      // large transaction is written in several produce requests, and a fetch can end between
      // them); ingest sends the WATERMARK after all of them, in the same transaction.
      const watermarkMs = signal.kind === 'WATERMARK' ? Math.max(source?.watermarkMs ?? -Infinity, signal.watermarkMs) : (source?.watermarkMs ?? -Infinity);
      const moved = !source || source.watermarkMs !== watermarkMs || source.idle !== signal.idle;
      if (moved) this.sources.put(key, { watermarkMs, idle: signal.idle });
      if (signal.kind === 'PARTIAL') this.merge(signal);
      // Buckets close at the record that moves the watermark, not at the end of the batch: what
      // closes, and so every output, depends on the order of the input alone, never on where a
      // fetch ended or a restart resumed (a source first seen, or back from idle, after a batch
      // boundary would otherwise find its buckets closed in one run and open in another).
      if (moved) this.closeReady();
    }
  }

  close(): void {
    for (const consumer of this.consumers) consumer.close?.();
  }

  private merge(p: SignalRecord): void {
    if (p.bucketStartMs + p.bucketMs <= this.closedThroughMs) {
      this.context.counters.add('late_partials');
      this.context.log.warn({ signal: p.signal, bucketStartMs: p.bucketStartMs, source: p.sourcePartition }, 'partial arrived after its bucket closed');
      return;
    }
    const key = `${p.bucketStartMs}|${p.signal}`;
    const merged = this.open.get(key);
    if (!merged) {
      this.open.put(key, { partial: { ...p, statusClasses: [...p.statusClasses], bounds: [...p.bounds], bucketCounts: [...p.bucketCounts] }, sources: [p.sourcePartition] });
      return;
    }
    const m = merged.partial;
    m.count += p.count;
    m.errors += p.errors;
    m.sum += p.sum;
    m.series += p.series;
    m.min = Number.isNaN(m.min) ? p.min : Number.isNaN(p.min) ? m.min : Math.min(m.min, p.min);
    m.max = Number.isNaN(m.max) ? p.max : Number.isNaN(p.max) ? m.max : Math.max(m.max, p.max);
    for (let i = 0; i < p.statusClasses.length; i++) m.statusClasses[i] = (m.statusClasses[i] ?? 0) + (p.statusClasses[i] as number);
    if (m.bucketCounts.length === 0) {
      m.bounds = [...p.bounds];
      m.bucketCounts = [...p.bucketCounts];
    } else if (p.bucketCounts.length === m.bucketCounts.length && p.bounds.every((b, i) => b === m.bounds[i])) {
      for (let i = 0; i < p.bucketCounts.length; i++) m.bucketCounts[i] = (m.bucketCounts[i] as number) + (p.bucketCounts[i] as number);
    } else if (p.bucketCounts.length > 0) this.context.counters.add('bounds_mismatch_partials');
    if (!merged.sources.includes(p.sourcePartition)) merged.sources.push(p.sourcePartition);
    this.open.touch(key);
  }

  /** The evaluate watermark: the least watermark of the active sources (all idle: the greatest). */
  private watermark(): number {
    let least = Infinity;
    let greatest = -Infinity;
    for (const [, s] of this.sources.entries()) {
      greatest = Math.max(greatest, s.watermarkMs);
      if (!s.idle) least = Math.min(least, s.watermarkMs);
    }
    return least === Infinity ? greatest : least;
  }

  private closeReady(): void {
    const watermark = this.watermark();
    if (!(watermark > this.closedThroughMs)) return;
    const ready: Merged[] = [];
    for (const [key, merged] of this.open.entries()) {
      if (merged.partial.bucketStartMs + merged.partial.bucketMs <= watermark) {
        ready.push(merged);
        this.open.delete(key);
      }
    }
    ready.sort((a, b) => a.partial.bucketStartMs - b.partial.bucketStartMs || (a.partial.signal < b.partial.signal ? -1 : 1));
    for (const merged of ready) {
      const value = toSignalValue(merged);
      for (const consumer of this.consumers) consumer.onSignalValue(value, this.context);
      if (this.options.emitValues !== false) this.context.emit({ topic: this.options.valuesTopic ?? signalValuesTopic, key: value.signal, value: signalValueSerde.serialize(value) });
    }
    this.context.counters.add('buckets_closed', ready.length);
    for (const consumer of this.consumers) consumer.onWatermark?.(watermark, this.context);
    this.closedThroughMs = watermark;
    this.meta.put('meta', { closedThroughMs: watermark });
  }
}

export function toSignalValue(merged: Merged): SignalValue {
  const p = merged.partial;
  const seconds = p.bucketMs / 1000;
  return {
    signal: p.signal,
    rule: p.rule,
    dimensions: p.dimensions,
    bucketStartMs: p.bucketStartMs,
    bucketMs: p.bucketMs,
    count: p.count,
    errors: p.errors,
    rate: p.count / seconds,
    errorRatio: p.count > 0 ? p.errors / p.count : 0,
    mean: p.count > 0 ? p.sum / p.count : Number.NaN,
    p50: histogramQuantile(0.5, p.bounds, p.bucketCounts),
    p95: histogramQuantile(0.95, p.bounds, p.bucketCounts),
    p99: histogramQuantile(0.99, p.bounds, p.bucketCounts),
    min: p.min,
    max: p.max,
    statusClasses: p.statusClasses,
    bounds: p.bounds,
    bucketCounts: p.bucketCounts,
    sources: merged.sources.length,
    series: p.series,
  };
}
