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
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: { refId: string; datasource: { uid: string }; expr?: string; service?: string }[];
}

interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; query: { query: string } }[] };
  annotations: { list: { datasource: { uid: string }; target?: { tags: string[] } }[] };
  links: { url: string }[];
}

const files = dashboardFiles();
const parsed = [...files.values()].map((text) => JSON.parse(text) as Dashboard);
const provisioned = parse(readFileSync(join(dashboardsDir, '..', 'provisioning', 'datasources', 'aiops.yaml'), 'utf8')) as { datasources: { uid: string; type: string }[] };
/** Grafana's own variables, which it fills in at query time. */
const builtIns = new Set(['__rate_interval', '__interval', '__range', '__range_s']);

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
      ];
      for (const text of texts) {
        for (const m of text.matchAll(/\$(\w+)|\$\{(\w+)/g)) expect(defined.has(m[1] ?? m[2] ?? ''), `${d.uid}: ${m[0]} in ${text}`).toBe(true);
      }
      for (const l of d.links) expect(uids.has(l.url.match(/^\/d\/([\w-]+)/)?.[1] ?? ''), l.url).toBe(true);
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

  it('define the four dashboards: service performance, SLOs, traces, platform', () => {
    expect(dashboards.map((d) => d.uid)).toEqual(['aiops-service', 'aiops-slo', 'aiops-traces', 'aiops-platform']);
  });
});
