import { topicSerde } from './schema-file.js';

/** One record of aiops.signal-values.v1 (see signal-values.v1.avsc). */
export interface SignalValue {
  signal: string;
  rule: string;
  dimensions: Record<string, string>;
  bucketStartMs: number;
  bucketMs: number;
  count: number;
  errors: number;
  rate: number;
  errorRatio: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  min: number;
  max: number;
  statusClasses: number[];
  bounds: number[];
  bucketCounts: number[];
  sources: number;
  series: number;
}

export const signalValuesTopic = 'aiops.signal-values.v1';
export const signalValueSerde = topicSerde<SignalValue>('signal-values.v1.avsc');
