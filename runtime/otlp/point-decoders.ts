/**
 * Readers of the four OTLP data point messages for the streaming decoder. Each reads one point
 * in one pass: attributes go into the reused AttributeSet whenever they occur (its hash does not
 * depend on order), arrays into the context's scratch buffers, then the visitor is called.
 *
 * On entry `r.pos` is at the point's content and `r.end` is its end; every field that does not
 * have the wire type the schema gives it is skipped as an unknown field (as protobuf's own
 * parsers do), except that repeated numbers are accepted both packed and unpacked.
 */

import { ProtoDecodeError } from './proto-reader.js';
import type { ProtoReader } from './proto-reader.js';
import { grown } from './decoder-context.js';
import type { DecoderContext } from './decoder-context.js';
import type { MetricsVisitor } from './visitor.js';

export function numberPoint(ctx: DecoderContext, r: ProtoReader, v: MetricsVisitor): void {
  const attrs = ctx.point;
  attrs.reset();
  const end = r.end;
  let start = 0;
  let time = 0;
  let value = 0;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x11:
        start = r.fixed64Ms();
        break;
      case 0x19:
        time = r.fixed64Ms();
        break;
      case 0x21: // as_double
        value = r.double();
        break;
      case 0x31: // as_int (sfixed64)
        value = r.sfixed64();
        break;
      case 0x3a:
        attrs.addKeyValue(r, r.delimitedEnd());
        break;
      default:
        r.skipTag(tag);
    }
  }
  attrs.finish();
  v.onNumberPoint(attrs, start, time, value);
}

export function histogramPoint(ctx: DecoderContext, r: ProtoReader, v: MetricsVisitor): void {
  const attrs = ctx.point;
  attrs.reset();
  const end = r.end;
  let start = 0;
  let time = 0;
  let count = 0;
  let sum = NaN;
  let min = NaN;
  let max = NaN;
  let nCounts = 0;
  let nBounds = 0;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x11:
        start = r.fixed64Ms();
        break;
      case 0x19:
        time = r.fixed64Ms();
        break;
      case 0x21:
        count = r.fixed64();
        break;
      case 0x29:
        sum = r.double();
        break;
      case 0x32: {
        const e = r.delimitedEnd();
        const needed = nCounts + ((e - r.pos) >>> 3);
        if (needed > ctx.counts.length) ctx.counts = grown(ctx.counts, needed);
        nCounts = r.fixed64sInto(ctx.counts, nCounts, e);
        break;
      }
      case 0x31:
        if (nCounts === ctx.counts.length) ctx.counts = grown(ctx.counts, nCounts + 1);
        ctx.counts[nCounts++] = r.fixed64();
        break;
      case 0x3a: {
        const e = r.delimitedEnd();
        const needed = nBounds + ((e - r.pos) >>> 3);
        if (needed > ctx.bounds.length) ctx.bounds = grown(ctx.bounds, needed);
        nBounds = r.doublesInto(ctx.bounds, nBounds, e);
        break;
      }
      case 0x39:
        if (nBounds === ctx.bounds.length) ctx.bounds = grown(ctx.bounds, nBounds + 1);
        ctx.bounds[nBounds++] = r.double();
        break;
      case 0x4a:
        attrs.addKeyValue(r, r.delimitedEnd());
        break;
      case 0x59:
        min = r.double();
        break;
      case 0x61:
        max = r.double();
        break;
      default:
        r.skipTag(tag);
    }
  }
  // OTLP: bucket_counts is empty or has one more entry than explicit_bounds. Anything else
  // cannot be handed on as (bounds, counts, bucketCount) without inventing data.
  if (nCounts !== 0 && nBounds !== nCounts - 1) {
    throw new ProtoDecodeError(`histogram point has ${nCounts} bucket counts but ${nBounds} explicit bounds`, end);
  }
  attrs.finish();
  v.onHistogramPoint(attrs, start, time, count, sum, ctx.bounds, ctx.counts, nCounts, min, max);
}

/** Reads an ExponentialHistogramDataPoint.Buckets message into the positive or negative buffer. */
function buckets(ctx: DecoderContext, r: ProtoReader, end: number, negative: boolean): void {
  const outer = r.end;
  r.end = end;
  let offset = 0;
  let n = 0;
  let out = negative ? ctx.negative : ctx.positive;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 0x08) offset = r.sint32();
    else if (tag === 0x12) {
      const e = r.delimitedEnd();
      while (r.pos < e) {
        if (n === out.length) out = grown(out, n + 1);
        out[n++] = r.varint64();
      }
    } else if (tag === 0x10) {
      if (n === out.length) out = grown(out, n + 1);
      out[n++] = r.varint64();
    } else r.skipTag(tag);
  }
  r.end = outer;
  // A repeated Buckets field replaces the earlier one, as in the reference decoder.
  if (negative) {
    ctx.negative = out;
    ctx.negativeOffset = offset;
    ctx.nNegative = n;
  } else {
    ctx.positive = out;
    ctx.positiveOffset = offset;
    ctx.nPositive = n;
  }
}

export function exponentialHistogramPoint(ctx: DecoderContext, r: ProtoReader, v: MetricsVisitor): void {
  const attrs = ctx.point;
  attrs.reset();
  const end = r.end;
  let start = 0;
  let time = 0;
  let count = 0;
  let sum = NaN;
  let min = NaN;
  let max = NaN;
  let scale = 0;
  let zeroCount = 0;
  let zeroThreshold = 0;
  ctx.positiveOffset = ctx.negativeOffset = ctx.nPositive = ctx.nNegative = 0;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        attrs.addKeyValue(r, r.delimitedEnd());
        break;
      case 0x11:
        start = r.fixed64Ms();
        break;
      case 0x19:
        time = r.fixed64Ms();
        break;
      case 0x21:
        count = r.fixed64();
        break;
      case 0x29:
        sum = r.double();
        break;
      case 0x30:
        scale = r.sint32();
        break;
      case 0x39:
        zeroCount = r.fixed64();
        break;
      case 0x42:
      case 0x4a:
        buckets(ctx, r, r.delimitedEnd(), tag === 0x4a);
        break;
      case 0x61:
        min = r.double();
        break;
      case 0x69:
        max = r.double();
        break;
      case 0x71:
        zeroThreshold = r.double();
        break;
      default:
        r.skipTag(tag);
    }
  }
  attrs.finish();
  v.onExponentialHistogramPoint(
    attrs,
    start,
    time,
    count,
    sum,
    scale,
    zeroCount,
    ctx.positiveOffset,
    ctx.positive,
    ctx.nPositive,
    ctx.negativeOffset,
    ctx.negative,
    ctx.nNegative,
    min,
    max,
    zeroThreshold,
  );
}

export function summaryPoint(ctx: DecoderContext, r: ProtoReader, v: MetricsVisitor): void {
  const attrs = ctx.point;
  attrs.reset();
  const end = r.end;
  let start = 0;
  let time = 0;
  let count = 0;
  let sum = 0;
  let n = 0;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x11:
        start = r.fixed64Ms();
        break;
      case 0x19:
        time = r.fixed64Ms();
        break;
      case 0x21:
        count = r.fixed64();
        break;
      case 0x29:
        sum = r.double();
        break;
      case 0x32: {
        const e = r.delimitedEnd();
        r.end = e;
        let quantile = 0;
        let value = 0;
        while (r.pos < e) {
          const t = r.tag();
          if (t === 0x09) quantile = r.double();
          else if (t === 0x11) value = r.double();
          else r.skipTag(t);
        }
        r.end = end;
        if (2 * n + 2 > ctx.quantiles.length) ctx.quantiles = grown(ctx.quantiles, 2 * n + 2);
        ctx.quantiles[2 * n] = quantile;
        ctx.quantiles[2 * n + 1] = value;
        n++;
        break;
      }
      case 0x3a:
        attrs.addKeyValue(r, r.delimitedEnd());
        break;
      default:
        r.skipTag(tag);
    }
  }
  attrs.finish();
  v.onSummaryPoint(attrs, start, time, count, sum, ctx.quantiles, n);
}
