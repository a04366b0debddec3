import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AiopsError } from '../../../runtime/errors.js';
import {
  literalAlternatives,
  otelAttribute,
  otelMetric,
  parseSliExpression,
  parseSliQuery,
  statusClasses,
} from '../../../processors/slo/promql.js';
import { defaultAlertName, defaultSlothPeriodMs, parseSloFiles, parseSloSources, parseSloText } from '../../../processors/slo/spec.js';
import type { SloSpec } from '../../../processors/slo/types.js';

const fixtures = fileURLToPath(new URL('../../fixtures/slo/', import.meta.url));
const fixture = (name: string): string => join(fixtures, name);
const DAY = 86_400_000;

function specError(fn: () => unknown): AiopsError {
  try {
    fn();
  } catch (e) {
    if (e instanceof AiopsError) return e;
    throw e;
  }
  throw new Error('expected an AiopsError');
}

/** The problem lines of an SLO_SPEC_INVALID error. */
function problems(fn: () => unknown): string[] {
  const e = specError(fn);
  expect(e.code).toBe('AIOPS_ERR_SLO_SPEC_INVALID');
  return e.message.split('\n').slice(1);
}

function withoutSource(spec: SloSpec): Omit<SloSpec, 'source'> {
  const { source, ...rest } = spec;
  expect(source.file).not.toBe('');
  return otelView(rest);
}

/**
 * The OTel view of a spec: without the PromQL as written (`sli.prom`, `sli.prometheusName`,
 * asserted in slo-names.test.ts and slo-corpus.test.ts) and Sloth's short SLO name.
 */
function otelView<T extends Omit<SloSpec, 'source'>>(spec: T): T {
  const rest: Record<string, unknown> = { ...spec };
  delete rest.shortName;
  const sli: Record<string, unknown> = { ...spec.sli };
  delete sli.prom;
  delete sli.prometheusName;
  return { ...rest, sli } as unknown as T;
}

const count = 'http_server_request_duration_seconds_count';
const bucket = 'http_server_request_duration_seconds_bucket';

/** An OpenSLO SLO with an inline ratio SLI; `extra` is appended to spec. */
function openSlo(opts: { name?: string; good?: string; bad?: string; total: string; extra?: string; objective?: string; service?: string }): string {
  const source = (q: string): string => `\n          metricSource:\n            type: Prometheus\n            spec:\n              query: '${q}'`;
  return `apiVersion: openslo/v1
kind: SLO
metadata:
  name: ${opts.name ?? 'x'}
spec:
${opts.service === undefined ? '  service: checkout' : opts.service}
  indicator:
    metadata:
      name: x-sli
    spec:
      ratioMetric:
        counter: true
        ${opts.good !== undefined ? `good:${source(opts.good)}` : `bad:${source(opts.bad ?? '')}`}
        total:${source(opts.total)}
  timeWindow:
    - duration: 30d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - ${opts.objective ?? 'target: 0.99'}
${opts.extra ?? ''}`;
}

describe('parseSliQuery', () => {
  const checkout = { label: 'job', op: '=', value: 'checkout' } as const;
  it.each([
    ['sum(rate(NAME{job="checkout"}[{{.window}}]))', [checkout]],
    ['sum( increase( NAME{ job = "checkout" , } [5m] ) )', [checkout]],
    ['sum by (http_route, job) (rate(NAME{job="checkout"}[1h]))', [checkout]],
    ['sum(rate(NAME{job="checkout"}[30d])) by (http_route)', [checkout]],
    ['sum without (instance) (rate(NAME{job="checkout"}[1h30m]))', [checkout]],
    ['rate(NAME{job="checkout"}[1m])', [checkout]],
    ["NAME{job='checkout'}", [checkout]],
    ['\n  sum(\n    rate(NAME{job="checkout"}[ {{ .window }} ])\n  )\n', [checkout]],
    ['NAME', []],
    ['{__name__="NAME", job="checkout"}', [checkout]],
    ['(sum(rate(NAME{job="checkout"}[5m])))', [checkout]],
  ])('%s', (query, matchers) => {
    expect(parseSliQuery(query.replace('NAME', count))).toEqual({ metric: count, matchers });
  });

  it('reads every matcher operator and quoting with escapes', () => {
    const q = parseSliQuery(`${count}{a="x\\"y", b!='it\\'s', c=~"5..|4\\\\d\\\\d", d!~\`raw\\n\`, e="\\u00e9\\x41\\101\\t"}`);
    expect(q).toEqual({
      metric: count,
      matchers: [
        { label: 'a', op: '=', value: 'x"y' },
        { label: 'b', op: '!=', value: "it's" },
        { label: 'c', op: '=~', value: '5..|4\\d\\d' },
        { label: 'd', op: '!~', value: 'raw\\n' },
        { label: 'e', op: '=', value: 'éAA\t' },
      ],
    });
  });

  it.each([
    ['sum(rate(a_count[5m])) / sum(rate(b_count[5m]))', 'column 24: binary operator / is not supported'],
    ['1 - sum(rate(a_count[5m]))', 'column 1: number 1 is not a query; binary expressions are not supported'],
    ['histogram_quantile(0.99, sum by (le) (rate(a_bucket[5m])))', 'column 1: function histogram_quantile() is not supported (only sum, rate, increase, histogram_count and histogram_fraction)'],
    ['sum(irate(a_count[5m]))', 'column 5: function irate() is not supported (only sum, rate, increase, histogram_count and histogram_fraction)'],
    ['avg(rate(a_count[5m]))', 'column 1: aggregation avg is not supported (only sum)'],
    ['sum(rate(a_count[5m] offset 1h))', 'column 22: offset modifiers are not supported'],
    ['a_count offset 5m', 'column 9: offset modifiers are not supported'],
    ['a_count @ 1700000000', 'column 9: @ modifiers are not supported'],
    ['sum(rate(a_count[5m:1m]))', 'column 20: subqueries are not supported'],
    ['a_count[5m]', 'column 8: a range selector needs rate() or increase() around it'],
    ['rate(a_count)', 'column 13: expected a range like [5m] or [{{.window}}] in rate(), got ")"'],
    ['rate(a_count[{{.period}}])', 'column 14: expected a duration like 5m or {{.window}}, got "{{.period}}])"'],
    ['a_count > 0', 'column 9: binary operator > is not supported'],
    ['a_count or b_count', 'column 9: set operator or is not supported'],
    ['a_count{code=="5"}', 'column 13: expected =, !=, =~ or !~ after code, got "==\\"5\\"}"'],
    ['a_count{code="5\\d"}', 'column 16: unknown escape \\d in a string (a regex backslash is written \\\\)'],
    ['a_count{code="5', 'column 14: unterminated string'],
    ['sum(rate(a_count[5m])', 'column 22: expected ) closing sum(, got end of query'],
  ])('rejects %s', (query, error) => {
    expect(parseSliQuery(query)).toEqual({ error });
  });

  it('parseSliExpression accepts the binary forms SLO files need', () => {
    expect(parseSliExpression(`1 - (sum(rate(${bucket}{le="0.25"}[{{.window}}])) / sum(rate(${count}[{{.window}}])))`)).toEqual({
      type: 'binary',
      op: '-',
      left: { type: 'number', value: 1 },
      right: {
        type: 'binary',
        op: '/',
        left: { type: 'query', query: { metric: bucket, matchers: [{ label: 'le', op: '=', value: '0.25' }] } },
        right: { type: 'query', query: { metric: count, matchers: [] } },
      },
    });
    expect(parseSliExpression('a - b * c')).toMatchObject({ op: '-', right: { op: '*' } });
    expect(parseSliExpression('a % b')).toEqual({ error: 'column 3: binary operator % is not supported' });
  });
});

describe('Prometheus → OTel names', () => {
  it.each([
    [count, { metric: 'http.server.request.duration', part: 'count', unit: 's' }],
    [bucket, { metric: 'http.server.request.duration', part: 'bucket', unit: 's' }],
    ['http_server_request_duration_seconds_sum', { metric: 'http.server.request.duration', part: 'sum', unit: 's' }],
    ['http_server_duration_milliseconds_bucket', { metric: 'http.server.duration', part: 'bucket', unit: 'ms' }],
    ['rpc_server_duration_milliseconds_count', { metric: 'rpc.server.duration', part: 'count', unit: 'ms' }],
    ['http_requests_total', { metric: 'http.requests', part: 'total', unit: undefined }],
    ['messaging_process_duration_seconds_total', { metric: 'messaging.process.duration', part: 'total', unit: 's' }],
    ['queue_size_bytes', { metric: 'queue.size', part: 'none', unit: 'By' }],
    ['http_server_active_requests', { metric: 'http.server.active_requests', part: 'none', unit: undefined }],
  ])('otelMetric(%s)', (name, expected) => {
    expect(otelMetric(name)).toEqual(expected);
  });

  it('rejects recording rules', () => {
    expect(otelMetric('slo:sli_error:ratio_rate5m')).toEqual({ error: 'slo:sli_error:ratio_rate5m is a recording rule, not a metric an OTel exporter writes' });
  });

  it.each([
    ['job', 'service.name'],
    ['service_name', 'service.name'],
    ['instance', 'service.instance.id'],
    ['http_route', 'http.route'],
    ['http_request_method', 'http.request.method'],
    ['http_response_status_code', 'http.response.status_code'],
    // Labels an application wrote are read as attributes of the same name (the prometheus receiver keeps them).
    ['code', 'code'],
    ['status_code', 'status_code'],
    ['status', 'status'],
    ['verb', 'verb'],
  ])('otelAttribute(%s) = %s', (label, attribute) => {
    expect(otelAttribute(label)).toEqual({ attribute });
  });

  it('treats le as the bucket bound and names unknown labels', () => {
    expect(otelAttribute('le')).toEqual({ bucketBound: true });
    expect(otelAttribute('pod')).toEqual({ attribute: 'pod' });
    expect(otelAttribute('pod', { pod: 'k8s.pod.name' })).toEqual({ attribute: 'k8s.pod.name' });
  });

  it.each([
    ['=~', '5..', [4]],
    ['=~', '4..|5..', [3, 4]],
    ['=~', '(4..|5..)', [3, 4]],
    ['=~', '[45]..', [3, 4]],
    ['=~', '5\\d\\d', [4]],
    ['=~', '2..|3..', [1, 2]],
    ['!~', '5..', [0, 1, 2, 3]],
    ['=~', '6..', []],
  ] as const)('statusClasses(%s "%s")', (op, value, classes) => {
    expect(statusClasses({ label: 'code', op, value })).toEqual(classes);
  });

  it.each([
    ['=', '429'],
    ['=~', '50[0-3]'],
    ['!=', '500'],
    ['=~', '5..|429'],
  ] as const)('statusClasses rejects %s "%s"', (op, value) => {
    expect(statusClasses({ label: 'code', op, value })).toEqual({ error: `status matcher must select whole classes (e.g. 5..), got code${op}${JSON.stringify(value)}` });
  });

  it('literalAlternatives', () => {
    expect(literalAlternatives('/b|/a|/b')).toEqual(['/a', '/b']);
    expect(literalAlternatives('(/a|/b)')).toEqual(['/a', '/b']);
    expect(literalAlternatives('/health\\.json')).toEqual(['/health.json']);
    expect(literalAlternatives('/api/.*')).toHaveProperty('error');
    expect(literalAlternatives('a|')).toHaveProperty('error');
  });
});

const availability: Omit<SloSpec, 'source'> = {
  name: 'checkout-requests-availability',
  service: 'checkout',
  description: '99.9% of checkout requests succeed (no 5xx).',
  objective: 0.999,
  sli: {
    kind: 'availability',
    metric: 'http.server.request.duration',
    selector: { 'service.name': ['checkout'] },
    statusAttribute: 'http.response.status_code',
    badClasses: [4],
  },
  window: { kind: 'rolling', durationMs: 30 * DAY },
  budgeting: 'Occurrences',
  minEvents: 10,
  alerting: {
    page: true,
    ticket: true,
    name: 'CheckoutHighErrorRate',
    labels: { team: 'payments' },
    annotations: { summary: 'High error rate on checkout requests' },
  },
  labels: { owner: 'payments-team', tier: '1', category: 'availability' },
};

const latency: Omit<SloSpec, 'source'> = {
  name: 'checkout-requests-latency',
  service: 'checkout',
  description: '99% of checkout and cart requests complete within 250 ms.',
  objective: 0.99,
  sli: {
    kind: 'latency',
    metric: 'http.server.request.duration',
    selector: { 'service.name': ['checkout'], 'http.route': ['/api/cart', '/api/checkout'] },
    statusAttribute: 'http.response.status_code',
    thresholdSeconds: 0.25,
  },
  window: { kind: 'rolling', durationMs: 30 * DAY },
  budgeting: 'Occurrences',
  minEvents: 10,
  alerting: {
    page: true,
    ticket: true,
    name: 'CheckoutHighLatency',
    labels: { team: 'payments' },
    annotations: { summary: 'Checkout requests are slow' },
  },
  labels: { owner: 'payments-team', tier: '1', category: 'latency' },
};

describe('fixtures', () => {
  it.each([
    ['checkout-availability.openslo.yaml', availability, 'openslo', 2],
    ['checkout-availability.sloth.yaml', availability, 'sloth', 0],
    ['checkout-latency.openslo.yaml', latency, 'openslo', 0],
    ['checkout-latency.sloth.yaml', latency, 'sloth', 0],
  ] as const)('%s', (name, expected, format, index) => {
    const file = fixture(name);
    expect(parseSloFiles([file]).map(otelView)).toEqual([{ ...expected, source: { file, format, index } }]);
  });

  it('OpenSLO and Sloth files of the same SLO are equal apart from source', () => {
    for (const slo of ['checkout-availability', 'checkout-latency']) {
      const [open] = parseSloFiles([fixture(`${slo}.openslo.yaml`)]);
      const [sloth] = parseSloFiles([fixture(`${slo}.sloth.yaml`)]);
      expect(open).toBeDefined();
      expect(withoutSource(open as SloSpec)).toEqual(withoutSource(sloth as SloSpec));
    }
  });

  it('results are frozen', () => {
    const [spec] = parseSloFiles([fixture('checkout-availability.sloth.yaml')]);
    expect(Object.isFrozen(spec)).toBe(true);
    expect(Object.isFrozen(spec?.sli.selector['service.name'])).toBe(true);
  });
});

describe('OpenSLO', () => {
  it('resolves indicatorRef across files', () => {
    const slis = fixture('split/slis.openslo.yaml');
    const slos = fixture('split/slos.openslo.yaml');
    expect(parseSloFiles([slis, slos]).map(otelView)).toEqual([
      {
        name: 'cart-availability',
        service: 'cart',
        description: '',
        objective: 0.995,
        sli: {
          kind: 'availability',
          metric: 'http.server.request.duration',
          selector: { 'service.name': ['cart'] },
          statusAttribute: 'http.response.status_code',
          badClasses: [4],
        },
        window: { kind: 'calendar', unit: 'month', count: 1, timeZone: 'Europe/Berlin', startMs: Date.UTC(2025, 11, 31, 23) },
        budgeting: 'Occurrences',
        minEvents: 10,
        alerting: { page: true, ticket: true, name: 'CartAvailabilitySLOBurn', labels: {}, annotations: {} },
        labels: {},
        source: { file: slos, format: 'openslo', index: 0 },
      },
      {
        name: 'cart-latency',
        service: 'cart',
        description: '',
        objective: 0.95,
        sli: {
          kind: 'latency',
          metric: 'http.server.request.duration',
          selector: { 'service.name': ['cart'], 'http.route': ['/api/cart'] },
          statusAttribute: 'http.response.status_code',
          thresholdSeconds: 0.5,
        },
        window: { kind: 'rolling', durationMs: 7 * DAY },
        budgeting: 'Occurrences',
        minEvents: 50,
        alerting: { page: true, ticket: false, name: 'CartLatencySLOBurn', labels: {}, annotations: {} },
        labels: {},
        source: { file: slos, format: 'openslo', index: 1 },
      },
    ]);
    // The order of the files does not matter.
    expect(parseSloFiles([slos, slis]).map((s) => s.name)).toEqual(['cart-availability', 'cart-latency']);
  });

  it('reports a missing indicatorRef', () => {
    const slos = fixture('split/slos.openslo.yaml');
    expect(problems(() => parseSloFiles([slos]))).toEqual([
      `  - ${slos}#0 spec.indicatorRef: no SLI named "cart-5xx" in the files given`,
      `  - ${slos}#1 spec.indicatorRef: no SLI named "cart-duration" in the files given`,
    ]);
    const missing = fixture('invalid/missing-ref.openslo.yaml');
    expect(problems(() => parseSloFiles([missing]))).toEqual([`  - ${missing}#0 spec.indicatorRef: no SLI named "no-such-sli" in the files given`]);
  });

  it('reports every problem of a file in one error', () => {
    const file = fixture('invalid/three-problems.openslo.yaml');
    const e = specError(() => parseSloFiles([file]));
    expect(e.code).toBe('AIOPS_ERR_SLO_SPEC_INVALID');
    expect(e.message).toBe(
      [
        'invalid SLO specification:',
        `  - ${file}#0 spec.indicator.spec.ratioMetric.bad.metricSource.spec.query: column 106: offset modifiers are not supported`,
        `  - ${file}#0 spec.budgetingMethod: unknown method "Timeslice" (Occurrences, Timeslices, RatioTimeslices)`,
        `  - ${file}#0 spec.objectives[0].target: must be in (0, 1), got 1.5`,
      ].join('\n'),
    );
  });

  it('reports problems across files together, YAML errors with their line', () => {
    const syntax = fixture('invalid/syntax.openslo.yaml');
    const missing = fixture('invalid/missing-ref.openslo.yaml');
    const version = fixture('invalid/unknown-version.sloth.yaml');
    const nope = fixture('invalid/does-not-exist.yaml');
    const lines = problems(() => parseSloFiles([syntax, missing, version, nope]));
    expect(lines).toEqual([
      `  - ${nope}: cannot read the file: ENOENT: no such file or directory, open '${nope}'`,
      `  - ${syntax}#0: YAML error at line 6, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]`,
      `  - ${version} version: unknown version "prometheus/v2" (supported: prometheus/v1)`,
      `  - ${missing}#0 spec.indicatorRef: no SLI named "no-such-sli" in the files given`,
    ]);
  });

  it('reports duplicate SLO names with both places', () => {
    const a = fixture('checkout-availability.openslo.yaml');
    const b = fixture('checkout-availability.sloth.yaml');
    expect(problems(() => parseSloFiles([a, b]))).toEqual([`  - ${b}#0 slos[0].name: duplicate SLO name "checkout-requests-availability" (also in ${a}#2)`]);
  });

  it('calendar windows start at the local time in their zone', () => {
    const window = (duration: string, startTime: string, timeZone: string): unknown => {
      const text = openSlo({ bad: `${count}{code=~"5.."}`, total: count }).replace(
        '    - duration: 30d\n      isRolling: true',
        `    - duration: ${duration}\n      isRolling: false\n      calendar:\n        startTime: '${startTime}'\n        timeZone: ${timeZone}`,
      );
      return parseSloText(text, 'w.yaml')[0]?.window;
    };
    expect(window('1M', '2026-01-01 00:00:00', 'America/New_York')).toEqual({
      kind: 'calendar',
      unit: 'month',
      count: 1,
      timeZone: 'America/New_York',
      startMs: Date.UTC(2026, 0, 1, 5),
    });
    expect(window('1Q', '2026-07-01 00:00:00', 'Europe/Berlin')).toEqual({
      kind: 'calendar',
      unit: 'month',
      count: 3,
      timeZone: 'Europe/Berlin',
      startMs: Date.UTC(2026, 5, 30, 22),
    });
    expect(window('1w', '2026-01-05 00:00:00', 'UTC')).toMatchObject({ unit: 'week', count: 1, startMs: Date.UTC(2026, 0, 5) });
    expect(window('1Y', '2026-01-01 00:00:00', 'Asia/Kolkata')).toMatchObject({ unit: 'year', count: 1, startMs: Date.UTC(2025, 11, 31, 18, 30) });
    // Either side of the spring-forward in Berlin (02:00 CET → 03:00 CEST on 2026-03-29).
    expect(window('1d', '2026-03-29 01:30:00', 'Europe/Berlin')).toMatchObject({ startMs: Date.UTC(2026, 2, 29, 0, 30) });
    expect(window('1d', '2026-03-29 03:30:00', 'Europe/Berlin')).toMatchObject({ startMs: Date.UTC(2026, 2, 29, 1, 30) });
    expect(window('28d', '2026-11-01 12:00:00', 'America/New_York')).toMatchObject({ unit: 'day', count: 28, startMs: Date.UTC(2026, 10, 1, 17) });
  });

  it('rejects bad windows', () => {
    const text = (tw: string): string => openSlo({ bad: `${count}{code=~"5.."}`, total: count }).replace('    - duration: 30d\n      isRolling: true', tw);
    expect(problems(() => parseSloText(text('    - duration: 1M\n      isRolling: false\n      calendar:\n        startTime: "2026-01-01 00:00:00"\n        timeZone: Mars/Olympus'), 'w.yaml'))).toEqual([
      '  - w.yaml#0 spec.timeWindow[0].calendar.timeZone: unknown time zone "Mars/Olympus"',
    ]);
    expect(problems(() => parseSloText(text('    - duration: 1M\n      isRolling: false\n      calendar:\n        startTime: "2026-02-30 00:00:00"\n        timeZone: UTC'), 'w.yaml'))).toEqual([
      `  - w.yaml#0 spec.timeWindow[0].calendar.startTime: must be a local time 'YYYY-MM-DD HH:mm:ss', got "2026-02-30 00:00:00"`,
    ]);
    expect(problems(() => parseSloText(text('    - duration: 1M\n      isRolling: true'), 'w.yaml'))).toEqual([
      '  - w.yaml#0 spec.timeWindow[0].duration: a rolling window needs a fixed length (m, h, d or w), got 1M',
    ]);
    expect(problems(() => parseSloText(text('    - duration: 30 days'), 'w.yaml'))).toEqual([
      '  - w.yaml#0 spec.timeWindow[0].duration: must be a count and a unit (m, h, d, w, M, Q, Y), e.g. 30d or 1M, got "30 days"',
    ]);
    expect(problems(() => parseSloText(text('    - duration: 1M\n      isRolling: false'), 'w.yaml'))).toEqual([
      '  - w.yaml#0 spec.timeWindow[0].calendar: is required for a calendar window (isRolling: false)',
    ]);
  });

  it('maps good status matchers to the complement among 1xx-5xx', () => {
    const [a] = parseSloText(openSlo({ good: `${count}{job="checkout",code=~"2..|3.."}`, total: `${count}{job="checkout"}` }), 'g.yaml');
    expect(otelView(a as SloSpec).sli).toEqual({
      kind: 'availability',
      metric: 'http.server.request.duration',
      selector: { 'service.name': ['checkout'] },
      // The status label as written: the attribute `code`.
      statusAttribute: 'code',
      badClasses: [0, 3, 4],
    });
    const [b] = parseSloText(openSlo({ good: `sum(rate(${count}{job="checkout",status!~"5.."}[5m]))`, total: `sum(rate(${count}{job="checkout"}[5m]))` }), 'g.yaml');
    expect(b?.sli).toMatchObject({ kind: 'availability', badClasses: [4] });
    const [c] = parseSloText(openSlo({ bad: `${count}{job="checkout",code=~"(4..|5..)"}`, total: `${count}{job="checkout"}` }), 'g.yaml');
    expect(c?.sli).toMatchObject({ kind: 'availability', badClasses: [3, 4] });
  });

  it('takes the service from spec.service when the selector has none or several', () => {
    const [a] = parseSloText(openSlo({ bad: `${count}{http_route="/a",code=~"5.."}`, total: `${count}{http_route="/a"}` }), 's.yaml');
    expect(a?.service).toBe('checkout');
    // The query has no job matcher and gets none: it selects what it selects.
    expect(a?.sli.selector).toEqual({ 'http.route': ['/a'] });
    const [b] = parseSloText(openSlo({ bad: `${count}{job=~"a|b",code=~"5.."}`, total: `${count}{job=~"b|a"}`, service: '  service: shop' }), 's.yaml');
    expect(b?.service).toBe('shop');
    expect(b?.sli.selector).toEqual({ 'service.name': ['a', 'b'] });
    const [c] = parseSloText(openSlo({ bad: `${count}{job="api",code=~"5.."}`, total: `${count}{job="api"}`, service: '' }), 's.yaml');
    expect(c?.service).toBe('api');
    expect(problems(() => parseSloText(openSlo({ bad: `${count}{code=~"5.."}`, total: count, service: '' }), 's.yaml'))).toEqual([
      '  - s.yaml#0 spec.service: is required when the queries have no job / service_name matcher',
    ]);
  });

  it('converts millisecond histograms to seconds', () => {
    const ms = 'http_server_duration_milliseconds';
    const [spec] = parseSloText(openSlo({ good: `${ms}_bucket{job="checkout",le="250"}`, total: `${ms}_count{job="checkout"}` }), 'ms.yaml');
    expect(otelView(spec as SloSpec).sli).toEqual({
      kind: 'latency',
      metric: 'http.server.duration',
      selector: { 'service.name': ['checkout'] },
      statusAttribute: 'http.response.status_code',
      thresholdSeconds: 0.25,
    });
  });

  it('accepts thresholdMetric on the duration histogram with op lt/lte and a value', () => {
    const text = `apiVersion: openslo/v1
kind: SLO
metadata:
  name: t
spec:
  service: checkout
  indicator:
    metadata: { name: t }
    spec:
      thresholdMetric:
        metricSource:
          type: Prometheus
          spec:
            query: sum(rate(${count}{job="checkout"}[5m]))
  timeWindow: [{ duration: 28d, isRolling: true }]
  objectives: [{ op: lt, value: 0.3, target: 0.9 }]
`;
    const [spec] = parseSloText(text, 't.yaml');
    expect(otelView(spec as SloSpec).sli).toEqual({
      kind: 'latency',
      metric: 'http.server.request.duration',
      selector: { 'service.name': ['checkout'] },
      statusAttribute: 'http.response.status_code',
      thresholdSeconds: 0.3,
    });
    expect(spec?.window).toEqual({ kind: 'rolling', durationMs: 28 * DAY });
    expect(problems(() => parseSloText(text.replace('op: lt', 'op: gte'), 't.yaml'))).toEqual([
      '  - t.yaml#0 spec.objectives[0].op: a latency objective needs lt or lte, got "gte"',
    ]);
    expect(problems(() => parseSloText(text.replace('op: lt, value: 0.3, ', ''), 't.yaml'))).toEqual([
      '  - t.yaml#0 spec.objectives[0].op: is required',
      '  - t.yaml#0 spec.objectives[0].value: is required',
    ]);
  });

  it('accepts the native aiops metric source', () => {
    const text = `apiVersion: openslo/v1
kind: SLO
metadata:
  name: native
spec:
  service: checkout
  indicator:
    metadata: { name: native }
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: aiops
            spec:
              selector: { service.name: checkout, http.route: [/b, /a] }
              status: 4xx|5xx
        total:
          metricSource:
            type: aiops
            spec:
              metric: http.server.request.duration
              selector: { service.name: checkout, http.route: [/a, /b] }
  timeWindow: [{ duration: 30d, isRolling: true }]
  objectives: [{ targetPercent: 99.5 }]
`;
    const [spec] = parseSloText(text, 'n.yaml');
    expect(spec?.objective).toBe(0.995);
    expect(spec?.sli).toEqual({
      kind: 'availability',
      metric: 'http.server.request.duration',
      selector: { 'service.name': ['checkout'], 'http.route': ['/a', '/b'] },
      statusAttribute: 'http.response.status_code',
      badClasses: [3, 4],
    });
    const latencyText = text.replace('bad:', 'good:').replace('status: 4xx|5xx', 'le: 0.5');
    expect(parseSloText(latencyText, 'n.yaml')[0]?.sli).toMatchObject({ kind: 'latency', thresholdSeconds: 0.5 });
    expect(problems(() => parseSloText(text.replace('status: 4xx|5xx', 'status: "429"'), 'n.yaml'))).toEqual([
      '  - n.yaml#0 spec.indicator.spec.ratioMetric.bad.metricSource.spec.status: status matcher must select whole classes (e.g. 5..), got status=~"429"',
    ]);
  });

  it('reads labels, annotations and defaults', () => {
    const text = openSlo({
      name: 'api.v2_errors',
      bad: `${count}{job="checkout",code=~"5.."}`,
      total: `${count}{job="checkout"}`,
      extra: '',
    }).replace(
      'metadata:\n  name: api.v2_errors\n',
      `metadata:
  name: api.v2_errors
  displayName: API v2 errors
  labels: { team: [a, b], tier: 1 }
  annotations: { aiops.page: 'false', aiops.minEvents: '0', other.io/x: kept-out }
`,
    );
    const [spec] = parseSloText(text, 'l.yaml');
    expect(spec?.description).toBe('API v2 errors');
    expect(spec?.labels).toEqual({ team: 'a,b', tier: '1' });
    expect(spec?.minEvents).toBe(0);
    expect(spec?.alerting).toEqual({ page: false, ticket: true, name: 'ApiV2ErrorsSLOBurn', labels: {}, annotations: {} });
    expect(problems(() => parseSloText(text.replace('aiops.page', 'aiops.paging'), 'l.yaml'))).toEqual([
      '  - l.yaml#0 metadata.annotations.aiops.paging: unknown annotation (known: aiops.page, aiops.ticket, aiops.minEvents, aiops.alertName, aiops.alertLabel.<name>, aiops.alertAnnotation.<name>, aiops.attribute.<label>, aiops.prometheusHistogram)',
    ]);
  });

  it('ignores Service, AlertPolicy, AlertCondition, AlertNotificationTarget and unreferenced DataSource documents', () => {
    const other = ['Service', 'AlertPolicy', 'AlertCondition', 'AlertNotificationTarget', 'DataSource']
      .map((kind) => `apiVersion: openslo/v1\nkind: ${kind}\nmetadata:\n  name: x\nspec: ${kind === 'DataSource' ? '{ type: Prometheus }' : '{}'}\n`)
      .join('---\n');
    const text = `${other}---\n${openSlo({ bad: `${count}{code=~"5.."}`, total: count })}`;
    const specs = parseSloText(text, 'k.yaml');
    expect(specs.map((s) => [s.name, s.source.index])).toEqual([['x', 5]]);
  });

  it('reports mapping problems precisely', () => {
    const q = 'spec.indicator.spec.ratioMetric';
    const cases: [Parameters<typeof openSlo>[0], string][] = [
      [
        { bad: `${count}{job="checkout",http_route="/a",code=~"5.."}`, total: `${count}{job="checkout"}` },
        `${q}.bad.metricSource.spec.query: selector {http.route="/a", service.name="checkout"} differs from the total's {service.name="checkout"}; they may differ only in the status or le matcher, or one more matcher saying which requests are bad`,
      ],
      [{ bad: `${count}{job!="x",code=~"5.."}`, total: `${count}{job="x"}` }, `${q}.bad.metricSource.spec.query: selector {service.name!="x"} differs from the total's {service.name="x"}; they may differ only in the status or le matcher, or one more matcher saying which requests are bad`],
      [
        { bad: `${count}{http_route=~"/api/.*",code=~"5.."}`, total: count },
        `${q}.bad.metricSource.spec.query: selector {http.route=~"/api/.*"} differs from the total's {}; they may differ only in the status or le matcher, or one more matcher saying which requests are bad`,
      ],
      [{ bad: `${count}{code=~"5.."}`, total: `${count}{code!~"4.."}` }, `${q}.total.metricSource.spec.query: the total must count every request; move code!~"4.." to the bad query`],
      [{ bad: `${count}{code=~"5.."}`, total: 'http_server_request_duration_seconds_sum' }, `${q}.total.metricSource.spec.query: the total must count requests: a histogram's _count or a counter's _total, got http_server_request_duration_seconds_sum`],
      [{ bad: `${bucket}{le="0.25"}`, total: count }, `${q}.bad.metricSource.spec.query: a bucket (le) counts good requests: give it as the good query (count - bucket is not one selector)`],
      [{ good: `${count}{job="a"}`, total: `${count}{job="a"}` }, `${q}.good.metricSource.spec.query: the good query must add a status matcher (availability), another matcher, or le (latency) to the total's selector`],
      [{ bad: `http_requests_total{code=~"5.."}`, total: count }, `${q}.bad.metricSource.spec.query: metric http.requests (http_requests_total) differs from the total's http.server.request.duration (http_server_request_duration_seconds_count)`],
      [{ bad: `histogram_quantile(0.99, ${bucket})`, total: count }, `${q}.bad.metricSource.spec.query: column 1: function histogram_quantile() is not supported (only sum, rate, increase, histogram_count and histogram_fraction)`],
      [{ good: `${bucket}{le="0.25",code=~"2.."}`, total: count }, `${q}.good.metricSource.spec.query: give a status matcher (availability) or le (latency), not both`],
      [{ good: `${bucket}{le="fast"}`, total: count }, `${q}.good.metricSource.spec.query: le="fast": le must be a positive number or +Inf`],
      [{ bad: `${count}{code=~"5.."}`, total: count, objective: 'targetPercent: 100' }, 'spec.objectives[0].targetPercent: must be in (0, 100), got 100'],
    ];
    for (const [opts, line] of cases) expect(problems(() => parseSloText(openSlo(opts), 'm.yaml'))).toEqual([`  - m.yaml#0 ${line}`]);
  });

  it('rejects unknown apiVersions, kinds, bad names and unsupported budgeting', () => {
    const base = openSlo({ bad: `${count}{code=~"5.."}`, total: count });
    expect(problems(() => parseSloText(base.replace('openslo/v1', 'openslo/v1alpha'), 'v.yaml'))).toEqual([
      '  - v.yaml#0 apiVersion: unknown apiVersion "openslo/v1alpha" (supported: openslo/v1)',
    ]);
    expect(problems(() => parseSloText(base.replace('kind: SLO', 'kind: SLOs'), 'v.yaml'))).toEqual([
      '  - v.yaml#0 kind: unknown kind "SLOs" (SLO, SLI, DataSource; ignored: Service, AlertPolicy, AlertCondition, AlertNotificationTarget)',
    ]);
    expect(problems(() => parseSloText(base.replace('name: x\n', 'name: x y\n'), 'v.yaml'))).toEqual([
      `  - v.yaml#0 metadata.name: must be letters, digits, '_', '.' and '-' only, got "x y"`,
    ]);
    expect(problems(() => parseSloText(base.replace('Occurrences', 'RatioTimeslices'), 'v.yaml'))).toEqual([
      // RatioTimeslices is read; its objective needs the slice length.
      '  - v.yaml#0 spec.objectives[0].timeSliceWindow: is required',
    ]);
    expect(problems(() => parseSloText('kind: SLO\n', 'v.yaml'))).toEqual(['  - v.yaml#0: neither apiVersion (OpenSLO) nor version (Sloth) is given']);
  });
});

describe('Sloth', () => {
  const sloth = (sli: string, extra = ''): string => `version: prometheus/v1
service: checkout
slos:
  - name: lat
    objective: 99.5
    sli:
${sli}
${extra}`;

  it('accepts the raw 1 - (good / total) latency form', () => {
    const raw = `      raw:
        error_ratio_query: >-
          1 - (sum(rate(${bucket}{job="checkout",le="0.25"}[{{.window}}]))
          / sum(rate(${count}{job="checkout"}[{{.window}}])))`;
    const events = `      events:
        error_query: sum(rate(${count}{job="checkout"}[{{.window}}])) - sum(rate(${bucket}{job="checkout",le="0.25"}[{{.window}}]))
        total_query: sum(rate(${count}{job="checkout"}[{{.window}}]))`;
    const [a] = parseSloText(sloth(raw), 'r.yaml');
    const [b] = parseSloText(sloth(events), 'e.yaml');
    expect(otelView(a as SloSpec).sli).toEqual({
      kind: 'latency',
      metric: 'http.server.request.duration',
      selector: { 'service.name': ['checkout'] },
      statusAttribute: 'http.response.status_code',
      thresholdSeconds: 0.25,
    });
    expect(withoutSource(a as SloSpec)).toEqual(withoutSource(b as SloSpec));
    expect(a).toMatchObject({ name: 'checkout-lat', objective: 0.995, window: { kind: 'rolling', durationMs: defaultSlothPeriodMs } });
    expect(defaultSlothPeriodMs).toBe(30 * DAY);
  });

  it('maps alerting and names SLOs <service>-<name>', () => {
    const events = `      events:
        error_query: sum(rate(${count}{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(${count}[{{.window}}]))`;
    const alerting = `    alerting:
      page_alert:
        disable: true
        labels: { severity: critical }`;
    const [spec] = parseSloText(sloth(events, alerting), 'a.yaml');
    expect(spec).toMatchObject({
      name: 'checkout-lat',
      service: 'checkout',
      description: '',
      labels: {},
      minEvents: 10,
      alerting: { page: false, ticket: true, name: 'CheckoutLatSLOBurn', labels: {}, annotations: {} },
      // The service is the file's; the query has no job matcher and gets none.
      sli: { kind: 'availability', selector: {}, badClasses: [4] },
      source: { file: 'a.yaml', format: 'sloth', index: 0 },
    });
    expect(defaultAlertName('checkout-requests-availability')).toBe('CheckoutRequestsAvailabilitySLOBurn');
  });

  it('reports every unsupported SLO with its index', () => {
    const file = fixture('invalid/unsupported.sloth.yaml');
    const lines = problems(() => parseSloFiles([file]));
    expect(lines.slice(0, 3)).toEqual([
      `  - ${file}#0 slos[0].sli.plugin: SLI plugins are not supported; use events`,
      `  - ${file}#1 slos[1].sli.raw.error_ratio_query: raw SLIs are not supported; use events (raw is accepted as 1 - (good / total), or as 1 - histogram_fraction(0, T, ...) over a native histogram)`,
      `  - ${file}#2 slos[2].objective: must be a percentage in (0, 100), got 100`,
    ]);
    // Any label is matched as written (pod is read as the attribute pod): no more problems.
    expect(lines.slice(3)).toHaveLength(0);
  });

  it('rejects other binary error queries and unknown versions', () => {
    const events = `      events:
        error_query: sum(rate(${count}{code=~"5.."}[{{.window}}])) / sum(rate(${count}[{{.window}}]))
        total_query: sum(rate(${count}[{{.window}}]))`;
    expect(problems(() => parseSloText(sloth(events), 'b.yaml'))).toEqual([
      '  - b.yaml#0 slos[0].sli.events.error_query: only one selector, or total - good (sum(rate(X_count{...}[{{.window}}])) - sum(rate(X_bucket{le="0.25",...}[{{.window}}]))), is supported',
    ]);
    expect(problems(() => parseSloText(sloth(events).replace('prometheus/v1', 'prometheus/v2'), 'b.yaml'))).toEqual([
      '  - b.yaml version: unknown version "prometheus/v2" (supported: prometheus/v1)',
    ]);
  });
});

describe('parseSloSources', () => {
  it('resolves references between texts and keeps their order', () => {
    const sli = `apiVersion: openslo/v1
kind: SLI
metadata: { name: errors }
spec:
  ratioMetric:
    counter: true
    bad: { metricSource: { type: Prometheus, spec: { query: '${count}{job="a",code=~"5.."}' } } }
    total: { metricSource: { type: Prometheus, spec: { query: '${count}{job="a"}' } } }
`;
    const slo = (name: string): string => `apiVersion: openslo/v1
kind: SLO
metadata: { name: ${name} }
spec:
  indicatorRef: errors
  timeWindow: [{ duration: 1h, isRolling: true }]
  objectives: [{ target: 0.9 }]
`;
    const specs = parseSloSources([
      { file: 'one.yaml', text: slo('first') },
      { file: 'two.yaml', text: `${sli}---\n${slo('second')}` },
    ]);
    expect(specs.map((s) => [s.name, s.service, s.source.file, s.source.index])).toEqual([
      ['first', 'a', 'one.yaml', 0],
      ['second', 'a', 'two.yaml', 1],
    ]);
    expect(specs[0]?.window).toEqual({ kind: 'rolling', durationMs: 3_600_000 });
  });
});
