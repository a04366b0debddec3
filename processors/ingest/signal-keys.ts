import type { SignalRule } from './config.js';
import type { Partial } from './bucket-store.js';

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A 53-bit series key from the resource hash, the metric/rule id and the point-attribute hash
 * (each hash two 32-bit lanes). Two distinct series share a key with probability about n²/2^54:
 * about 1 in 36,000 for a million series on one partition.
 */
export function seriesKey(resHi: number, resLo: number, metricRule: number, ptHi: number, ptLo: number): number {
  const a = fmix(resHi ^ Math.imul(ptHi ^ 0x27d4eb2f, 0x9e3779b1) ^ Math.imul(metricRule + 1, 0x165667b1));
  const b = fmix(resLo ^ Math.imul(ptLo ^ 0x61c88647, 0xc2b2ae35) ^ a);
  return (a >>> 11) * 4294967296 + b;
}

/** `rule{k="v",k2="v2"}`: readable, and each value JSON-escaped so any value is safe. */
export function signalKey(rule: string, dims: Readonly<Record<string, string>>): string {
  return `${rule}{${Object.entries(dims)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`;
}

/** The dimensions written by `signalKey`. */
export function parseSignalKey(key: string): { rule: string; dims: Record<string, string> } {
  const open = key.indexOf('{');
  const rule = key.slice(0, open);
  const dims: Record<string, string> = {};
  const body = key.slice(open + 1, -1);
  const re = /([^=,]+)=("(?:[^"\\]|\\.)*")/g;
  for (let m = re.exec(body); m; m = re.exec(body)) dims[m[1] as string] = JSON.parse(m[2] as string) as string;
  return { rule, dims };
}

/** Status class index of an HTTP status code: 0 1xx .. 4 5xx, 5 none or unparseable. */
export function statusClassOf(status: string | undefined): number {
  if (status === undefined) return 5;
  const code = Number(status);
  return Number.isInteger(code) && code >= 100 && code < 600 ? Math.floor(code / 100) - 1 : 5;
}

export function newPartial(signal: string, rule: SignalRule, dims: Record<string, string>, bucketStartMs: number, bucketMs: number, sourcePartition: number): Partial {
  return {
    kind: 'PARTIAL',
    sourcePartition,
    watermarkMs: 0,
    idle: false,
    signal,
    rule: rule.name,
    dimensions: dims,
    bucketStartMs,
    bucketMs,
    count: 0,
    errors: 0,
    statusClasses: [0, 0, 0, 0, 0, 0],
    sum: 0,
    min: Number.NaN,
    max: Number.NaN,
    bounds: [],
    bucketCounts: [],
    series: 0,
  };
}

/** A watermark record: the source partition's closed-through time and whether it is idle. */
export function newWatermark(sourcePartition: number, watermarkMs: number, idle: boolean, bucketMs: number): Partial {
  return {
    kind: 'WATERMARK', sourcePartition, watermarkMs, idle, signal: '', rule: '', dimensions: {}, bucketStartMs: watermarkMs, bucketMs,
    count: 0, errors: 0, statusClasses: [], sum: 0, min: Number.NaN, max: Number.NaN, bounds: [], bucketCounts: [], series: 0,
  };
}
