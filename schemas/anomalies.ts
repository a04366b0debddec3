import { createHash } from 'node:crypto';
import { topicSerde } from './schema-file.js';

export type AnomalySeverity = 'info' | 'warning' | 'critical';
export type AnomalyState = 'OPEN' | 'UPDATE' | 'RESOLVED';

/** Where an anomaly is (see anomalies.v1.avsc). */
export interface AnomalyContext {
  service: string;
  endpoint: string;
  dimensions: Record<string, string>;
}

/** One record of aiops.anomalies.v1 (see anomalies.v1.avsc for every field's meaning). */
export interface AnomalyEvent {
  id: string;
  timestamp: number;
  metric: string;
  signal: string;
  expected_value: number;
  actual_value: number;
  lower: number;
  upper: number;
  deviation: number;
  score: number;
  confidence: number;
  severity: AnomalySeverity;
  state: AnomalyState;
  detector: string;
  mode: string;
  started_at: number;
  context: AnomalyContext;
}

/** {@link AnomalyEvent} as JSON: the same field names, non-finite numbers as null. */
export interface AnomalyEventJson {
  id: string;
  timestamp: number;
  metric: string;
  signal: string;
  expected_value: number | null;
  actual_value: number | null;
  lower: number | null;
  upper: number | null;
  deviation: number | null;
  score: number | null;
  confidence: number | null;
  severity: AnomalySeverity;
  state: AnomalyState;
  detector: string;
  mode: string;
  started_at: number;
  context: AnomalyContext;
}

export const anomaliesTopic = 'aiops.anomalies.v1';
export const anomalySerde = topicSerde<AnomalyEvent>('anomalies.v1.avsc');

/** Hex digits of the SHA-256 kept in an id (128 bits). */
const ID_HEX_DIGITS = 32;

/**
 * Content-derived event id: a hex SHA-256 prefix of signal, metric, the event's start (Unix ms)
 * and the series' event sequence number. Every transition of one event, and a replay of the same
 * input, gets the same id. The parts are JSON-encoded as an array, so no separator is ambiguous.
 */
export function anomalyEventId(signal: string, metric: string, startedMs: number, sequence: number): string {
  return createHash('sha256')
    .update(JSON.stringify([signal, metric, startedMs, sequence]), 'utf8')
    .digest('hex')
    .slice(0, ID_HEX_DIGITS);
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/** JSON rendering of an event with the Avro field names; NaN and ±Infinity become null. */
export function anomalyToJson(event: AnomalyEvent): AnomalyEventJson {
  return {
    id: event.id,
    timestamp: event.timestamp,
    metric: event.metric,
    signal: event.signal,
    expected_value: finiteOrNull(event.expected_value),
    actual_value: finiteOrNull(event.actual_value),
    lower: finiteOrNull(event.lower),
    upper: finiteOrNull(event.upper),
    deviation: finiteOrNull(event.deviation),
    score: finiteOrNull(event.score),
    confidence: finiteOrNull(event.confidence),
    severity: event.severity,
    state: event.state,
    detector: event.detector,
    mode: event.mode,
    started_at: event.started_at,
    context: {
      service: event.context.service,
      endpoint: event.context.endpoint,
      dimensions: { ...event.context.dimensions },
    },
  };
}
