import { describe, expect, it } from 'vitest';
import { AiopsError } from '../../../runtime/errors.js';
import { parseSloText } from '../../../processors/slo/spec.js';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof AiopsError) return e.message.split('\n').slice(1);
    throw e;
  }
  throw new Error('expected an AiopsError');
}

const list = (source: string, extra = ''): string => `- apiVersion: openslo/v1
  kind: DataSource
  metadata: { name: prom }
  spec:
    type: Prometheus
    connectionDetails: { url: http://prometheus:9090 }
- apiVersion: openslo/v1
  kind: DataSource
  metadata: { name: dd }
  spec: { type: Datadog, connectionDetails: {} }
- apiVersion: openslo/v1
  kind: SLO
  metadata:
    name: api-availability
${extra}  spec:
    service: api
    indicator:
      metadata: { name: api-errors }
      spec:
        ratioMetric:
          counter: true
          bad:
            metricSource:
              metricSourceRef: ${source}
              spec: { query: 'sum(rate(http_requests_total{handler!="/healthz",code=~"5.."}[5m]))' }
          total:
            metricSource:
              metricSourceRef: ${source}
              spec: { query: 'sum(rate(http_requests_total{handler!="/healthz"}[5m]))' }
    timeWindow: [{ duration: 7d, isRolling: true }]
    objectives: [{ target: 0.995 }]
`;

describe('OpenSLO as teams write it', () => {
  it('reads a top-level list of documents and a DataSource named by metricSourceRef', () => {
    const [spec] = parseSloText(list('prom'), 'l.yaml');
    expect(spec).toMatchObject({
      name: 'api-availability',
      service: 'api',
      source: { index: 2 },
      sli: {
        kind: 'availability',
        prometheusName: 'http_requests_total',
        matchers: [{ attribute: 'handler', op: '!=', value: '/healthz' }],
        badClasses: [4],
        prom: { total: 'http_requests_total{handler!="/healthz"}', bad: 'http_requests_total{handler!="/healthz",code=~"5.."}' },
      },
    });
  });

  it('rejects sources other than Prometheus, saying why', () => {
    expect(problems(() => parseSloText(list('dd'), 'l.yaml'))).toEqual([
      expect.stringMatching(/^ {2}- l\.yaml#2 spec\.indicator\.spec\.ratioMetric\.bad\.metricSource\.metricSourceRef: metric source type "Datadog" is not supported: the platform reads OTLP metrics/),
      expect.stringMatching(/^ {2}- l\.yaml#2 spec\.indicator\.spec\.ratioMetric\.total\.metricSource\.metricSourceRef: metric source type "Datadog" is not supported/),
    ]);
    expect(problems(() => parseSloText(list('nowhere'), 'l.yaml'))[0]).toBe(
      '  - l.yaml#2 spec.indicator.spec.ratioMetric.bad.metricSource.metricSourceRef: no DataSource named "nowhere" in the files given',
    );
  });

  it('maps labels to other attributes when annotated', () => {
    const [spec] = parseSloText(list('prom', '    annotations: { aiops.attribute.handler: http.route }\n'), 'l.yaml');
    expect(spec?.sli.matchers).toEqual([{ attribute: 'http.route', op: '!=', value: '/healthz' }]);
  });

  it('rejects a period too short for any burn-rate rule', () => {
    expect(problems(() => parseSloText(list('prom').replace('duration: 7d', 'duration: 30m'), 'l.yaml'))).toEqual([
      '  - l.yaml#2 spec.timeWindow[0].duration: 30m is too short for any burn-rate alert (no rule reaches a burn rate of 1 in under 50m); use at least 50m',
    ]);
  });

  it('makes each of several objectives an SLO of its own, and defaults the period to 30 days rolling', () => {
    const text = `apiVersion: openslo/v1
kind: SLO
metadata: { name: checkout-latency }
spec:
  service: checkout
  indicator:
    metadata: { name: latency }
    spec:
      thresholdMetric:
        metricSource:
          type: Prometheus
          spec: { query: 'http_request_duration_seconds_bucket{job="checkout"}' }
  objectives:
    - { displayName: Fast, op: lte, value: 0.25, target: 0.9 }
    - { name: ok, op: lte, value: 1, targetPercent: 99 }
`;
    const specs = parseSloText(text, 'o.yaml');
    expect(specs.map((x) => [x.name, x.objective, x.sli.kind === 'latency' ? x.sli.thresholdSeconds : 0, x.sli.prom?.good])).toEqual([
      ['checkout-latency-fast', 0.9, 0.25, 'http_request_duration_seconds_bucket{job="checkout",le="0.25"}'],
      ['checkout-latency-ok', 0.99, 1, 'http_request_duration_seconds_bucket{job="checkout",le="1"}'],
    ]);
    expect(specs[0]?.window).toEqual({ kind: 'rolling', durationMs: 30 * 86_400_000 });
    expect(specs[0]?.sli.prom?.total).toBe('http_request_duration_seconds_count{job="checkout"}');
  });
});

describe('OpenSLO alert policies', () => {
  it('maps burn-rate AlertConditions of the SLO policies onto the tiers', async () => {
    const { parseSloFiles } = await import('../../../processors/slo/spec.js');
    const { sloRuleGroups } = await import('../../../processors/slo/rules.js');
    const file = new URL('../../fixtures/slo/corpus/openslo-list.yaml', import.meta.url).pathname;
    const [spec] = parseSloFiles([file]);
    // catalog-fast-burn: severity page, 14.4x over 1h, alertAfter 5m (the short window).
    expect(spec?.alerting.windows).toEqual([{ tier: 'page', longMs: 3_600_000, shortMs: 300_000, budgetShare: (14.4 * 3_600_000) / (28 * 86_400_000) }]);
    const alerts = sloRuleGroups(spec ? [spec] : []).groups[2]?.rules ?? [];
    expect(alerts.map((a) => a.labels.sloth_severity)).toEqual(['page']);
    expect(alerts[0]?.expr).toContain('slo:sli_error:ratio_rate1h');
    expect(alerts[0]?.expr).toContain('> (14.4 * 0.001)');
  });

  it('refuses conditions below 1x and windows the engine does not keep', () => {
    const text = (threshold: number, lookback: string): string => `- apiVersion: openslo/v1
  kind: AlertCondition
  metadata: { name: c }
  spec: { severity: ticket, condition: { kind: burnrate, op: gte, threshold: ${threshold}, lookbackWindow: ${lookback}, alertAfter: 5m } }
- apiVersion: openslo/v1
  kind: AlertPolicy
  metadata: { name: p }
  spec: { conditions: [{ conditionRef: c }] }
- apiVersion: openslo/v1
  kind: SLO
  metadata: { name: s }
  spec:
    service: api
    alertPolicies: [p]
    indicator:
      metadata: { name: i }
      spec:
        ratioMetric:
          counter: true
          bad: { metricSource: { type: Prometheus, spec: { query: 'http_requests_total{code=~"5.."}' } } }
          total: { metricSource: { type: Prometheus, spec: { query: 'http_requests_total' } } }
    objectives: [{ target: 0.99 }]
`;
    expect(problems(() => parseSloText(text(0.5, '1h'), 'a.yaml'))).toEqual([
      '  - a.yaml#2 spec.alertPolicies[0] conditions[0]: threshold 0.5: a burn rate below 1 cannot exhaust the budget in the period; give at least 1',
    ]);
    expect(problems(() => parseSloText(text(2, '45m'), 'a.yaml'))).toEqual([
      '  - a.yaml#2 spec.alertPolicies[0] conditions[0]: lookbackWindow "45m" must be one of the windows the engine keeps: 5m, 30m, 1h, 2h, 6h, 1d, 3d',
    ]);
    const [ok] = parseSloText(text(3, '1d'), 'a.yaml');
    expect(ok?.alerting.windows).toMatchObject([{ tier: 'ticket', longMs: 86_400_000, shortMs: 300_000 }]);
  });
});
