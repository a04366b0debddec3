import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  BURN_RATE_TIERS,
  burnRateFactor,
  leValue,
  promDuration,
  promMetricName,
  promSelector,
  promSli,
  sloRuleGroups,
  sloRulesYaml,
  statusMatcher,
} from '../../../processors/slo/rules.js';
import type { AlertingRule, RecordingRule, Rule, RuleGroup } from '../../../processors/slo/rules.js';
import type { SloSpec } from '../../../processors/slo/types.js';
import { promtoolBinary } from '../../../stack/components/prometheus.js';
import { loadStackConfig } from '../../../stack/index.js';

const DAY = 86_400_000;

const availability: SloSpec = {
  name: 'checkout-availability',
  service: 'checkout',
  description: '99.9% of checkout requests succeed',
  objective: 0.999,
  sli: {
    kind: 'availability',
    metric: 'http.server.request.duration',
    selector: { 'service.name': ['checkout'], 'http.route': ['/api/cart', '/api/checkout/{id}'] },
    statusAttribute: 'http.response.status_code',
    badClasses: [4],
  },
  window: { kind: 'rolling', durationMs: 30 * DAY },
  budgeting: 'Occurrences',
  minEvents: 100,
  alerting: {
    page: true,
    ticket: true,
    name: 'CheckoutAvailability',
    labels: { team: 'payments' },
    annotations: { runbook: 'https://runbooks.example/checkout' },
  },
  labels: { tier: '1' },
  source: { file: 'slos/checkout.yaml', format: 'sloth', index: 0 },
};

const latency: SloSpec = {
  name: 'checkout-latency',
  service: 'checkout',
  description: '99% of checkout requests within 250 ms',
  objective: 0.99,
  sli: {
    kind: 'latency',
    metric: 'http.server.request.duration',
    selector: { 'service.name': ['checkout'] },
    statusAttribute: 'http.response.status_code',
    thresholdSeconds: 0.25,
  },
  window: { kind: 'rolling', durationMs: 7 * DAY },
  budgeting: 'Occurrences',
  minEvents: 50,
  alerting: { page: true, ticket: true, name: 'CheckoutLatency', labels: {}, annotations: {} },
  labels: {},
  source: { file: 'slos/checkout.openslo.yaml', format: 'openslo', index: 1 },
};

const calendar: SloSpec = {
  name: 'cart-monthly',
  service: 'cart',
  description: 'cart availability per calendar month',
  objective: 0.995,
  sli: {
    kind: 'availability',
    metric: 'http.server.request.duration',
    selector: { 'service.name': ['cart'] },
    statusAttribute: 'http.response.status_code',
    badClasses: [3, 4],
  },
  window: { kind: 'calendar', unit: 'month', count: 1, timeZone: 'Europe/Berlin', startMs: Date.UTC(2024, 11, 31, 23) },
  budgeting: 'Occurrences',
  minEvents: 0,
  alerting: { page: true, ticket: true, name: 'CartMonthly', labels: {}, annotations: {} },
  labels: { owner: 'shop' },
  source: { file: 'slos/cart.yaml', format: 'openslo', index: 0 },
};

const ticketOnly: SloSpec = {
  ...latency,
  name: 'search-latency',
  service: 'search',
  sli: {
    kind: 'latency',
    metric: 'http.server.request.duration',
    selector: { 'service.name': ['search'] },
    statusAttribute: 'http.response.status_code',
    thresholdSeconds: 0.3,
  },
  window: { kind: 'rolling', durationMs: 30 * DAY },
  alerting: { ...latency.alerting, page: false, name: 'SearchLatency' },
};

const silent: SloSpec = { ...ticketOnly, name: 'search-silent', alerting: { ...ticketOnly.alerting, page: false, ticket: false } };

const all = [availability, latency, calendar, ticketOnly, silent];

function group(groups: readonly RuleGroup[], name: string): RuleGroup {
  const found = groups.find((g) => g.name === name);
  if (!found) throw new Error(`no group ${name}`);
  return found;
}

function recording(g: RuleGroup, record: string): RecordingRule {
  const found = g.rules.find((r): r is RecordingRule => 'record' in r && r.record === record);
  if (!found) throw new Error(`no rule ${record} in ${g.name}`);
  return found;
}

function alerts(g: RuleGroup): AlertingRule[] {
  return g.rules.filter((r: Rule): r is AlertingRule => 'alert' in r);
}

function alertOf(g: RuleGroup, severity: string): AlertingRule {
  const found = alerts(g).find((r) => r.labels.sloth_severity === severity);
  if (!found) throw new Error(`no ${severity} alert in ${g.name}`);
  return found;
}

const { groups } = sloRuleGroups(all);
const ruleCount = groups.reduce((n, g) => n + g.rules.length, 0);

describe('PromQL mapping', () => {
  it('names OTel metrics and attributes as the collector exports them', () => {
    expect(promMetricName('http.server.request.duration')).toBe('http_server_request_duration_seconds');
    expect(promMetricName('rpc.server.duration')).toBe('rpc_server_duration_milliseconds');
    expect(promMetricName('shop.orders.placed')).toBe('shop_orders_placed');
    expect(promSelector(availability.sli)).toBe('job="checkout",http_route=~"/api/cart|/api/checkout/\\\\{id\\\\}"');
    expect(promSelector({ selector: { 'http.request.method': ['GET'], 'service.name': ['a', 'b.c'] } })).toBe(
      'job=~"a|b\\\\.c",http_request_method="GET"',
    );
    expect(promSelector({ selector: { 'http.route': ['/say "hi"'] } })).toBe('http_route="/say \\"hi\\""');
  });

  it('selects bad status classes, class 5 as a missing label', () => {
    expect(statusMatcher('http.response.status_code', [4])).toBe('http_response_status_code=~"5.."');
    expect(statusMatcher('http.response.status_code', [3, 4])).toBe('http_response_status_code=~"4..|5.."');
    expect(statusMatcher('http.response.status_code', [4, 5])).toBe('http_response_status_code=~"5..|"');
    expect(statusMatcher('http.response.status_code', [5])).toBe('http_response_status_code=""');
  });

  it('formats le like Prometheus client libraries', () => {
    expect([0.005, 0.25, 1, 2.5, 10, 100000, 1e6, 1e-5].map(leValue)).toEqual(['0.005', '0.25', '1', '2.5', '10', '100000', '1e+06', '1e-05']);
    expect(leValue(Infinity)).toBe('+Inf');
  });

  it('formats durations in their largest whole unit', () => {
    expect([5 * 60_000, 3_600_000, DAY, 30 * DAY, 90 * 60_000, 1500].map(promDuration)).toEqual(['5m', '1h', '1d', '30d', '90m', '1500ms']);
  });

  it('snaps a latency threshold between buckets to the le below it, and says so', () => {
    const exact = promSli(latency.sli);
    expect(exact.notes).toEqual([]);
    const between = promSli(ticketOnly.sli);
    expect(between.errorRatio('5m')).toContain('le="0.25"');
    expect(between.notes.join()).toContain('0.3s is not a bucket boundary');
    const ms = promSli({ ...latency.sli, metric: 'rpc.server.duration' });
    expect(ms.errorRatio('5m')).toContain('rpc_server_duration_milliseconds_bucket{job="checkout",le="250"}');
  });
});

describe('sloRuleGroups', () => {
  it('lays out Sloth groups per SLO, alerts only when page or ticket is on', () => {
    expect(groups.map((g) => g.name)).toEqual([
      'sloth-slo-sli-recordings-checkout-availability',
      'sloth-slo-meta-recordings-checkout-availability',
      'sloth-slo-alerts-checkout-availability',
      'sloth-slo-sli-recordings-checkout-latency',
      'sloth-slo-meta-recordings-checkout-latency',
      'sloth-slo-alerts-checkout-latency',
      'sloth-slo-sli-recordings-cart-monthly',
      'sloth-slo-meta-recordings-cart-monthly',
      'sloth-slo-alerts-cart-monthly',
      'sloth-slo-sli-recordings-search-latency',
      'sloth-slo-meta-recordings-search-latency',
      'sloth-slo-alerts-search-latency',
      'sloth-slo-sli-recordings-search-silent',
      'sloth-slo-meta-recordings-search-silent',
    ]);
    const sli = group(groups, 'sloth-slo-sli-recordings-checkout-availability');
    expect(sli.rules.map((r) => ('record' in r ? r.record : r.alert))).toEqual(
      ['5m', '30m', '1h', '2h', '6h', '1d', '3d', '30d'].map((w) => `slo:sli_error:ratio_rate${w}`),
    );
    const weekly = group(groups, 'sloth-slo-sli-recordings-checkout-latency');
    expect(weekly.rules.at(-1)).toMatchObject({ record: 'slo:sli_error:ratio_rate7d' });
    expect(alerts(group(groups, 'sloth-slo-alerts-search-latency')).map((a) => a.labels.sloth_severity)).toEqual(['ticket']);
    expect(() => sloRuleGroups([availability, availability])).toThrow(/two SLOs are named checkout-availability/);
  });

  it('records the 5m availability error ratio exactly', () => {
    const rule = recording(group(groups, 'sloth-slo-sli-recordings-checkout-availability'), 'slo:sli_error:ratio_rate5m');
    const sel = 'job="checkout",http_route=~"/api/cart|/api/checkout/\\\\{id\\\\}"';
    expect(rule.expr).toBe(
      `(sum(rate(http_server_request_duration_seconds_count{${sel},http_response_status_code=~"5.."}[5m])) or on() vector(0))` +
        ` / (sum(rate(http_server_request_duration_seconds_count{${sel}}[5m])))`,
    );
    expect(rule.labels).toEqual({
      aiops_slo: 'checkout-availability',
      sloth_id: 'checkout-availability',
      sloth_service: 'checkout',
      sloth_slo: 'checkout-availability',
      sloth_window: '5m',
      tier: '1',
    });
  });

  it('records latency as 1 - good/total from the threshold bucket', () => {
    const rule = recording(group(groups, 'sloth-slo-sli-recordings-checkout-latency'), 'slo:sli_error:ratio_rate1h');
    expect(rule.expr).toBe(
      '1 - ((sum(rate(http_server_request_duration_seconds_bucket{job="checkout",le="0.25"}[1h])))' +
        ' / (sum(rate(http_server_request_duration_seconds_count{job="checkout"}[1h]))))',
    );
  });

  it('records the meta series with Sloth labels', () => {
    const meta = group(groups, 'sloth-slo-meta-recordings-checkout-availability');
    const labels = { aiops_slo: 'checkout-availability', sloth_id: 'checkout-availability', sloth_service: 'checkout', sloth_slo: 'checkout-availability', tier: '1' };
    expect(recording(meta, 'slo:objective:ratio')).toEqual({ record: 'slo:objective:ratio', expr: 'vector(0.999)', labels });
    expect(recording(meta, 'slo:error_budget:ratio').expr).toBe('vector(0.001)');
    expect(recording(meta, 'slo:time_period:days').expr).toBe('vector(30)');
    const filter = '{sloth_id="checkout-availability", sloth_service="checkout", sloth_slo="checkout-availability"}';
    expect(recording(meta, 'slo:current_burn_rate:ratio').expr).toBe(
      `slo:sli_error:ratio_rate5m${filter}\n/ on(sloth_id, sloth_slo, sloth_service) group_left\nslo:error_budget:ratio${filter}`,
    );
    expect(recording(meta, 'slo:period_burn_rate:ratio').expr).toContain(`slo:sli_error:ratio_rate30d${filter}`);
    expect(recording(meta, 'slo:period_error_budget_remaining:ratio').expr).toBe(`1 - slo:period_burn_rate:ratio${filter}`);
    expect(recording(meta, 'sloth_slo_info')).toEqual({
      record: 'sloth_slo_info',
      expr: 'vector(1)',
      labels: { ...labels, sloth_mode: 'aiops', sloth_objective: '99.9', sloth_spec: 'prometheus/v1' },
    });
    expect(recording(group(groups, 'sloth-slo-meta-recordings-checkout-latency'), 'slo:time_period:days').expr).toBe('vector(7)');
  });

  it('writes the page alert exactly, with the low-traffic guard on each long window', () => {
    const page = alertOf(group(groups, 'sloth-slo-alerts-checkout-availability'), 'page');
    const f = '{sloth_id="checkout-availability", sloth_service="checkout", sloth_slo="checkout-availability"}';
    const total = 'http_server_request_duration_seconds_count{job="checkout",http_route=~"/api/cart|/api/checkout/\\\\{id\\\\}"}';
    expect(page.alert).toBe('CheckoutAvailability');
    expect(page.expr).toBe(
      [
        '(',
        `    max(slo:sli_error:ratio_rate5m${f} > (14.4 * 0.001)) without (sloth_window)`,
        '    and',
        `    max(slo:sli_error:ratio_rate1h${f} > (14.4 * 0.001)) without (sloth_window)`,
        '    and on()',
        `    sum(increase(${total}[1h])) >= 100`,
        ')',
        'or',
        '(',
        `    max(slo:sli_error:ratio_rate30m${f} > (6 * 0.001)) without (sloth_window)`,
        '    and',
        `    max(slo:sli_error:ratio_rate6h${f} > (6 * 0.001)) without (sloth_window)`,
        '    and on()',
        `    sum(increase(${total}[6h])) >= 100`,
        ')',
      ].join('\n'),
    );
    expect(page.labels).toEqual({ aiops_slo: 'checkout-availability', sloth_severity: 'page', team: 'payments' });
    expect(page.annotations).toEqual({
      runbook: 'https://runbooks.example/checkout',
      summary: 'SLO checkout-availability of checkout is burning its error budget too fast.',
      title: '(page) checkout checkout-availability SLO error budget burn rate is too fast.',
    });
    const ticket = alertOf(group(groups, 'sloth-slo-alerts-checkout-availability'), 'ticket');
    expect(ticket.expr).toContain(`max(slo:sli_error:ratio_rate2h${f} > (3 * 0.001)) without (sloth_window)`);
    expect(ticket.expr).toContain(`max(slo:sli_error:ratio_rate3d${f} > (1 * 0.001)) without (sloth_window)`);
    expect(ticket.expr).toContain(`sum(increase(${total}[3d])) >= 100`);
    // minEvents 0: no guard.
    expect(alertOf(group(groups, 'sloth-slo-alerts-cart-monthly'), 'page').expr).not.toContain('increase(');
  });

  it('scales the burn-rate factors to the period', () => {
    const tiers = [...BURN_RATE_TIERS.page, ...BURN_RATE_TIERS.ticket];
    expect(tiers.map((p) => burnRateFactor(p, 30 * DAY))).toEqual([14.4, 6, 3, 1]);
    // 7 days: the engine's rules (burn-rates.ts), never below 1x.
    const weekly = group(groups, 'sloth-slo-alerts-checkout-latency');
    expect(alertOf(weekly, 'page').expr).toContain('max(slo:sli_error:ratio_rate30m{sloth_id="checkout-latency", sloth_service="checkout", sloth_slo="checkout-latency"} > (6.72 * 0.01)) without (sloth_window)');
    expect(alertOf(weekly, 'page').expr).toContain('> (8.4 * 0.01)) without (sloth_window)');
    expect(alertOf(weekly, 'ticket').expr).toContain('max(slo:sli_error:ratio_rate6h{sloth_id="checkout-latency", sloth_service="checkout", sloth_slo="checkout-latency"} > (2.8 * 0.01)) without (sloth_window)');
    expect(alertOf(weekly, 'ticket').expr).not.toMatch(/> \(0\.\d+ \* 0\.01\)/);
  });

  it('uses the nominal length of a calendar period as a rolling window, and says so', () => {
    const sli = group(groups, 'sloth-slo-sli-recordings-cart-monthly');
    expect(recording(sli, 'slo:sli_error:ratio_rate30d').expr).toContain('http_response_status_code=~"4..|5.."}[30d]');
    expect(recording(sli, 'slo:sli_error:ratio_rate30d').labels).toMatchObject({ owner: 'shop', sloth_window: '30d' });
    expect(recording(group(groups, 'sloth-slo-meta-recordings-cart-monthly'), 'slo:time_period:days').expr).toBe('vector(30)');
    expect(alertOf(group(groups, 'sloth-slo-alerts-cart-monthly'), 'page').annotations.aiops_note).toContain('cannot align windows to calendar periods');
    const yaml = sloRulesYaml([calendar]);
    expect(yaml).toContain('# NOTE: calendar period (1 month, Europe/Berlin): Prometheus cannot align');
    expect(yaml).toMatch(/^# Prometheus rules for SLOs, generated by aiops/);
  });
});

// promtool comes from the Prometheus Debian package of the local stack; without it (never
// installed on this machine) the two promtool tests are skipped.
function findPromtool(): string | undefined {
  try {
    return promtoolBinary(loadStackConfig());
  } catch {
    return undefined;
  }
}
const promtool = findPromtool();
const dir = mkdtempSync(join(tmpdir(), 'slo-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): string {
  try {
    return execFileSync(promtool as string, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as { status?: number; stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(' ')} exited ${e.status}:\n${e.stdout}\n${e.stderr}`);
  }
}

describe('promtool', () => {
  it.skipIf(promtool === undefined)('check rules accepts the generated file (skipped when Prometheus is not installed)', () => {
    const file = join(dir, 'slo-rules.yml');
    writeFileSync(file, sloRulesYaml(all));
    const out = run(['check', 'rules', file]);
    expect(out).toContain(`SUCCESS: ${ruleCount} rules found`);
    expect(out).not.toContain('FAILED');
  });

  it.skipIf(promtool === undefined)('test rules: the page alert fires on an error burst, not on slow burns or low traffic (skipped when Prometheus is not installed)', () => {
    writeFileSync(join(dir, 'rules.yml'), sloRulesYaml([availability]));
    const alertGroup = group(sloRuleGroups([availability]).groups, 'sloth-slo-alerts-checkout-availability');
    const series = (route: string, status: string): string =>
      `http_server_request_duration_seconds_count{job="checkout", instance="otelcol:8889", http_route="${route}", http_request_method="GET", http_response_status_code="${status}"}`;
    const firing = (severity: 'page' | 'ticket'): { exp_labels: Record<string, string>; exp_annotations: Record<string, string> } => ({
      exp_labels: { aiops_slo: 'checkout-availability', sloth_id: 'checkout-availability', sloth_service: 'checkout', sloth_slo: 'checkout-availability', tier: '1', team: 'payments', sloth_severity: severity },
      exp_annotations: { ...alertOf(alertGroup, severity).annotations },
    });
    const unitTests = {
      rule_files: ['rules.yml'],
      evaluation_interval: '1m',
      tests: [
        {
          // 60 good requests a minute; from minute 60 on, every request fails. A route outside
          // the selector fails throughout and must not count.
          interval: '1m',
          input_series: [
            { series: series('/api/cart', '200'), values: '0+60x60 3600x40' },
            { series: series('/api/cart', '500'), values: '0x60 60+60x40' },
            { series: series('/api/other', '500'), values: '0+600x100' },
          ],
          alert_rule_test: [
            { eval_time: '59m', alertname: 'CheckoutAvailability', exp_alerts: [] },
            { eval_time: '65m', alertname: 'CheckoutAvailability', exp_alerts: [firing('page'), firing('ticket')] },
          ],
        },
        {
          // 0.5% errors: a burn rate of 5, under the page factors (14.4, 6), over the ticket's 3.
          interval: '1m',
          input_series: [
            { series: series('/api/cart', '200'), values: '0+995x120' },
            { series: series('/api/checkout/{id}', '500'), values: '0+5x120' },
          ],
          alert_rule_test: [{ eval_time: '120m', alertname: 'CheckoutAvailability', exp_alerts: [firing('ticket')] }],
        },
        {
          // Every request fails, but one a minute: under 100 events in any long window.
          interval: '1m',
          input_series: [{ series: series('/api/cart', '500'), values: '0+1x80' }],
          alert_rule_test: [{ eval_time: '80m', alertname: 'CheckoutAvailability', exp_alerts: [] }],
        },
      ],
    };
    writeFileSync(join(dir, 'rules.test.yml'), stringify(unitTests));
    const out = run(['test', 'rules', join(dir, 'rules.test.yml')]);
    expect(out).toContain('SUCCESS');
  });
});
