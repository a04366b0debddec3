/**
 * The corpus of real-world-shaped SLO files (test/fixtures/slo/corpus): each is accepted; the
 * exported rules query exactly the spec's metric and label names (both parsed as PromQL and
 * compared); promtool accepts the rules; and for the events and raw forms, promtool's alerts on a
 * synthetic series are the tiers the stream engine fires on the same series.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { SloEngine } from '../../../processors/slo/engine.js';
import type { AlertTransition } from '../../../processors/slo/engine.js';
import { formatMatcher, parseSliExpression, parseSliQuery } from '../../../processors/slo/promql.js';
import type { SliExpression, SliQuery } from '../../../processors/slo/promql.js';
import { sloRuleGroups, sloRulesYaml } from '../../../processors/slo/rules.js';
import type { AlertingRule, RecordingRule } from '../../../processors/slo/rules.js';
import { parseSloFiles } from '../../../processors/slo/spec.js';
import type { SloSpec } from '../../../processors/slo/types.js';
import { ensureTool } from '../../../stack/tools.js';

const corpus = fileURLToPath(new URL('../../fixtures/slo/corpus/', import.meta.url));
const files = readdirSync(corpus).filter((f) => f.endsWith('.yaml')).sort();

/** A selector as a canonical string: metric{matchers sorted}. */
function canonical(q: SliQuery): string {
  return `${q.metric}{${q.matchers.map(formatMatcher).sort().join(',')}}`;
}

function leaves(e: SliExpression, out: SliQuery[]): SliQuery[] {
  if (e.type === 'query') out.push(e.query);
  else if (e.type === 'binary') {
    leaves(e.left, out);
    leaves(e.right, out);
  }
  return out;
}

/** Every query of a file as written (Sloth error/total/raw queries, OpenSLO spec.query), parsed. */
function specQueries(file: string): SliQuery[] {
  const out: SliQuery[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        if (typeof x === 'string' && ['error_query', 'total_query', 'error_ratio_query', 'query'].includes(k)) {
          const e = parseSliExpression(x);
          if ('error' in e) throw new Error(`${file}: ${e.error}`);
          leaves(e, out);
        } else walk(x);
      }
    }
  };
  for (const d of parseAllDocuments(readFileSync(join(corpus, file), 'utf8'))) walk(d.toJS());
  return out;
}

/** The vector selectors of a rule expression: `name{...}` and bare `name[...]` inside rate(). */
function ruleSelectors(expr: string): SliQuery[] {
  const out: SliQuery[] = [];
  const re = /([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[^}"]|"(?:[^"\\]|\\.)*")*\})?\[/g;
  for (let m = re.exec(expr); m; m = re.exec(expr)) {
    const q = parseSliQuery(`${m[1]}${m[2] ?? ''}`);
    if ('error' in q) throw new Error(`${expr}: ${q.error}`);
    out.push(q);
  }
  return out;
}

const specsOf = new Map<string, SloSpec[]>(files.map((f) => [f, parseSloFiles([join(corpus, f)])]));

describe('the SLO corpus', () => {
  it('has the forms teams write', () => {
    expect(files).toEqual([
      'openslo-list.yaml',
      'openslo-objectives.yaml',
      'sloth-apiserver.yaml',
      'sloth-events-client-library.yaml',
      'sloth-multi-document.yaml',
      'sloth-native-histogram.yaml',
      'sloth-raw-latency.yaml',
    ]);
  });

  it.each(files)('%s is accepted', (file) => {
    expect(specsOf.get(file)?.length).toBeGreaterThan(0);
  });

  it.each(files)('%s: the rules query exactly the spec metric and label names', (file) => {
    const specs = specsOf.get(file) ?? [];
    const written = specQueries(file);
    const writtenSet = new Set(written.map(canonical));
    const queried = new Set<string>();
    for (const g of sloRuleGroups(specs).groups) {
      for (const r of g.rules) for (const q of ruleSelectors(r.expr)) if (!q.metric.startsWith('slo:')) queried.add(canonical(q));
    }
    expect(queried.size).toBeGreaterThan(0);
    if (file === 'openslo-objectives.yaml') {
      // thresholdMetric: one selector of the histogram; the rules read its _count and its
      // _bucket with le from each objective's value, with the spec's labels and matchers.
      const [q] = written;
      const base = (q?.metric ?? '').replace(/_bucket$/, '');
      const labels = (q?.matchers ?? []).map(formatMatcher).sort();
      expect([...queried].sort()).toEqual(
        [`${base}_bucket{${[...labels, 'le="0.25"'].sort().join(',')}}`, `${base}_bucket{${[...labels, 'le="1"'].sort().join(',')}}`, `${base}_count{${labels.join(',')}}`].sort(),
      );
    } else {
      expect([...queried].sort()).toEqual([...writtenSet].sort());
    }
  });

  it('keeps the Sloth tiers, disable, sloth_* labels and the service of the file', () => {
    const billing = specsOf.get('sloth-events-client-library.yaml') ?? [];
    const groups = sloRuleGroups(billing).groups;
    const alerts = groups.find((g) => g.name === 'sloth-slo-alerts-billing-requests-availability')?.rules as AlertingRule[];
    expect(alerts.map((a) => [a.labels.sloth_severity, a.labels.severity, a.labels.routing_key, a.annotations.runbook])).toEqual([
      ['page', 'critical', 'billing-oncall', 'https://runbooks.example.com/billing/errors'],
      ['ticket', 'warning', undefined, undefined],
    ]);
    const latency = groups.find((g) => g.name === 'sloth-slo-alerts-billing-requests-latency')?.rules as AlertingRule[];
    expect(latency.map((a) => a.labels.sloth_severity)).toEqual(['page']);
    const sli = groups.find((g) => g.name === 'sloth-slo-sli-recordings-billing-requests-availability')?.rules[0] as RecordingRule;
    expect(sli.labels).toMatchObject({ sloth_id: 'billing-requests-availability', sloth_slo: 'requests-availability', sloth_service: 'billing', owner: 'billing-team' });
    expect((specsOf.get('sloth-multi-document.yaml') ?? []).map((s) => [s.name, s.service])).toEqual([
      ['cart-availability', 'cart'],
      ['payments-grpc-availability', 'payments'],
    ]);
  });
});

// --- promtool ----------------------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'slo-corpus-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let promtool = '';
beforeAll(async () => {
  promtool = await ensureTool('promtool');
}, 300_000);

function run(args: string[]): string {
  try {
    return execFileSync(promtool, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as { status?: number; stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(' ')} exited ${e.status}:\n${e.stdout}\n${e.stderr}`);
  }
}

describe('promtool on the corpus rules', () => {
  it.each(files)('check rules %s', { timeout: 60_000 }, (file) => {
    const specs = specsOf.get(file) ?? [];
    const rules = sloRuleGroups(specs).groups.reduce((n, g) => n + g.rules.length, 0);
    const path = join(dir, `${file}.rules.yml`);
    writeFileSync(path, sloRulesYaml(specs));
    expect(run(['check', 'rules', path])).toContain(`SUCCESS: ${rules} rules found`);
  });

  const MINUTE = 60_000;
  const MINUTES = 150;

  /** The tiers the stream engine fires after MINUTES minutes of `good` of `total` events a minute. */
  function engineTiers(spec: SloSpec, good: number, total: number): ('page' | 'ticket')[] {
    const engine = new SloEngine(spec, { bucketMs: MINUTE });
    const transitions: AlertTransition[] = [];
    for (let i = 0; i < MINUTES; i++) {
      engine.add(i * MINUTE, good, total);
      engine.evaluate(transitions);
    }
    return (['page', 'ticket'] as const).filter((t) => engine.firing(t));
  }

  /** promtool's expected alerts for the tiers: labels of the SLO's series and of the tier's alert rule. */
  function expected(spec: SloSpec, tiers: readonly ('page' | 'ticket')[]): { exp_labels: Record<string, string>; exp_annotations: Record<string, string> }[] {
    const groups = sloRuleGroups([spec]).groups;
    const sliLabels: Record<string, string> = { ...(groups[0]?.rules[0] as RecordingRule).labels };
    delete sliLabels.sloth_window;
    const alerts = (groups[2]?.rules ?? []) as AlertingRule[];
    return tiers.map((tier) => {
      const rule = alerts.find((a) => a.labels.sloth_severity === tier) as AlertingRule;
      return { exp_labels: { ...sliLabels, ...rule.labels }, exp_annotations: { ...rule.annotations } };
    });
  }

  const cases: { name: string; file: string; slo: string; series: (rate: { good: number; bad: number }) => { series: string; values: string }[]; burn: [number, number]; calm: [number, number] }[] = [
    {
      name: 'events (availability over a client-library counter)',
      file: 'sloth-events-client-library.yaml',
      slo: 'billing-requests-availability',
      series: ({ good, bad }) => [
        { series: 'http_requests_total{job="billing",handler="/api/invoices",method="post",code="200"}', values: `0+${good}x${MINUTES}` },
        { series: 'http_requests_total{job="billing",handler="/api/invoices",method="post",code="429"}', values: `0+${bad}x${MINUTES}` },
        // Outside the selector: never counted.
        { series: 'http_requests_total{job="billing",handler="/metrics",method="get",code="500"}', values: `0+1000x${MINUTES}` },
      ],
      burn: [48, 60],
      calm: [999, 1000],
    },
    {
      name: 'raw (latency over a client-library histogram)',
      file: 'sloth-raw-latency.yaml',
      slo: 'search-query-latency',
      series: ({ good, bad }) => [
        { series: 'http_request_duration_seconds_bucket{job="search",method="GET",le="0.5"}', values: `0+${good}x${MINUTES}` },
        { series: 'http_request_duration_seconds_bucket{job="search",method="GET",le="+Inf"}', values: `0+${good + bad}x${MINUTES}` },
        { series: 'http_request_duration_seconds_count{job="search",method="GET"}', values: `0+${good + bad}x${MINUTES}` },
      ],
      burn: [30, 60],
      calm: [995, 1000],
    },
    {
      name: 'events (apiserver counter with a negative regex matcher)',
      file: 'sloth-apiserver.yaml',
      slo: 'k8s-apiserver-requests-availability',
      series: ({ good, bad }) => [
        { series: 'apiserver_request_total{job="apiserver",verb="GET",resource="pods",code="200"}', values: `0+${good}x${MINUTES}` },
        { series: 'apiserver_request_total{job="apiserver",verb="LIST",resource="pods",code="503"}', values: `0+${bad}x${MINUTES}` },
        { series: 'apiserver_request_total{job="apiserver",verb="WATCH",resource="pods",code="500"}', values: `0+500x${MINUTES}` },
      ],
      burn: [580, 600],
      calm: [99_995, 100_000],
    },
  ];

  it.each(cases)('test rules: promtool and the stream engine fire the same tiers, $name', { timeout: 60_000 }, ({ file, slo, series, burn, calm }) => {
    const spec = (specsOf.get(file) ?? []).find((s) => s.name === slo) as SloSpec;
    const rulesFile = `${slo}.rules.yml`;
    writeFileSync(join(dir, rulesFile), sloRulesYaml([spec]));
    const burning = engineTiers(spec, burn[0], burn[1]);
    const calmTiers = engineTiers(spec, calm[0], calm[1]);
    // The synthetic series are chosen so the engine decides something in each case.
    expect(burning.length).toBeGreaterThan(0);
    expect(calmTiers).toEqual([]);
    const alertname = spec.alerting.name;
    const unit = {
      rule_files: [rulesFile],
      evaluation_interval: '1m',
      tests: [burn, calm].map(([good, total], i) => ({
        interval: '1m',
        input_series: series({ good, bad: total - good }),
        alert_rule_test: [{ eval_time: `${MINUTES}m`, alertname, exp_alerts: expected(spec, i === 0 ? burning : calmTiers) }],
      })),
    };
    const path = join(dir, `${slo}.test.yml`);
    writeFileSync(path, stringify(unit));
    const out = run(['test', 'rules', path]);
    expect(out).toContain('SUCCESS');
  });
});
