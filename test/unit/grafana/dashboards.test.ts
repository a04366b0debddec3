import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dashboardFiles, dashboardsDir } from '../../../grafana/build.js';
import { dashboards } from '../../../grafana/dashboards.js';
import { annotationTags } from '../../../sinks/grafana/grafana-sink.js';

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: { refId: string; datasource: { uid: string }; expr?: string; service?: string; queryType?: string; format?: string; legendFormat?: string }[];
  links?: { title: string; url: string }[];
  options?: Record<string, unknown>;
}

interface Dashboard {
  uid: string;
  description: string;
  panels: Panel[];
  templating: { list: { name: string; query: { query: string } }[] };
  annotations: { list: { datasource: { uid: string }; target?: { tags: string[] } }[] };
  links: { url: string }[];
}

const files = dashboardFiles();
const parsed = [...files.values()].map((text) => JSON.parse(text) as Dashboard);
const provisioned = parse(readFileSync(join(dashboardsDir, '..', 'provisioning', 'datasources', 'aiops.yaml'), 'utf8')) as { datasources: { uid: string; type: string }[] };
/** Grafana's own variables, which it fills in at query time. */
const builtIns = new Set(['__rate_interval', '__interval', '__range', '__range_s', '__url_time_range']);
/** Panel types Grafana 11 ships that the model may produce. */
const panelTypes = new Set(['timeseries', 'stat', 'table', 'state-timeline', 'text', 'heatmap', 'nodeGraph']);

describe('Grafana dashboards as code', () => {
  it('are committed exactly as grafana/dashboards.ts generates them (npm run dashboards)', () => {
    expect(readdirSync(dashboardsDir).sort()).toEqual([...files.keys()].sort());
    for (const [name, text] of files) expect(readFileSync(join(dashboardsDir, name), 'utf8'), name).toBe(text);
  });

  it('use only provisioned datasources, and each panel query names its refId once', () => {
    const uids = new Map(provisioned.datasources.map((d) => [d.uid, d.type]));
    uids.set('-- Grafana --', 'grafana');
    for (const d of parsed) {
      for (const p of d.panels) {
        if (p.type === 'text') continue;
        expect(uids.get(p.datasource?.uid ?? ''), `${d.uid} panel ${p.id}`).toBe(p.datasource?.type);
        const refs = (p.targets ?? []).map((t) => t.refId);
        expect(new Set(refs).size, `${d.uid} panel ${p.id}`).toBe(refs.length);
        for (const t of p.targets ?? []) expect(uids.has(t.datasource.uid)).toBe(true);
      }
      for (const a of d.annotations.list) expect(uids.has(a.datasource.uid)).toBe(true);
    }
  });

  it('lay panels out on the 24-column grid without overlap, with unique ids and uids', () => {
    expect(new Set(parsed.map((d) => d.uid)).size).toBe(parsed.length);
    for (const d of parsed) {
      expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
      const cells = new Set<string>();
      for (const p of d.panels) {
        const { x, y, w, h } = p.gridPos;
        expect(x + w, `${d.uid} panel ${p.id}`).toBeLessThanOrEqual(24);
        for (let i = x; i < x + w; i++) {
          for (let j = y; j < y + h; j++) {
            expect(cells.has(`${i},${j}`), `${d.uid} panel ${p.id} overlaps at ${i},${j}`).toBe(false);
            cells.add(`${i},${j}`);
          }
        }
      }
    }
  });

  it('refer only to variables they define (or Grafana built-ins), and link to dashboards that exist', () => {
    const uids = new Set(parsed.map((d) => d.uid));
    for (const d of parsed) {
      const defined = new Set([...d.templating.list.map((v) => v.name), ...builtIns]);
      const texts = [
        ...d.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => [t.expr ?? '', t.service ?? ''])),
        ...d.templating.list.map((v) => v.query.query),
        ...d.annotations.list.flatMap((a) => a.target?.tags ?? []),
        ...d.links.map((l) => l.url),
        ...d.panels.flatMap((p) => (p.links ?? []).map((l) => l.url)),
      ];
      for (const text of texts) {
        for (const m of text.matchAll(/\$(\w+)|\$\{(\w+)/g)) expect(defined.has(m[1] ?? m[2] ?? ''), `${d.uid}: ${m[0]} in ${text}`).toBe(true);
      }
      for (const l of [...d.links, ...d.panels.flatMap((p) => p.links ?? [])]) expect(uids.has(l.url.match(/^\/d\/([\w-]+)/)?.[1] ?? ''), l.url).toBe(true);
    }
  });

  it('annotate with the tags the Grafana sink puts on anomaly and SLO events', () => {
    const anomalyTags = annotationTags({
      kind: 'anomaly',
      event: { context: { service: 'shop', endpoint: '/api/users' }, metric: 'http.p95', severity: 'warning' },
    } as Parameters<typeof annotationTags>[0]);
    const sloTags = annotationTags({ kind: 'slo', event: { service: 'shop', slo: 'availability', tier: 'page' } } as Parameters<typeof annotationTags>[0]);
    const queries = parsed.flatMap((d) => d.annotations.list.flatMap((a) => (a.target ? [a.target.tags.map((t) => t.replace('$service', 'shop'))] : [])));
    expect(queries.length).toBeGreaterThan(0);
    for (const tags of queries) {
      // Grafana's tag filter (matchAny false) shows an annotation that carries every listed tag.
      const matches = [anomalyTags, sloTags].filter((eventTags) => tags.every((t) => eventTags.includes(t)));
      expect(matches, tags.join(',')).toHaveLength(1);
    }
  });

  it('use known panel types, each with the datasource and query shape it renders', () => {
    for (const d of parsed) {
      for (const p of d.panels) {
        const where = `${d.uid} / ${p.title}`;
        expect(panelTypes.has(p.type), where).toBe(true);
        if (p.type === 'nodeGraph') {
          // Grafana's Jaeger data source answers only the first target, from /api/dependencies.
          expect(p.datasource?.uid, where).toBe('aiops-jaeger');
          expect(p.targets?.map((t) => t.queryType), where).toEqual(['dependencyGraph']);
        }
        if (p.type === 'heatmap') {
          expect(p.options?.calculate, where).toBe(false);
          for (const t of p.targets ?? []) {
            expect(t, where).toMatchObject({ format: 'heatmap', legendFormat: '{{le}}' });
            expect(t.expr, where).toMatch(/_bucket\{/);
          }
        }
        if (p.datasource?.uid === 'aiops-jaeger' && p.type !== 'nodeGraph') for (const t of p.targets ?? []) expect(t.queryType, where).toBe('search');
      }
    }
  });

  it('open with a text panel on what to look at first, also in the description', () => {
    for (const d of parsed) {
      const [first] = d.panels;
      expect(first?.type, d.uid).toBe('text');
      expect(first?.gridPos, d.uid).toMatchObject({ x: 0, y: 0, w: 24 });
      expect(String(first?.options?.content ?? '').length, d.uid).toBeGreaterThan(80);
      expect(d.description, d.uid).toMatch(/ First: \S/);
    }
  });

  it('link panels to the other dashboards with the service (and routes) and time range carried over', () => {
    const panelLinks = parsed.flatMap((d) => d.panels.flatMap((p) => (p.links ?? []).map((l) => ({ d: d.uid, url: l.url }))));
    expect(panelLinks.length).toBeGreaterThan(3);
    for (const { d, url } of panelLinks) {
      expect(url, d).toContain('${service:queryparam}');
      expect(url, d).toContain('${__url_time_range}');
    }
    // Routes travel only between dashboards that both have the route variable.
    for (const d of parsed.filter((x) => !x.templating.list.some((v) => v.name === 'route'))) {
      for (const p of d.panels) for (const l of p.links ?? []) expect(l.url, `${d.uid} / ${p.title}`).not.toContain('${route');
    }
  });

  it('show the design\'s panels: resource use, latency heatmap, p95 and p99 per route, budget exhaustion, service graph, per-operation latency, error traces', () => {
    const byUid = new Map(parsed.map((d) => [d.uid, d]));
    const exprs = (uid: string): string[] => (byUid.get(uid)?.panels ?? []).flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? t.queryType ?? ''));
    for (const metric of ['process_cpu_time_seconds_total', 'process_memory_usage_bytes', 'v8js_memory_heap_used_bytes', 'v8js_gc_duration_seconds_sum', 'nodejs_eventloop_delay_p99_seconds']) {
      expect(exprs('aiops-service').some((e) => e.includes(metric)), metric).toBe(true);
    }
    for (const metric of ['process_cpu_time_total', 'process_memory_usage', 'v8js_memory_heap_used', 'v8js_gc_duration_sum', 'nodejs_eventloop_delay_p99']) {
      expect(exprs('aiops-platform').some((e) => e.includes(`${metric}{`)), metric).toBe(true);
    }
    expect(byUid.get('aiops-service')?.panels.some((p) => p.type === 'heatmap')).toBe(true);
    expect(exprs('aiops-slo').filter((e) => /histogram_quantile\(0\.9[59], sum by \(le, http_route\)/.test(e))).toHaveLength(2);
    expect(exprs('aiops-slo').some((e) => e.includes('aiops_slo_budget_exhausted_at_seconds'))).toBe(true);
    expect(exprs('aiops-traces')).toContain('dependencyGraph');
    expect(exprs('aiops-traces').some((e) => /traces_span_metrics_duration_seconds_bucket\{service_name="\$service"\}/.test(e) && e.includes('span_name'))).toBe(true);
    expect(exprs('aiops-traces').some((e) => e.includes('peer_service'))).toBe(true);
    const traceTables = (byUid.get('aiops-traces')?.panels ?? []).filter((p) => p.type === 'table');
    expect(traceTables.map((p) => p.targets?.[0]?.service)).toEqual(['$service', '$service']);
  });

  it('define the four dashboards: service performance, SLOs, traces, platform', () => {
    expect(dashboards.map((d) => d.uid)).toEqual(['aiops-service', 'aiops-slo', 'aiops-traces', 'aiops-platform']);
  });
});
