/**
 * A small typed model of the Grafana dashboard JSON the platform provisions (schemaVersion 39),
 * and the builders the dashboards are written with. Only what the dashboards use is modelled.
 */

/** Datasource uids fixed by `compose/grafana/provisioning/datasources/aiops.yaml`. */
export const datasources = {
  prometheus: { type: 'prometheus', uid: 'aiops-prometheus' },
  jaeger: { type: 'jaeger', uid: 'aiops-jaeger' },
  grafana: { type: 'grafana', uid: '-- Grafana --' },
} as const;

export type DatasourceRef = (typeof datasources)[keyof typeof datasources];

/** A PromQL target; `legend` is Grafana's legend format (`{{label}}`). */
export interface PromTarget {
  readonly kind: 'prometheus';
  readonly expr: string;
  readonly legend?: string;
  /** An instant query (stat and table panels), else a range query. */
  readonly instant?: boolean;
}

/** A Jaeger search: the traces of a service (optionally one operation, tags in logfmt). */
export interface JaegerTarget {
  readonly kind: 'jaeger';
  readonly service: string;
  readonly operation?: string;
  readonly tags?: string;
  readonly limit: number;
}

export type Target = PromTarget | JaegerTarget;

export type PanelType = 'timeseries' | 'stat' | 'table' | 'state-timeline' | 'text';

export interface PanelSpec {
  readonly title: string;
  readonly type: PanelType;
  readonly description: string;
  readonly targets: readonly Target[];
  /** Grid width (of 24) and height; panels flow left to right, then down. */
  readonly w: number;
  readonly h: number;
  readonly unit?: string;
  readonly min?: number;
  readonly max?: number;
  /** Threshold steps (value → colour), the first from -infinity. */
  readonly thresholds?: readonly { value: number | null; color: string }[];
  /** Markdown, for text panels. */
  readonly content?: string;
  /** Field overrides by series name (e.g. dashed band edges). */
  readonly overrides?: readonly unknown[];
}

export interface VariableSpec {
  readonly name: string;
  readonly label: string;
  /** `label_values(...)` query against Prometheus. */
  readonly query: string;
  readonly multi?: boolean;
  readonly includeAll?: boolean;
}

export interface AnnotationSpec {
  readonly name: string;
  readonly color: string;
  /** Organisation annotations carrying all these tags (the Grafana sink's tags). */
  readonly tags: readonly string[];
}

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly variables: readonly VariableSpec[];
  readonly annotations: readonly AnnotationSpec[];
  readonly panels: readonly PanelSpec[];
  readonly links?: readonly { title: string; url: string }[];
}

export const prom = (expr: string, legend?: string, instant?: boolean): PromTarget => ({ kind: 'prometheus', expr, ...(legend ? { legend } : {}), ...(instant ? { instant } : {}) });

const refIds = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function targetJson(t: Target, i: number): Record<string, unknown> {
  const refId = refIds[i] ?? `T${i}`;
  if (t.kind === 'prometheus') {
    return { refId, datasource: datasources.prometheus, expr: t.expr, legendFormat: t.legend ?? '__auto', range: !t.instant, instant: Boolean(t.instant), editorMode: 'code' };
  }
  return { refId, datasource: datasources.jaeger, queryType: 'search', service: t.service, ...(t.operation ? { operation: t.operation } : {}), ...(t.tags ? { tags: t.tags } : {}), limit: t.limit };
}

function panelJson(p: PanelSpec, id: number, x: number, y: number): Record<string, unknown> {
  const jaeger = p.targets.some((t) => t.kind === 'jaeger');
  const datasource = p.type === 'text' ? undefined : jaeger ? datasources.jaeger : datasources.prometheus;
  const defaults: Record<string, unknown> = {
    ...(p.unit ? { unit: p.unit } : {}),
    ...(p.min !== undefined ? { min: p.min } : {}),
    ...(p.max !== undefined ? { max: p.max } : {}),
    thresholds: { mode: 'absolute', steps: (p.thresholds ?? [{ value: null, color: 'green' }]).map((s) => ({ color: s.color, value: s.value })) },
    ...(p.type === 'timeseries' ? { custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 0, showPoints: 'never', spanNulls: false, thresholdsStyle: { mode: p.thresholds ? 'line' : 'off' } } } : {}),
  };
  const options: Record<string, unknown> =
    p.type === 'timeseries'
      ? { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } }
      : p.type === 'stat'
        ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'area', textMode: 'auto' }
        : p.type === 'state-timeline'
          ? { showValue: 'never', mergeValues: true, legend: { displayMode: 'list', placement: 'bottom', showLegend: true } }
          : p.type === 'text'
            ? { mode: 'markdown', content: p.content ?? '' }
            : { showHeader: true, cellHeight: 'sm' };
  return {
    id,
    type: p.type,
    title: p.title,
    description: p.description,
    gridPos: { x, y, w: p.w, h: p.h },
    ...(datasource ? { datasource } : {}),
    ...(p.targets.length > 0 ? { targets: p.targets.map(targetJson) } : {}),
    fieldConfig: { defaults, overrides: p.overrides ?? [] },
    options,
  };
}

function variableJson(v: VariableSpec): Record<string, unknown> {
  return {
    name: v.name,
    label: v.label,
    type: 'query',
    datasource: datasources.prometheus,
    query: { query: v.query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    definition: v.query,
    refresh: 2,
    sort: 1,
    multi: Boolean(v.multi),
    includeAll: Boolean(v.includeAll),
    ...(v.includeAll ? { allValue: '.*' } : {}),
    current: {},
    options: [],
    hide: 0,
  };
}

function annotationJson(a: AnnotationSpec): Record<string, unknown> {
  return { name: a.name, datasource: datasources.grafana, enable: true, iconColor: a.color, target: { type: 'tags', tags: [...a.tags], matchAny: false, limit: 500 } };
}

/** The dashboard JSON Grafana's file provisioning loads; panels laid out in rows of 24 columns. */
export function dashboardJson(d: DashboardSpec): Record<string, unknown> {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  const panels = d.panels.map((p, i) => {
    if (x + p.w > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const json = panelJson(p, i + 1, x, y);
    x += p.w;
    rowHeight = Math.max(rowHeight, p.h);
    return json;
  });
  return {
    uid: d.uid,
    title: d.title,
    description: d.description,
    tags: [...d.tags],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    timezone: 'browser',
    refresh: '10s',
    time: { from: 'now-30m', to: 'now' },
    templating: { list: d.variables.map(variableJson) },
    annotations: {
      list: [
        { builtIn: 1, name: 'Annotations & Alerts', datasource: datasources.grafana, enable: true, hide: true, iconColor: 'rgba(0, 211, 255, 1)', type: 'dashboard' },
        ...d.annotations.map(annotationJson),
      ],
    },
    links: (d.links ?? []).map((l) => ({ title: l.title, url: l.url, type: 'link', targetBlank: true, asDropdown: false, icon: 'external link', includeVars: false, keepTime: false, tags: [], tooltip: '' })),
    panels,
  };
}

/** One query of one panel, with the dashboard's variables filled in. */
export interface ResolvedQuery {
  readonly dashboard: string;
  readonly panel: string;
  readonly target: Target;
}

/**
 * Every panel query and every variable query of the dashboards, with `$name` / `${name}`
 * replaced from `values` (Grafana's own `$__rate_interval` and the like included), as a test
 * runs them against the real Prometheus and Jaeger. A variable without a value is an error.
 */
export function resolveQueries(dashboards: readonly DashboardSpec[], values: Readonly<Record<string, string>>): ResolvedQuery[] {
  const fill = (text: string): string =>
    text.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, a: string | undefined, b: string | undefined) => {
      const name = a ?? b ?? '';
      const value = values[name];
      if (value === undefined) throw new Error(`no value for ${whole} in "${text}"`);
      return value;
    });
  const out: ResolvedQuery[] = [];
  for (const d of dashboards) {
    for (const v of d.variables) out.push({ dashboard: d.uid, panel: `variable ${v.name}`, target: prom(fill(v.query)) });
    for (const p of d.panels) {
      for (const t of p.targets) {
        const target: Target = t.kind === 'prometheus' ? { ...t, expr: fill(t.expr) } : { ...t, service: fill(t.service), ...(t.tags ? { tags: fill(t.tags) } : {}) };
        out.push({ dashboard: d.uid, panel: p.title, target });
      }
    }
  }
  return out;
}
