import { describe, expect, it } from 'vitest';
import { parseSliExpression, parseSliQuery } from '../../../processors/slo/promql.js';
import { sloRuleGroups } from '../../../processors/slo/rules.js';
import type { AlertingRule, RecordingRule } from '../../../processors/slo/rules.js';
import { parseSloText } from '../../../processors/slo/spec.js';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    return (error as Error).message.split('\n').filter((l) => l.startsWith('  - '));
  }
  throw new Error('no problems reported');
}

const sloth = (query: string): string => `version: prometheus/v1
service: shop
slos:
  - name: latency
    objective: 99
    sli:
      raw:
        error_ratio_query: ${query}
    alerting: { name: ShopSlow }
`;

describe('native histograms in the PromQL subset', () => {
  it('parses histogram_fraction and histogram_count around a query', () => {
    expect(parseSliQuery('histogram_fraction(0, 0.25, sum(rate(x_seconds{job="a"}[5m])))')).toEqual({
      metric: 'x_seconds', matchers: [{ label: 'job', op: '=', value: 'a' }], histogram: { fn: 'fraction', lower: 0, upper: 0.25 },
    });
    expect(parseSliQuery('histogram_fraction(0.5, +Inf, rate(x_seconds[{{.window}}]))')).toMatchObject({ histogram: { fn: 'fraction', lower: 0.5, upper: Infinity } });
    expect(parseSliQuery('histogram_count(sum(rate(x_seconds[5m])))')).toMatchObject({ histogram: { fn: 'count' } });
    expect(parseSliExpression('1 - histogram_fraction(-Inf, 1e-1, sum by (le) (rate(x_seconds[5m])))')).toMatchObject({ type: 'binary', right: { type: 'query', query: { histogram: { lower: -Infinity, upper: 0.1 } } } });
  });

  it.each([
    ['histogram_fraction(0.5, 0.25, rate(x[5m]))', 'column 1: histogram_fraction() needs lower < upper, got 0.5 and 0.25'],
    ['histogram_fraction(0, rate(x[5m]))', 'column 23: expected the upper bound (a number or +Inf), got "rate(x[5m]))"'],
    ['histogram_count(histogram_count(x))', 'column 1: histogram_count() of a histogram function is not supported'],
  ])('rejects %s', (query, error) => {
    expect(parseSliQuery(query)).toEqual({ error });
  });
});

describe('Sloth raw SLIs over a native histogram', () => {
  it('reads 1 - histogram_fraction(0, T, ...) as a latency SLI on the OTel histogram, and exports histogram_fraction rules', () => {
    const [spec] = parseSloText(sloth('1 - histogram_fraction(0, 0.25, sum(rate(http_server_request_duration_seconds{job="shop",http_route="/api/items"}[{{.window}}])))'), 's.yaml');
    expect(spec?.sli).toMatchObject({
      kind: 'latency', metric: 'http.server.request.duration', thresholdSeconds: 0.25, prometheusName: 'http_server_request_duration_seconds',
      selector: { 'service.name': ['shop'], 'http.route': ['/api/items'] },
    });
    const groups = sloRuleGroups(spec ? [spec] : []).groups;
    const first = groups[0]?.rules[0] as RecordingRule;
    expect(first.expr).toBe('1 - histogram_fraction(0, 0.25, sum(rate(http_server_request_duration_seconds{job="shop",http_route="/api/items"}[5m])))');
    const page = (groups[2]?.rules as AlertingRule[]).find((r) => r.labels.sloth_severity === 'page');
    expect(page?.expr).toContain('histogram_count(sum(increase(http_server_request_duration_seconds{job="shop",http_route="/api/items"}[1h]))) >= 10');
    expect(page?.expr).not.toMatch(/seconds_bucket|seconds_count/);
  });

  it('reads histogram_fraction(T, +Inf, ...) (the slow share) the same way, in milliseconds too', () => {
    const [spec] = parseSloText(sloth('histogram_fraction(250, +Inf, sum(rate(rpc_server_duration_milliseconds{job="shop"}[{{.window}}])))'), 's.yaml');
    expect(spec?.sli).toMatchObject({ kind: 'latency', metric: 'rpc.server.duration', thresholdSeconds: 0.25 });
    expect((sloRuleGroups(spec ? [spec] : []).groups[0]?.rules[0] as RecordingRule).expr).toBe('1 - histogram_fraction(0, 250, sum(rate(rpc_server_duration_milliseconds{job="shop"}[5m])))');
  });

  it.each([
    ['1 - histogram_fraction(0, 0.25, sum(rate(x_seconds_bucket{job="shop"}[{{.window}}])))', 'histogram_fraction() reads a native histogram, named without a series suffix (x_seconds), got x_seconds_bucket'],
    ['1 - histogram_fraction(0.1, 0.25, sum(rate(x_seconds{job="shop"}[{{.window}}])))', 'lower must be 0 (or -Inf) and upper a positive number, got 0.1 and 0.25'],
    ['histogram_fraction(0, 0.25, sum(rate(x_seconds{job="shop"}[{{.window}}])))', 'upper must be +Inf and lower a positive number, got 0 and 0.25'],
    ['1 - histogram_fraction(0, 0.25, sum(rate(x_total{job="shop"}[{{.window}}])))', 'histogram_fraction() reads a native histogram, named without a series suffix'],
    ['1 - histogram_fraction(0, 25, sum(rate(queue_depth{job="shop"}[{{.window}}])))', 'queue_depth is not a duration in seconds or milliseconds'],
  ])('rejects %s', (query, message) => {
    const [line] = problems(() => parseSloText(sloth(query), 's.yaml'));
    expect(line).toContain('s.yaml#0 slos[0].sli.raw.error_ratio_query:');
    expect(line).toContain(message);
  });

  it('says how to write a native histogram where a count is expected', () => {
    const text = `version: prometheus/v1
service: shop
slos:
  - name: latency
    objective: 99
    sli:
      events:
        error_query: sum(rate(x_seconds_count{job="shop"}[{{.window}}]))
        total_query: histogram_count(sum(rate(x_seconds{job="shop"}[{{.window}}])))
`;
    expect(problems(() => parseSloText(text, 's.yaml'))[0]).toContain('histogram_count() of a native histogram is supported only in a raw latency SLI');
  });
});

describe('declaring a native histogram without PromQL', () => {
  it('OpenSLO thresholdMetric with aiops.prometheusHistogram: native reads the histogram with histogram_fraction', () => {
    const text = `apiVersion: openslo/v1
kind: SLO
metadata:
  name: items-latency
  annotations:
    aiops.prometheusHistogram: native
spec:
  service: shop
  indicator:
    metadata: { name: items-latency }
    spec:
      thresholdMetric:
        metricSource:
          type: Prometheus
          spec:
            query: http_server_request_duration_seconds{job="shop"}
  timeWindow: [{ duration: 28d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives:
    - { op: lte, value: 0.3, target: 0.99 }
`;
    const [spec] = parseSloText(text, 'o.yaml');
    expect(spec?.sli.prom).toEqual({ total: 'http_server_request_duration_seconds{job="shop"}', nativeThreshold: 0.3 });
    expect((sloRuleGroups(spec ? [spec] : []).groups[0]?.rules[0] as RecordingRule).expr).toBe('1 - histogram_fraction(0, 0.3, sum(rate(http_server_request_duration_seconds{job="shop"}[5m])))');
    const bad = problems(() => parseSloText(text.replace('aiops.prometheusHistogram: native', 'aiops.prometheusHistogram: sparse'), 'o.yaml'));
    expect(bad).toEqual(['  - o.yaml#0 metadata.annotations.aiops.prometheusHistogram: must be classic or native, got "sparse"']);
  });

  it('a native (type: aiops) source with prometheusHistogram: native exports histogram_fraction and histogram_count', () => {
    const text = (form: string): string => `apiVersion: openslo/v1
kind: SLO
metadata: { name: shop-latency }
spec:
  service: shop
  indicator:
    metadata: { name: shop-latency }
    spec:
      ratioMetric:
        counter: true
        good: { metricSource: { type: aiops, spec: { le: 0.5, prometheusHistogram: ${form} } } }
        total: { metricSource: { type: aiops, spec: { prometheusHistogram: ${form} } } }
  timeWindow: [{ duration: 7d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ target: 0.99 }]
`;
    const [spec] = parseSloText(text('native'), 'a.yaml');
    expect(spec?.sli.promHistogram).toBe('native');
    const groups = sloRuleGroups(spec ? [spec] : []).groups;
    expect((groups[0]?.rules[0] as RecordingRule).expr).toBe('1 - histogram_fraction(0, 0.5, sum(rate(http_server_request_duration_seconds{job="shop"}[5m])))');
    expect(problems(() => parseSloText(text('dense'), 'a.yaml'))[0]).toContain('prometheusHistogram: must be one of classic, native, got "dense"');
  });
});
