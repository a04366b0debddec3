import { describe, expect, it } from 'vitest';
import { describeSli, promSeries } from '../../../processors/slo/describe.js';
import { otelAttribute, prometheusLabelName, prometheusMetricName, prometheusSeries } from '../../../processors/slo/names.js';
import { sloRuleGroups } from '../../../processors/slo/rules.js';
import { sloIngestRules } from '../../../processors/slo/signals.js';
import { parseSloSources, parseSloText } from '../../../processors/slo/spec.js';

describe('OTLP → Prometheus names, as the collector translates them', () => {
  it.each([
    ['http.server.request.duration', 's', 'histogram', 'http_server_request_duration_seconds'],
    ['http.server.duration', 'ms', 'histogram', 'http_server_duration_milliseconds'],
    ['http_request_duration_seconds', '', 'histogram', 'http_request_duration_seconds'],
    // Scraped counters keep their _total; OTel counters get one; a total token moves to the end.
    ['http_requests_total', '', 'monotonicSum', 'http_requests_total'],
    ['http.server.requests', '{request}', 'monotonicSum', 'http_server_requests_total'],
    ['requests.total.count', '1', 'monotonicSum', 'requests_count_total'],
    ['process.memory.usage', 'By', 'gauge', 'process_memory_usage_bytes'],
    ['system.cpu.utilization', '1', 'gauge', 'system_cpu_utilization_ratio'],
    ['network.io', 'By/s', 'sum', 'network_io_bytes_per_second'],
    ['queue.size', '{message}', 'sum', 'queue_size'],
    ['latency.seconds', 's', 'histogram', 'latency_seconds'],
    ['my--metric..name', '', 'gauge', 'my_metric_name'],
    ['2xx.requests', '', 'gauge', '_2xx_requests'],
  ] as const)('%s (%s, %s) → %s', (name, unit, kind, expected) => {
    expect(prometheusMetricName(name, unit, kind)).toBe(expected);
  });

  it('without suffixes (add_metric_suffixes: false) only sanitises', () => {
    expect(prometheusMetricName('http.server.request.duration', 's', 'histogram', { addSuffixes: false })).toBe('http_server_request_duration');
  });

  it.each([
    ['service.name', 'job'],
    ['service.instance.id', 'instance'],
    ['http.response.status_code', 'http_response_status_code'],
    ['code', 'code'],
    ['k8s.pod-name', 'k8s_pod_name'],
    ['1st', 'key_1st'],
    ['_private', 'key_private'],
    ['__reserved', '__reserved'],
  ])('label of %s is %s', (attribute, label) => {
    expect(prometheusLabelName(attribute)).toBe(label);
  });

  it('splits series names into the metric and its part', () => {
    expect(prometheusSeries('http_request_duration_seconds_bucket')).toEqual({ base: 'http_request_duration_seconds', part: 'bucket' });
    expect(prometheusSeries('http_request_duration_seconds_count')).toEqual({ base: 'http_request_duration_seconds', part: 'count' });
    expect(prometheusSeries('http_requests_total')).toEqual({ base: 'http_requests_total', part: 'total' });
    expect(prometheusSeries('up')).toEqual({ base: 'up', part: 'none' });
  });

  it('reads labels as attributes of the same name unless known or overridden', () => {
    expect(otelAttribute('job')).toEqual({ attribute: 'service.name' });
    expect(otelAttribute('http_route')).toEqual({ attribute: 'http.route' });
    expect(otelAttribute('handler')).toEqual({ attribute: 'handler' });
    expect(otelAttribute('handler', { handler: 'http.route' })).toEqual({ attribute: 'http.route' });
  });
});

const sloth = (errorQuery: string, totalQuery: string): string => `version: prometheus/v1
service: api
slos:
  - name: requests
    objective: 99.5
    sli:
      events:
        error_query: ${errorQuery}
        total_query: ${totalQuery}
    alerting:
      page_alert:
        labels: { severity: page, route: oncall }
        annotations: { runbook: https://runbooks.example/api }
      ticket_alert:
        disable: true
`;

describe('matchers as written', () => {
  it('keeps any label and operator in the stream and queries exactly the spec in the rules', () => {
    const [spec] = parseSloText(
      sloth(
        `sum(rate(apiserver_request_total{job="apiserver",verb!~"WATCH|CONNECT",subresource!="log",code=~"5..|429"}[{{.window}}]))`,
        `sum(rate(apiserver_request_total{job="apiserver",verb!~"WATCH|CONNECT",subresource!="log"}[{{.window}}]))`,
      ),
      'a.yaml',
    );
    expect(spec?.sli).toMatchObject({
      kind: 'availability',
      selector: { 'service.name': ['apiserver'] },
      matchers: [
        { attribute: 'verb', op: '!~', value: 'WATCH|CONNECT' },
        { attribute: 'subresource', op: '!=', value: 'log' },
      ],
      badMatcher: { attribute: 'code', op: '=~', value: '5..|429' },
      prometheusName: 'apiserver_request_total',
    });
    const [rule] = sloIngestRules(spec ? [spec] : []);
    expect(rule).toMatchObject({ prometheusName: 'apiserver_request_total', badWhen: { attribute: 'code', op: '=~', value: '5..|429' }, groupBy: ['service.name'] });
    const groups = sloRuleGroups(spec ? [spec] : []).groups;
    const sli = groups[0]?.rules[0];
    expect(sli?.expr).toBe(
      '(sum(rate(apiserver_request_total{job="apiserver",verb!~"WATCH|CONNECT",subresource!="log",code=~"5..|429"}[5m])) or on() vector(0)) / ' +
        '(sum(rate(apiserver_request_total{job="apiserver",verb!~"WATCH|CONNECT",subresource!="log"}[5m])))',
    );
    expect(promSeries(spec as NonNullable<typeof spec>)).toHaveLength(2);
    expect(describeSli(spec as NonNullable<typeof spec>)[0]).toContain("the collector's Prometheus translation names apiserver_request_total");
  });

  it('labels Sloth alerts by tier, with sloth_slo the SLO name and the service from the file', () => {
    const [spec] = parseSloText(sloth(`sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))`, `sum(rate(http_requests_total[{{.window}}]))`), 'a.yaml');
    expect(spec).toMatchObject({ name: 'api-requests', shortName: 'requests', service: 'api', alerting: { page: true, ticket: false } });
    const groups = sloRuleGroups(spec ? [spec] : []).groups;
    expect(groups[0]?.rules[0]?.labels).toMatchObject({ sloth_id: 'api-requests', sloth_slo: 'requests', sloth_service: 'api' });
    const alerts = groups[2]?.rules ?? [];
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ labels: { severity: 'page', route: 'oncall', sloth_severity: 'page' }, annotations: { runbook: 'https://runbooks.example/api' } });
    // No job matcher is added: the query reads every job, as in Prometheus.
    expect(spec?.sli.selector).toEqual({});
    expect(groups[0]?.rules[0] && 'expr' in groups[0].rules[0] ? groups[0].rules[0].expr : '').not.toContain('job=');
  });

  it('rejects what is outside the subset, saying which construct and where', () => {
    expect(() => parseSloText(sloth(`sum(rate(http_requests_total{code=~"5.."}[{{.window}}] offset 1h))`, `sum(rate(http_requests_total[{{.window}}]))`), 'o.yaml')).toThrow(
      /o\.yaml#0 slos\[0\]\.sli\.events\.error_query: column \d+: offset modifiers are not supported/,
    );
    expect(() => parseSloText(sloth(`sum(rate(http_requests_total{code=~"5[0-"}[{{.window}}]))`, `sum(rate(http_requests_total[{{.window}}]))`), 'r.yaml')).toThrow(/code=~"5\[0-": invalid regex/);
  });
});

describe("Sloth's SLO periods (AlertWindows)", () => {
  const slothFile = `version: prometheus/v1
service: api
slos:
  - name: requests
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
`;
  const windows = (body: string): string => `apiVersion: sloth.slok.dev/v1
kind: AlertWindows
spec:
${body}`;

  it('takes a named period with the built-in windows for it (28d)', () => {
    const [spec] = parseSloSources([
      { file: 'w.yaml', text: windows('  sloPeriod: 28d\n') },
      { file: 's.yaml', text: slothFile },
    ]);
    expect(spec?.window).toEqual({ kind: 'rolling', durationMs: 28 * 86_400_000 });
    const alerts = sloRuleGroups(spec ? [spec] : []).groups[2]?.rules ?? [];
    expect(alerts.map((a) => [...a.expr.matchAll(/> \(([\d.]+) \* 0\.001\)/g)].map((m) => m[1]))).toEqual([['13.44', '13.44', '5.6', '5.6'], ['2.8', '2.8']]);
  });

  it('takes custom windows, refusing ones the engine does not keep and rules below 1x', () => {
    const custom = `  sloPeriod: 7d
  page:
    quick: { errorBudgetPercent: 8, shortWindow: 5m, longWindow: 1h }
    slow: { errorBudgetPercent: 15, shortWindow: 30m, longWindow: 6h }
  ticket:
    quick: { errorBudgetPercent: 20, shortWindow: 2h, longWindow: 1d }
    slow: { errorBudgetPercent: 50, shortWindow: 6h, longWindow: 3d }
`;
    const [spec] = parseSloSources([
      { file: 'w.yaml', text: windows(custom) },
      { file: 's.yaml', text: slothFile },
    ]);
    expect(spec?.alerting.windows).toHaveLength(4);
    const rules = sloRuleGroups(spec ? [spec] : []).groups[2]?.rules ?? [];
    // 8% of 7 days in 1h: 13.44; 50% in 3d: 1.1667. 10% in 3d would be 0.233: refused.
    expect(rules[0]?.expr).toContain('> (13.44 * 0.001)');
    const bad = custom.replace('errorBudgetPercent: 50', 'errorBudgetPercent: 10').replace('longWindow: 1h', 'longWindow: 45m');
    expect(() => parseSloSources([{ file: 'w.yaml', text: windows(bad) }, { file: 's.yaml', text: slothFile }])).toThrow(
      /w\.yaml#0 spec\.page\.quick\.longWindow: must be one of the windows the engine keeps[\s\S]*w\.yaml#0 spec\.ticket\.slow: burning 10% of the budget in 3d is a burn rate below 1 over 7d/,
    );
  });
});
