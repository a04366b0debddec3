import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { anomaliesTopic, anomalyEventId, anomalySerde, anomalyToJson } from '../../../schemas/index.js';
import type { AnomalyEvent } from '../../../schemas/index.js';

interface AvscField {
  name: string;
  type: unknown;
  doc?: string;
}

const avsc = JSON.parse(readFileSync(new URL('../../../schemas/anomalies.v1.avsc', import.meta.url), 'utf8')) as { fields: AvscField[] };
const contextField = avsc.fields.find((f) => f.name === 'context');
const contextFields = (contextField?.type as { fields: AvscField[] } | undefined)?.fields ?? [];

function event(overrides: Partial<AnomalyEvent> = {}): AnomalyEvent {
  const signal = 'http{service.name="checkout",http.route="/api/users"}';
  return {
    id: anomalyEventId(signal, 'http.p95', 1_700_000_000_000, 1),
    timestamp: 1_700_000_030_000,
    metric: 'http.p95',
    signal,
    expected_value: 0.12,
    actual_value: 0.9,
    lower: 0.08,
    upper: 0.16,
    deviation: 0.78,
    score: 0.97,
    confidence: 0.8,
    severity: 'critical',
    state: 'UPDATE',
    detector: 'holt-winters',
    mode: 'seasonal',
    started_at: 1_700_000_000_000,
    context: { service: 'checkout', endpoint: '/api/users', dimensions: { 'service.name': 'checkout', 'http.route': '/api/users' } },
    ...overrides,
  };
}

describe('aiops.anomalies.v1 schema', () => {
  it('names the topic', () => {
    expect(anomaliesTopic).toBe('aiops.anomalies.v1');
  });

  it('round-trips an event, NaN included', () => {
    const record = event({ expected_value: Number.NaN, lower: Number.NaN, upper: Number.POSITIVE_INFINITY });
    expect(anomalySerde.deserialize(anomalySerde.serialize(record))).toEqual(record);
  });

  it('writes the single-object header: C3 01 and the schema fingerprint', () => {
    const bytes = anomalySerde.serialize(event());
    expect(bytes[0]).toBe(0xc3);
    expect(bytes[1]).toBe(0x01);
    expect(bytes.subarray(2, 10).readBigUInt64LE().toString(16).padStart(16, '0')).toBe(anomalySerde.fingerprintHex);
    // The rest is the plain Avro body.
    expect(anomalySerde.type.fromBuffer(bytes.subarray(10))).toEqual(event());
  });

  it('refuses an invalid enum symbol', () => {
    expect(() => anomalySerde.serialize(event({ severity: 'none' as never }))).toThrow();
  });

  it('derives a stable id from signal, metric, start and sequence', () => {
    const a = anomalyEventId('s', 'http.p95', 1000, 1);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(anomalyEventId('s', 'http.p95', 1000, 1)).toBe(a);
    expect(anomalyEventId('s', 'http.p95', 1000, 2)).not.toBe(a);
    expect(anomalyEventId('s', 'http.p99', 1000, 1)).not.toBe(a);
    expect(anomalyEventId('s', 'http.p95', 1001, 1)).not.toBe(a);
    expect(anomalyEventId('t', 'http.p95', 1000, 1)).not.toBe(a);
    // No separator ambiguity between signal and metric.
    expect(anomalyEventId('a|b', 'c', 1, 1)).not.toBe(anomalyEventId('a', 'b|c', 1, 1));
  });

  it('renders JSON with exactly the Avro field names', () => {
    const json = JSON.parse(JSON.stringify(anomalyToJson(event()))) as Record<string, unknown>;
    expect(avsc.fields.length).toBeGreaterThan(0);
    expect(Object.keys(json)).toEqual(avsc.fields.map((f) => f.name));
    expect(contextFields.length).toBeGreaterThan(0);
    expect(Object.keys(json.context as object)).toEqual(contextFields.map((f) => f.name));
    expect(json).toEqual(event());
  });

  it('renders NaN and Infinity as null', () => {
    // Checked on the returned object: JSON.stringify alone would also null them, silently.
    const json = anomalyToJson(event({ expected_value: Number.NaN, upper: Number.POSITIVE_INFINITY, lower: Number.NEGATIVE_INFINITY }));
    expect(json.expected_value).toBeNull();
    expect(json.upper).toBeNull();
    expect(json.lower).toBeNull();
    expect(json.actual_value).toBe(0.9);
  });

  it('documents every field', () => {
    expect([...avsc.fields, ...contextFields].filter((f) => !f.doc).map((f) => f.name)).toEqual([]);
  });
});
