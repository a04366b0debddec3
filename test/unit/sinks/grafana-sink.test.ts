import type { Kafka } from 'kafkajs';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AnomalyEvent } from '../../../schemas/anomalies.js';
import type { SloEvent } from '../../../schemas/slo.js';
import { annotationTags, GrafanaSink, grafanaSinkFromEnv, openingText, resolvedText } from '../../../sinks/grafana/grafana-sink.js';

const T = Date.UTC(2025, 0, 2, 3, 4, 5);
const log = pino({ level: 'silent' });

function anomaly(state: AnomalyEvent['state'], overrides: Partial<AnomalyEvent> = {}): { kind: 'anomaly'; event: AnomalyEvent; topic: string; partition: number; offset: string } {
  return {
    kind: 'anomaly', topic: 'aiops.anomalies.v1', partition: 0, offset: '0',
    event: {
      id: 'a1', timestamp: T, metric: 'http.p95', signal: 'http{service.name="shop"}', expected_value: 0.12, actual_value: 2.4, lower: 0.08, upper: 0.16, deviation: 2.28,
      score: 0.97, confidence: 0.8, severity: 'critical', state, detector: 'holt-winters', mode: 'seasonal', started_at: T, context: { service: 'shop', endpoint: '/api/pay', dimensions: {} },
      ...overrides,
    },
  };
}

function slo(state: SloEvent['state'], tier: SloEvent['tier'] = 'page', overrides: Partial<SloEvent> = {}): { kind: 'slo'; event: SloEvent; topic: string; partition: number; offset: string } {
  return {
    kind: 'slo', topic: 'aiops.slo.v1', partition: 0, offset: '0',
    event: {
      id: 's1', timestamp: T, slo: 'checkout-availability', service: 'payments', description: '', sli: 'availability', objective: 0.999, period: '30d rolling', period_ms: 30 * 86_400_000,
      tier, state, long_window_ms: 3_600_000, short_window_ms: 300_000, factor: 14.4, long_burn_rate: 20, short_burn_rate: 300, budget_remaining: 0.6,
      projected_exhaustion: T + 3_600_000, started_at: T, labels: {}, ...overrides,
    },
  };
}

describe('Grafana annotation tags and text', () => {
  it('tags anomalies by service, endpoint, metric and severity', () => {
    expect(annotationTags(anomaly('OPEN'))).toEqual(['aiops', 'anomaly', 'service:shop', 'endpoint:/api/pay', 'metric:http.p95', 'severity:critical']);
    expect(annotationTags(anomaly('OPEN', { context: { service: '', endpoint: '', dimensions: {} }, severity: 'info' }))).toEqual(['aiops', 'anomaly', 'metric:http.p95', 'severity:info']);
  });

  it('tags SLO alerts by service, SLO, tier and the severity of the tier', () => {
    expect(annotationTags(slo('FIRING'))).toEqual(['aiops', 'slo', 'service:payments', 'slo:checkout-availability', 'tier:page', 'severity:critical']);
    expect(annotationTags(slo('FIRING', 'ticket'))).toContain('severity:warning');
    expect(annotationTags(slo('FIRING', 'budget'))).toContain('severity:critical');
  });

  it('cuts the value of a tag at the 100 characters Grafana stores', () => {
    const tags = annotationTags(anomaly('OPEN', { metric: 'm'.repeat(150) }));
    expect(tags).toContain(`metric:${'m'.repeat(100)}`);
  });

  it('summarises an anomaly with expected and actual values', () => {
    expect(openingText(anomaly('OPEN'))).toBe(
      'Anomaly in http.p95 of shop /api/pay (critical): 2.4 where 0.12 was expected (interval 0.08 to 0.16); score 0.97, confidence 0.8, holt-winters detector, seasonal model.',
    );
  });

  it('summarises an SLO alert with burn rates and the budget left', () => {
    expect(openingText(slo('FIRING'))).toBe(
      'checkout-availability burns its error budget (page): 20x over 1h and 300x over 5m (alerting at 14.4x; objective 99.9%, 30d rolling); 60% of the error budget left; at this rate it runs out 2025-01-02T04:04:05.000Z.',
    );
    expect(openingText(slo('FIRING', 'budget', { budget_remaining: -0.05 }))).toBe(
      'Error budget of checkout-availability exhausted: the 30d rolling budget (objective 99.9%) has 0% of the error budget left (overspent by 5%).',
    );
  });

  it('keeps the opening summary in the final text and says how it ended', () => {
    const resolved = anomaly('RESOLVED', { timestamp: T + 5 * 60_000, actual_value: 0.13 });
    expect(resolvedText(resolved, 'Opening.')).toBe('Opening.\nResolved 2025-01-02T03:09:05.000Z after 5m: http.p95 at 0.13, 0.12 expected.');
    expect(resolvedText(resolved, undefined)).toMatch(/^Anomaly in http.p95 of shop \/api\/pay since 2025-01-02T03:04:05.000Z\.\nResolved .* after 5m/);
    const sloResolved = slo('RESOLVED', 'page', { timestamp: T + 2 * 3_600_000 + 60_000, long_burn_rate: 0.5, short_burn_rate: 0.2, budget_remaining: 0.58 });
    expect(resolvedText(sloResolved, undefined)).toBe(
      'checkout-availability burned its error budget (page) since 2025-01-02T03:04:05.000Z.\nResolved 2025-01-02T05:05:05.000Z after 2h 1m: 0.5x over 1h, 0.2x over 5m; 58% of the error budget left.',
    );
  });
});

describe('Grafana sink configuration', () => {
  const kafka = {} as Kafka;

  it('requires AIOPS_GRAFANA_URL, naming it', () => {
    expect(() => grafanaSinkFromEnv({}, log)).toThrow(/AIOPS_GRAFANA_URL: required/);
  });

  it('refuses credentials in the URL without repeating them', () => {
    let message = '';
    try {
      new GrafanaSink({ url: 'http://admin:s3cret@grafana:3000', kafka, log });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/AIOPS_GRAFANA_URL: must not contain credentials/);
    expect(message).not.toContain('s3cret');
  });

  it('builds the sink from the environment', () => {
    const sink = grafanaSinkFromEnv({ AIOPS_GRAFANA_URL: 'http://127.0.0.1:3000/', AIOPS_GRAFANA_TOKEN: 'glsa_x', AIOPS_KAFKA_BROKERS: '127.0.0.1:1' }, log);
    expect(sink.name).toBe('grafana');
    expect(sink.mapped).toBe(0);
  });
});
