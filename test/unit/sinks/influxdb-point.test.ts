import { describe, expect, it } from 'vitest';
import { InfluxSink } from '../../../sinks/influxdb/influxdb-sink.js';

describe('InfluxDB points', () => {
  it('writes a measurement as it is, leaving out non-finite fields and empty tags', () => {
    const point = InfluxSink.point({
      kind: 'measurement', topic: 'aiops.measurements.v1', partition: 0, offset: '0',
      event: { measurement: 'anomaly', timestamp: 1_700_000_000_000, tags: { signal: 'http{service.name="a b"}', metric: 'http.p95', service: 'a b', endpoint: '' }, fields: { actual: 0.5, expected: Number.NaN, score: 0.25 } },
    });
    expect(point?.toLineProtocol()).toBe('anomaly,metric=http.p95,service=a\\ b,signal=http{service.name\\="a\\ b"} actual=0.5,score=0.25 1700000000000');
  });

  it('writes SLO events with their tier and state as tags, and skips a point without any value', () => {
    const slo = InfluxSink.point({
      kind: 'slo', topic: 'aiops.slo.v1', partition: 0, offset: '1',
      event: {
        id: 'x', timestamp: 1_700_000_060_000, slo: 'checkout', service: 'shop', description: '', sli: 'availability', objective: 0.999, period: '30d rolling', period_ms: 1, tier: 'page',
        state: 'FIRING', long_window_ms: 1, short_window_ms: 1, factor: 14.4, long_burn_rate: 20, short_burn_rate: 300, budget_remaining: 0.5, projected_exhaustion: null, started_at: 1, labels: {},
      },
    });
    expect(slo?.toLineProtocol()).toBe('slo_event,service=shop,slo=checkout,state=FIRING,tier=page budget_remaining=0.5,factor=14.4,long_burn_rate=20,short_burn_rate=300 1700000060000');
    expect(InfluxSink.point({ kind: 'measurement', topic: 't', partition: 0, offset: '2', event: { measurement: 'slo', timestamp: 1, tags: {}, fields: { x: Number.NaN } } })).toBeUndefined();
  });
});
