import { topicSerde } from './schema-file.js';

/** One record of aiops.signals.v1 (see signals.v1.avsc for every field's meaning). */
export interface SignalRecord {
  kind: 'PARTIAL' | 'WATERMARK';
  sourcePartition: number;
  watermarkMs: number;
  idle: boolean;
  signal: string;
  rule: string;
  dimensions: Record<string, string>;
  bucketStartMs: number;
  bucketMs: number;
  count: number;
  errors: number;
  /** [1xx, 2xx, 3xx, 4xx, 5xx, none] */
  statusClasses: number[];
  sum: number;
  min: number;
  max: number;
  bounds: number[];
  bucketCounts: number[];
  series: number;
}

export const signalsTopic = 'aiops.signals.v1';
export const signalSerde = topicSerde<SignalRecord>('signals.v1.avsc');
