/**
 * State a streaming decoder keeps across messages: the configured extract keys, the intern
 * table, the two reused AttributeSets, the reused MetricInfo and stats, and the scratch buffers
 * that histogram and summary points are read into. The protobuf and JSON decoders share it, so
 * one configured decoder serves both encodings with the same interned strings.
 */

import { AttributeSetImpl } from './attribute-set.js';
import { InternTable } from './intern.js';
import type { InternOptions } from './intern.js';
import type { MetricInfo, MetricType } from './visitor.js';

export interface MetricsDecoderOptions {
  /** Attribute keys whose values `AttributeSet.value(slot)` returns; the slot is the index here. */
  readonly extractKeys: readonly string[];
  /** Bounds of the intern table (default: 100k entries, values up to 1 KiB, 16 MiB of bytes). */
  readonly intern?: InternOptions;
}

/**
 * Counts for one decode call. The decoder returns the same object from every call (reset at the
 * start of each), so read or copy it before the next decode.
 */
export interface DecodeStats {
  /** onResource calls (including those that returned false). */
  resources: number;
  /** onMetric calls (including those that returned false); metrics without data are not visited. */
  metrics: number;
  /** Data point callbacks made. */
  points: number;
}

export class MutableMetricInfo implements MetricInfo {
  name = '';
  unit = '';
  type: MetricType = 1;
  temporality: 0 | 1 | 2 = 0;
  monotonic = false;
}

/** A copy of `a` with room for at least `needed` values (doubling, so growth stays rare). */
export function grown(a: Float64Array, needed: number): Float64Array<ArrayBuffer> {
  const out = new Float64Array(Math.max(needed, a.length * 2));
  out.set(a);
  return out;
}

/** Maps out-of-range AggregationTemporality values to 0 (unspecified). */
export function temporalityOf(n: number): 0 | 1 | 2 {
  return n === 1 || n === 2 ? n : 0;
}

export class DecoderContext {
  readonly extractKeys: readonly string[];
  readonly intern: InternTable;
  readonly resource: AttributeSetImpl;
  readonly point: AttributeSetImpl;
  readonly metric = new MutableMetricInfo();
  readonly stats: DecodeStats = { resources: 0, metrics: 0, points: 0 };
  /** Histogram explicit bounds and bucket counts. */
  bounds = new Float64Array(64);
  counts = new Float64Array(64);
  /** Exponential histogram buckets; offsets and lengths of the point being read. */
  positive = new Float64Array(64);
  negative = new Float64Array(64);
  positiveOffset = 0;
  negativeOffset = 0;
  nPositive = 0;
  nNegative = 0;
  /** Summary (quantile, value) pairs, flattened. */
  quantiles = new Float64Array(32);

  constructor(options: MetricsDecoderOptions) {
    this.extractKeys = [...options.extractKeys];
    const encoder = new TextEncoder();
    const keys = this.extractKeys.map((k) => encoder.encode(k));
    this.intern = new InternTable(options.intern);
    this.resource = new AttributeSetImpl(keys, this.intern);
    this.point = new AttributeSetImpl(keys, this.intern);
  }

  resetStats(): DecodeStats {
    const s = this.stats;
    s.resources = 0;
    s.metrics = 0;
    s.points = 0;
    return s;
  }
}
