import { topicSerde } from './schema-file.js';

/** One record of aiops.measurements.v1 (see measurements.v1.avsc). */
export interface Measurement {
  measurement: string;
  timestamp: number;
  tags: Record<string, string>;
  fields: Record<string, number>;
}

export const measurementsTopic = 'aiops.measurements.v1';
export const measurementSerde = topicSerde<Measurement>('measurements.v1.avsc');
