/**
 * The streaming decoder of OTLP `ExportMetricsServiceRequest` payloads (otlp_proto): it walks the
 * bytes and drives a MetricsVisitor (visitor.ts) without building an object per resource, metric
 * or point. Allocation per payload is a reader and its DataView; per point nothing, except when
 * a scratch buffer must grow or an extracted value or name is seen for the first time.
 *
 * Message levels where a field the visitor needs first may come last are pre-scanned, skipping
 * nested messages by their length alone: a ResourceMetrics for its resource, a Metric for its
 * name, unit and data field, a Sum/Histogram/ExponentialHistogram for its temporality and
 * monotonic flag (which follow the points). Points themselves are read once.
 *
 * Bad input throws ProtoDecodeError: truncation, a length or fixed-size value running past its
 * enclosing message, malformed varints, wire types 3/4 (groups), field number 0, invalid UTF-8
 * in a name, unit or extracted string, a histogram whose bounds and counts disagree. A field
 * with a wire type other than the schema's is skipped as an unknown field (protobuf parsers do
 * the same); repeated numeric fields are accepted packed or not. Content the visitor skips, and
 * fields the visitor never sees (descriptions, scopes, exemplars, flags), are stepped over by
 * length without being validated. When a singular field repeats, the last occurrence wins.
 */

import { DecoderContext, temporalityOf } from './decoder-context.js';
import type { DecodeStats, MetricsDecoderOptions } from './decoder-context.js';
import type { InternTable } from './intern.js';
import { decodeMetricsJsonWith } from './json-decoder.js';
import { exponentialHistogramPoint, histogramPoint, numberPoint, summaryPoint } from './point-decoders.js';
import { ProtoReader } from './proto-reader.js';
import { MetricType } from './visitor.js';
import type { MetricsVisitor } from './visitor.js';

export type { DecodeStats, MetricsDecoderOptions } from './decoder-context.js';

type PointReader = (ctx: DecoderContext, r: ProtoReader, v: MetricsVisitor) => void;

/** Metric field tag (LEN wire type) to metric type; index = field number. */
const TYPE_BY_FIELD: readonly (MetricType | 0)[] = [0, 0, 0, 0, 0, MetricType.GAUGE, 0, MetricType.SUM, 0, MetricType.HISTOGRAM, MetricType.EXPONENTIAL_HISTOGRAM, MetricType.SUMMARY];

const POINT_READER: readonly PointReader[] = [numberPoint, numberPoint, numberPoint, histogramPoint, exponentialHistogramPoint, summaryPoint];

export class OtlpMetricsDecoder {
  private readonly ctx: DecoderContext;

  constructor(options: MetricsDecoderOptions) {
    this.ctx = new DecoderContext(options);
  }

  /** The configured extract keys; a key's index is its AttributeSet slot. */
  get extractKeys(): readonly string[] {
    return this.ctx.extractKeys;
  }

  /** The intern table of names, units and extracted values (size, misses, clears: for metrics). */
  get intern(): InternTable {
    return this.ctx.intern;
  }

  /**
   * Decodes one otlp_proto payload into `visitor` calls. Returns this decoder's stats object,
   * reset and refilled on every call (see DecodeStats). Throws ProtoDecodeError on bad input;
   * the visitor may then have seen part of the payload.
   */
  decode(bytes: Uint8Array, visitor: MetricsVisitor): DecodeStats {
    const stats = this.ctx.resetStats();
    const r = new ProtoReader(bytes);
    const end = r.end;
    while (r.pos < end) {
      const tag = r.tag();
      if (tag === 0x0a) {
        const rmEnd = r.delimitedEnd();
        r.end = rmEnd;
        this.resourceMetrics(r, visitor);
        r.end = end;
      } else r.skipTag(tag);
    }
    return stats;
  }

  /**
   * Decodes one otlp_json payload (the same message in the protobuf JSON mapping) into the same
   * visitor calls, with the same hashes and interned strings. Throws JsonDecodeError.
   */
  decodeJson(bytes: Uint8Array | string, visitor: MetricsVisitor): DecodeStats {
    return decodeMetricsJsonWith(this.ctx, bytes, visitor);
  }

  private resourceMetrics(r: ProtoReader, v: MetricsVisitor): void {
    const ctx = this.ctx;
    const end = r.end;
    const first = r.pos;
    let resourceStart = -1;
    let resourceEnd = -1;
    while (r.pos < end) {
      const tag = r.tag();
      if (tag === 0x0a) {
        resourceEnd = r.delimitedEnd();
        resourceStart = r.pos;
        r.pos = resourceEnd;
      } else r.skipTag(tag);
    }
    const attrs = ctx.resource;
    attrs.reset();
    if (resourceStart >= 0) {
      r.pos = resourceStart;
      r.end = resourceEnd;
      while (r.pos < resourceEnd) {
        const tag = r.tag();
        if (tag === 0x0a) attrs.addKeyValue(r, r.delimitedEnd());
        else r.skipTag(tag);
      }
      r.end = end;
    }
    attrs.finish();
    ctx.stats.resources++;
    if (v.onResource(attrs) === false) {
      r.pos = end;
      return;
    }
    r.pos = first;
    while (r.pos < end) {
      const tag = r.tag();
      if (tag === 0x12) {
        const smEnd = r.delimitedEnd();
        r.end = smEnd;
        this.scopeMetrics(r, v);
        r.end = end;
      } else r.skipTag(tag);
    }
  }

  private scopeMetrics(r: ProtoReader, v: MetricsVisitor): void {
    const end = r.end;
    while (r.pos < end) {
      const tag = r.tag();
      if (tag === 0x12) {
        const metricEnd = r.delimitedEnd();
        r.end = metricEnd;
        this.metric(r, v);
        r.end = end;
      } else r.skipTag(tag);
    }
  }

  private metric(r: ProtoReader, v: MetricsVisitor): void {
    const ctx = this.ctx;
    const end = r.end;
    let nameStart = 0;
    let nameEnd = 0;
    let unitStart = 0;
    let unitEnd = 0;
    let type = 0;
    let dataStart = 0;
    let dataEnd = 0;
    while (r.pos < end) {
      const tag = r.tag();
      if ((tag & 7) !== 2 || tag < 8) {
        r.skipTag(tag);
        continue;
      }
      const fieldEnd = r.delimitedEnd();
      const field = tag >>> 3;
      if (field === 1) {
        nameStart = r.pos;
        nameEnd = fieldEnd;
      } else if (field === 3) {
        unitStart = r.pos;
        unitEnd = fieldEnd;
      } else if (field < TYPE_BY_FIELD.length && TYPE_BY_FIELD[field] !== 0) {
        type = TYPE_BY_FIELD[field] as number;
        dataStart = r.pos;
        dataEnd = fieldEnd;
      }
      r.pos = fieldEnd;
    }
    if (type === 0) return;

    let temporality = 0;
    let monotonic = false;
    r.pos = dataStart;
    r.end = dataEnd;
    while (r.pos < dataEnd) {
      const tag = r.tag();
      if (tag === 0x10) temporality = r.uint32();
      else if (tag === 0x18) monotonic = r.varint64() !== 0;
      else r.skipTag(tag);
    }
    const info = ctx.metric;
    const buf = r.buf;
    info.name = ctx.intern.get(1, buf, nameStart, nameEnd, r.view);
    info.unit = ctx.intern.get(1, buf, unitStart, unitEnd, r.view);
    info.type = type as MetricType;
    // Only sums, histograms and exponential histograms carry these fields.
    info.temporality = type === MetricType.GAUGE || type === MetricType.SUMMARY ? 0 : temporalityOf(temporality);
    info.monotonic = type === MetricType.SUM && monotonic;
    ctx.stats.metrics++;
    if (v.onMetric(info) === false) {
      r.pos = end;
      r.end = end;
      return;
    }
    const readPoint = POINT_READER[type] as PointReader;
    const stats = ctx.stats;
    r.pos = dataStart;
    while (r.pos < dataEnd) {
      const tag = r.tag();
      if (tag === 0x0a) {
        const pointEnd = r.delimitedEnd();
        r.end = pointEnd;
        readPoint(ctx, r, v);
        r.end = dataEnd;
        stats.points++;
      } else r.skipTag(tag);
    }
    r.pos = end;
    r.end = end;
  }
}
