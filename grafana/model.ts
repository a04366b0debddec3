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
  /** `heatmap`: the series are histogram buckets by `le` (heatmap panels). */
  readonly format?: 'heatmap';
}

/** A Jaeger search: the traces of a service (optionally one operation, tags in logfmt). */
export interface JaegerTarget {
  readonly kind: 'jaeger';
  readonly service: string;
  readonly operation?: string;
  readonly tags?: string;
  readonly limit: number;
}

/** Jaeger's service dependencies over the dashboard's time range (`/api/dependencies`), for a node graph. */
export interface JaegerDependenciesTarget {
  readonly kind: 'jaeger-dependencies';
}

export type Target = PromTarget | JaegerTarget | JaegerDependenciesTarget;

export type PanelType = 'timeseries' | 'stat' | 'table' | 'state-timeline' | 'text' | 'heatmap' | 'nodeGraph';

/** A link shown on a panel (or a dashboard): `$variables` and `${__url_time_range}` carry the view over. */
export interface LinkSpec {
  readonly title: string;
  readonly url: string;
}

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
  /** Links to other dashboards with the variables filled in. */
  readonly links?: readonly LinkSpec[];
  /** A fixed colour for every value (a table's text: error traces in red). */
  readonly color?: string;
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
  /**
   * What to look at first during an incident (markdown): a text panel at the top, and appended
   * to the dashboard's description.
   */
  readonly firstLook: string;
  readonly tags: readonly string[];
  readonly variables: readonly VariableSpec[];
  readonly annotations: readonly AnnotationSpec[];
  readonly panels: readonly PanelSpec[];
  readonly links?: readonly LinkSpec[];
}

export const prom = (expr: string, legend?: string, instant?: boolean): PromTarget => ({ kind: 'prometheus', expr, ...(legend ? { legend } : {}), ...(instant ? { instant } : {}) });

const refIds = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function targetJson(t: Target, i: number): Record<string, unknown> {
  const refId = refIds[i] ?? `T${i}`;
  if (t.kind === 'prometheus') {
    return { refId, datasource: datasources.prometheus, expr: t.expr, legendFormat: t.legend ?? '__auto', range: !t.instant, instant: Boolean(t.instant), editorMode: 'code', ...(t.format ? { format: t.format } : {}) };
  }
  // Grafana's Jaeger data source answers this query type from /api/dependencies (a node graph frame).
  if (t.kind === 'jaeger-dependencies') return { refId, datasource: datasources.jaeger, queryType: 'dependencyGraph' };
  return { refId, datasource: datasources.jaeger, queryType: 'search', service: t.service, ...(t.operation ? { operation: t.operation } : {}), ...(t.tags ? { tags: t.tags } : {}), limit: t.limit };
}

function panelJson(p: PanelSpec, id: number, x: number, y: number): Record<string, unknown> {
  const jaeger = p.targets.some((t) => t.kind !== 'prometheus');
  const datasource = p.type === 'text' ? undefined : jaeger ? datasources.jaeger : datasources.prometheus;
  const defaults: Record<string, unknown> = {
    // A heatmap's values are counts; its unit is the y axis' (the buckets), in its options.
    ...(p.unit && p.type !== 'heatmap' ? { unit: p.unit } : {}),
    ...(p.min !== undefined ? { min: p.min } : {}),
    ...(p.max !== undefined ? { max: p.max } : {}),
    thresholds: { mode: 'absolute', steps: (p.thresholds ?? [{ value: null, color: 'green' }]).map((s) => ({ color: s.color, value: s.value })) },
    ...(p.type === 'timeseries' ? { custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 0, showPoints: 'never', spanNulls: false, thresholdsStyle: { mode: p.thresholds ? 'line' : 'off' } } } : {}),
    ...(p.type === 'heatmap' ? { custom: { scaleDistribution: { type: 'linear' }, hideFrom: { legend: false, tooltip: false, viz: false } } } : {}),
    ...(p.color ? { color: { mode: 'fixed', fixedColor: p.color }, ...(p.type === 'table' ? { custom: { cellOptions: { type: 'color-text' } } } : {}) } : {}),
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
            : p.type === 'heatmap'
              ? {
                  // The buckets come as they are (format heatmap); Grafana does not re-bucket them.
                  calculate: false,
                  yAxis: { axisPlacement: 'left', unit: p.unit ?? 'short' },
                  rowsFrame: { layout: 'auto' },
                  color: { mode: 'scheme', scheme: 'Oranges', steps: 64, exponent: 0.5, fill: 'dark-orange', reverse: false },
                  cellGap: 1,
                  filterValues: { le: 1e-9 },
                  tooltip: { mode: 'single', yHistogram: true },
                  legend: { show: true },
                }
              : p.type === 'nodeGraph'
                ? { nodes: {}, edges: {} }
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
    ...(p.links ? { links: p.links.map((l) => ({ title: l.title, url: l.url, targetBlank: false })) } : {}),
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

/** The text panel at the top of every dashboard: what to look at first during an incident. */
function firstLookPanel(d: DashboardSpec): PanelSpec {
  return { title: 'During an incident, look here first', type: 'text', description: 'Where to start on this dashboard when something is wrong.', w: 24, h: 4, targets: [], content: d.firstLook };
}

/** The dashboard's description with its first-look advice (markdown emphasis dropped). */
function descriptionOf(d: DashboardSpec): string {
  return `${d.description} First: ${d.firstLook.replace(/\*\*|`/g, '').replace(/\s+/g, ' ').trim()}`;
}

/** The dashboard JSON Grafana's file provisioning loads; panels laid out in rows of 24 columns. */
export function dashboardJson(d: DashboardSpec): Record<string, unknown> {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  const panels = [firstLookPanel(d), ...d.panels].map((p, i) => {
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
    description: descriptionOf(d),
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
        const target: Target = t.kind === 'prometheus' ? { ...t, expr: fill(t.expr) } : t.kind === 'jaeger' ? { ...t, service: fill(t.service), ...(t.tags ? { tags: fill(t.tags) } : {}) } : t;
        out.push({ dashboard: d.uid, panel: p.title, target });
      }
    }
  }
  return out;
}
