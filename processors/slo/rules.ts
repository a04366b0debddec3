/**
 * Prometheus recording and alerting rules for the platform's SLOs, in the layout Sloth generates,
 * so that Sloth's Grafana dashboards and any tooling built on `slo:*` series work unchanged.
 *
 * Per SLO, three groups:
 * - `sloth-slo-sli-recordings-<name>`: `slo:sli_error:ratio_rate<w>` for w in 5m 30m 1h 2h 6h 1d 3d
 *   and the SLO period, each the ratio of bad events over that window;
 * - `sloth-slo-meta-recordings-<name>`: objective, error budget, period, burn rates, budget left,
 *   `sloth_slo_info`;
 * - `sloth-slo-alerts-<name>` (when page or ticket is on): Sloth's multiwindow multi-burn-rate
 *   alerts, factors scaled to the period, plus a low-traffic guard Sloth does not have.
 *
 * Where Prometheus cannot say what the streaming engine computes, the rules approximate and say so
 * (`sloRuleNotes`, written as comments into the rule file): latency thresholds between bucket
 * boundaries, calendar periods, unparseable status codes.
 */
import { Document, isMap, isSeq } from 'yaml';
import { nominalPeriodMs } from './calendar.js';
import { sloAlertRules } from './burn-rates.js';
import { HTTP_DURATION_BUCKETS } from '../../runtime/otlp/workload-catalog.js';
import type { Sli, SloSelector, SloSpec, SloWindow, StatusClass } from './types.js';

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export type Rule = RecordingRule | AlertingRule;

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly Rule[];
}

export interface RuleOptions {
  /**
   * Histogram bucket boundaries per OTel metric name, in the metric's own unit, for histograms
   * whose boundaries differ from the defaults (an SDK view). Latency thresholds are snapped to them.
   */
  readonly buckets?: Readonly<Record<string, readonly number[]>>;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The SLI windows Sloth records, shortest first. */
export const SLI_WINDOWS_MS: readonly number[] = [5 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 6 * HOUR, DAY, 3 * DAY];

/** One multiwindow pair: the share of the period's budget that burning over `longMs` spends. */
export interface BurnRatePair {
  readonly shortMs: number;
  readonly longMs: number;
  readonly budgetShare: number;
}

/** The SRE Workbook's tiers: 2% of a 30d budget in 1h → 14.4, 5% in 6h → 6, 10% in 1d → 3, 10% in 3d → 1. */
export const BURN_RATE_TIERS: Readonly<Record<'page' | 'ticket', readonly [BurnRatePair, BurnRatePair]>> = {
  page: [
    { shortMs: 5 * MINUTE, longMs: HOUR, budgetShare: 0.02 },
    { shortMs: 30 * MINUTE, longMs: 6 * HOUR, budgetShare: 0.05 },
  ],
  ticket: [
    { shortMs: 2 * HOUR, longMs: DAY, budgetShare: 0.1 },
    { shortMs: 6 * HOUR, longMs: 3 * DAY, budgetShare: 0.1 },
  ],
};

/** Burn-rate factor of a pair for a period: budgetShare × period / long window (30d: 14.4, 6, 3, 1). */
export function burnRateFactor(pair: BurnRatePair, periodMs: number): number {
  return tidy((pair.budgetShare * periodMs) / pair.longMs);
}

/** Rounds away binary noise (0.02 × 720 = 14.400000000000002 → 14.4), keeping 12 significant digits. */
function tidy(x: number): number {
  return Number(x.toPrecision(12));
}

/** A number as a PromQL literal, e.g. 14.4, 0.001, 0.233333333333. */
function num(x: number): string {
  return String(tidy(x));
}

/** A Prometheus duration in its largest whole unit: 5m, 1h, 30d, 90m, 1500ms. */
export function promDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms <= 0) throw new Error(`not a positive whole number of milliseconds: ${ms}`);
  const units: readonly (readonly [string, number])[] = [['d', DAY], ['h', HOUR], ['m', MINUTE], ['s', 1000]];
  for (const [suffix, size] of units) if (ms % size === 0) return `${ms / size}${suffix}`;
  return `${ms}ms`;
}

/**
 * An `le` label value as Prometheus client libraries write it (Go's strconv 'g', shortest):
 * 0.25, 1, 2.5, 10, 100000, 1e+06, 1e-05.
 */
export function leValue(t: number): string {
  if (t === Infinity) return '+Inf';
  if (!Number.isFinite(t)) throw new Error(`not a bucket boundary: ${t}`);
  if (t === 0) return '0';
  const [mantissa = '', expText = '0'] = t.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const digits = String(Math.abs(exp)).padStart(2, '0');
    return `${mantissa}e${exp < 0 ? '-' : '+'}${digits}`;
  }
  return String(t);
}

// --- OTel → Prometheus names ---------------------------------------------------------------------

interface KnownMetric {
  /** Prometheus base name, with the unit suffix the collector's exporter adds. */
  readonly base: string;
  readonly kind: 'histogram' | 'counter';
  /** Units of the metric per second (1 for s, 1000 for ms). */
  readonly perSecond: number;
  /** Default bucket boundaries, in the metric's unit. */
  readonly buckets?: readonly number[];
}

/** OTel SDKs' default explicit boundaries (for histograms recorded in ms). */
const SDK_DEFAULT_BUCKETS: readonly number[] = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

/**
 * Metrics whose unit is known: the collector's Prometheus exporter appends the unit (s → _seconds,
 * ms → _milliseconds). Any other metric: `.` → `_`, no unit suffix, assumed a histogram in seconds.
 */
const KNOWN_METRICS: Readonly<Record<string, KnownMetric>> = {
  'http.server.request.duration': { base: 'http_server_request_duration_seconds', kind: 'histogram', perSecond: 1, buckets: HTTP_DURATION_BUCKETS },
  'http.client.request.duration': { base: 'http_client_request_duration_seconds', kind: 'histogram', perSecond: 1, buckets: HTTP_DURATION_BUCKETS },
  'http.server.duration': { base: 'http_server_duration_milliseconds', kind: 'histogram', perSecond: 1000, buckets: SDK_DEFAULT_BUCKETS },
  'http.client.duration': { base: 'http_client_duration_milliseconds', kind: 'histogram', perSecond: 1000, buckets: SDK_DEFAULT_BUCKETS },
  'rpc.server.duration': { base: 'rpc_server_duration_milliseconds', kind: 'histogram', perSecond: 1000, buckets: SDK_DEFAULT_BUCKETS },
  'rpc.client.duration': { base: 'rpc_client_duration_milliseconds', kind: 'histogram', perSecond: 1000, buckets: SDK_DEFAULT_BUCKETS },
};

/** Prometheus base name of an OTel metric: http.server.request.duration → http_server_request_duration_seconds. */
export function promMetricName(otelName: string): string {
  return KNOWN_METRICS[otelName]?.base ?? sanitize(otelName, /[^a-zA-Z0-9_:]/g);
}

/** Prometheus label of an OTel attribute: service.name → job, service.instance.id → instance, http.route → http_route. */
export function promLabelName(attribute: string): string {
  if (attribute === 'service.name') return 'job';
  if (attribute === 'service.instance.id') return 'instance';
  return sanitize(attribute, /[^a-zA-Z0-9_]/g);
}

function sanitize(name: string, invalid: RegExp): string {
  const s = name.replace(invalid, '_');
  return /^[0-9]/.test(s) ? `key_${s}` : s;
}

/** A PromQL double-quoted string literal. */
function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function escapeRegex(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/** One matcher: `label="v"` for one value, `label=~"v1|v2"` (metacharacters escaped) for several. */
function matcher(label: string, values: readonly string[]): string {
  if (values.length === 0) throw new Error(`selector on ${label} lists no values`);
  const unique = [...new Set(values)];
  if (unique.length === 1) return `${label}=${quote(unique[0] as string)}`;
  return `${label}=~${quote(unique.map(escapeRegex).join('|'))}`;
}

/**
 * The label matchers of an SLI's selector, without braces: `job="checkout",http_route=~"/a|/b"`.
 * `job` first, then the other labels alphabetically, so equal SLOs give equal rules.
 */
export function promSelector(sli: Pick<Sli, 'selector'>): string {
  return selectorMatchers(sli.selector);
}

function selectorMatchers(selector: SloSelector): string {
  const byLabel = new Map<string, string[]>();
  for (const [attribute, values] of Object.entries(selector)) {
    const label = promLabelName(attribute);
    byLabel.set(label, [...(byLabel.get(label) ?? []), ...values]);
  }
  const labels = [...byLabel.keys()].sort((a, b) => (a === 'job' ? -1 : b === 'job' ? 1 : a < b ? -1 : a > b ? 1 : 0));
  return labels.map((label) => matcher(label, byLabel.get(label) ?? [])).join(',');
}

/** `metric{m1,m2}`, or `metric` alone when there are no matchers. */
function vectorSelector(metric: string, ...matchers: string[]): string {
  const body = matchers.filter((m) => m !== '').join(',');
  return body === '' ? metric : `${metric}{${body}}`;
}

/** The matcher selecting bad status classes: [4] → `=~"5.."`, [3, 4] → `=~"4..|5.."`; class 5 as a missing label. */
export function statusMatcher(statusAttribute: string, badClasses: readonly StatusClass[]): string {
  const classes = [...new Set(badClasses)].sort((a, b) => a - b);
  if (classes.length === 0) throw new Error('an availability SLI needs at least one bad status class');
  const label = promLabelName(statusAttribute);
  if (classes.length === 1 && classes[0] === 5) return `${label}=""`;
  // An empty alternative matches the empty value, which is how a missing label matches.
  const alternatives = classes.map((c) => (c === 5 ? '' : `${c + 1}..`));
  return `${label}=~${quote(alternatives.join('|'))}`;
}

/** How an SLI reads in PromQL. `errorRatio(w)` is the expression recorded as `slo:sli_error:ratio_rate<w>`. */
export interface PromSli {
  /** Series counting every event of the SLI (a histogram's `_count` or a counter's `_total`). */
  readonly total: string;
  readonly errorRatio: (window: string) => string;
  /** What Prometheus cannot express exactly. */
  readonly notes: readonly string[];
}

/**
 * An SLI written in PromQL, read back exactly as written: the spec's metric and label names and
 * matchers, with one guard: `or on() vector(0)` on the bad (or good) side, so a service that
 * has never answered with a bad status has an error ratio of 0 rather than no sample.
 */
function writtenSli(sli: Sli, prom: NonNullable<Sli['prom']>): PromSli {
  const rate = (selector: string, window: string): string => `sum(rate(${selector}[${window}]))`;
  if (prom.bad !== undefined) {
    const bad = prom.bad;
    return { total: prom.total, notes: [], errorRatio: (w) => `(${rate(bad, w)} or on() vector(0)) / (${rate(prom.total, w)})` };
  }
  const good = prom.good;
  if (good === undefined) throw new Error(`SLI on ${sli.metric}: neither good nor bad series`);
  return { total: prom.total, notes: [], errorRatio: (w) => `1 - ((${rate(good, w)} or on() vector(0)) / (${rate(prom.total, w)}))` };
}

/** Maps an SLI onto PromQL: as written when the spec wrote PromQL, else from the OTel names. */
export function promSli(sli: Sli, options: RuleOptions = {}): PromSli {
  if (sli.prom !== undefined) return writtenSli(sli, sli.prom);
  const known = KNOWN_METRICS[sli.metric];
  const base = promMetricName(sli.metric);
  const sel = promSelector(sli);
  const notes: string[] = [];
  if (known === undefined) notes.push(`${sli.metric} is not a known metric: assumed a histogram exported as ${base}_count/_bucket with no unit suffix`);
  const kind = known?.kind ?? 'histogram';
  const total = vectorSelector(kind === 'counter' ? `${base}_total` : `${base}_count`, sel);
  const rate = (selector: string, window: string): string => `sum(rate(${selector}[${window}]))`;

  if (sli.kind === 'availability') {
    const bad = statusMatcher(sli.statusAttribute, sli.badClasses);
    if (sli.badClasses.includes(5)) {
      notes.push(`status class 5 (unknown) is matched as a missing ${promLabelName(sli.statusAttribute)} label; values present but not a 1xx-5xx code count as unknown in the engine but are not matched here`);
    }
    const badSelector = vectorSelector(kind === 'counter' ? `${base}_total` : `${base}_count`, sel, bad);
    // `or on() vector(0)`: a service that has never answered with a bad status has no bad series
    // at all; without it the ratio would have no sample (not 0) until the first error.
    return { total, notes, errorRatio: (w) => `(${rate(badSelector, w)} or on() vector(0)) / (${rate(total, w)})` };
  }

  if (kind !== 'histogram') throw new Error(`latency SLI on ${sli.metric}: not a histogram`);
  const perSecond = known?.perSecond ?? 1;
  const threshold = tidyFine(sli.thresholdSeconds * perSecond);
  const bounds = options.buckets?.[sli.metric] ?? known?.buckets;
  let le = threshold;
  if (bounds === undefined) {
    notes.push(`bucket boundaries of ${sli.metric} are unknown: assumed a bucket le="${leValue(threshold)}" exists`);
  } else {
    const atOrBelow = bounds.filter((b) => b <= threshold * (1 + 1e-12)).sort((a, b) => a - b);
    const nearest = atOrBelow[atOrBelow.length - 1];
    if (nearest === undefined) {
      notes.push(`latency threshold ${sli.thresholdSeconds}s is below the lowest bucket boundary: le="${leValue(threshold)}" exists only if the histogram is configured with it`);
    } else if (Math.abs(nearest - threshold) > Math.abs(threshold) * 1e-12) {
      le = nearest;
      notes.push(
        `latency threshold ${sli.thresholdSeconds}s is not a bucket boundary: Prometheus counts requests in le="${leValue(nearest)}" as good ` +
          `(stricter than the threshold); the engine interpolates linearly within the bucket instead`,
      );
    }
  }
  const good = vectorSelector(`${base}_bucket`, sel, `le=${quote(leValue(le))}`);
  return { total, notes, errorRatio: (w) => `1 - ((${rate(good, w)}) / (${rate(total, w)}))` };
}

function tidyFine(x: number): number {
  return Number(x.toPrecision(15));
}

// --- rules ---------------------------------------------------------------------------------------

/** Prometheus label name for a free-form SLO label key. */
function labelKey(key: string): string {
  return sanitize(key, /[^a-zA-Z0-9_]/g);
}

function sloLabels(spec: SloSpec): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.labels)) labels[labelKey(k)] = v;
  return {
    ...labels,
    aiops_slo: spec.name,
    sloth_id: spec.name,
    sloth_service: spec.service,
    sloth_slo: spec.shortName ?? spec.name,
  };
}

/** Keys in alphabetical order, like Sloth's output. */
function sorted(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** `{sloth_id="x", sloth_service="s", sloth_slo="x"}`: how Sloth's rules pick one SLO's series. */
function sloFilter(spec: SloSpec): string {
  return `{sloth_id=${quote(spec.name)}, sloth_service=${quote(spec.service)}, sloth_slo=${quote(spec.shortName ?? spec.name)}}`;
}

function periodOf(spec: SloSpec): { ms: number; window: string } {
  const ms = nominalPeriodMs(spec.window);
  return { ms, window: promDuration(ms) };
}

/** The windows recorded for an SLO: Sloth's seven and the period (once). */
function sliWindows(spec: SloSpec): string[] {
  const windows = SLI_WINDOWS_MS.map(promDuration);
  const { window } = periodOf(spec);
  if (!windows.includes(window)) windows.push(window);
  return windows;
}

function sliGroup(spec: SloSpec, sli: PromSli): RuleGroup {
  const labels = sloLabels(spec);
  return {
    name: `sloth-slo-sli-recordings-${spec.name}`,
    rules: sliWindows(spec).map((w) => ({
      record: `slo:sli_error:ratio_rate${w}`,
      expr: sli.errorRatio(w),
      labels: sorted({ ...labels, sloth_window: w }),
    })),
  };
}

function metaGroup(spec: SloSpec): RuleGroup {
  const labels = sorted(sloLabels(spec));
  const filter = sloFilter(spec);
  const period = periodOf(spec);
  const budget = num(1 - spec.objective);
  const perBudget = (series: string): string =>
    `${series}${filter}\n/ on(sloth_id, sloth_slo, sloth_service) group_left\nslo:error_budget:ratio${filter}`;
  return {
    name: `sloth-slo-meta-recordings-${spec.name}`,
    rules: [
      { record: 'slo:objective:ratio', expr: `vector(${num(spec.objective)})`, labels },
      { record: 'slo:error_budget:ratio', expr: `vector(${budget})`, labels },
      { record: 'slo:time_period:days', expr: `vector(${num(period.ms / DAY)})`, labels },
      { record: 'slo:current_burn_rate:ratio', expr: perBudget('slo:sli_error:ratio_rate5m'), labels },
      { record: 'slo:period_burn_rate:ratio', expr: perBudget(`slo:sli_error:ratio_rate${period.window}`), labels },
      { record: 'slo:period_error_budget_remaining:ratio', expr: `1 - slo:period_burn_rate:ratio${filter}`, labels },
      {
        record: 'sloth_slo_info',
        expr: 'vector(1)',
        labels: sorted({
          ...labels,
          sloth_mode: 'aiops',
          sloth_objective: num(spec.objective * 100),
          sloth_spec: spec.source.format === 'openslo' ? 'openslo/v1' : 'prometheus/v1',
        }),
      },
    ],
  };
}

/** The condition of one severity: Sloth's two multiwindow pairs ORed, each with the low-traffic guard. */
function alertExpr(spec: SloSpec, sli: PromSli, severity: 'page' | 'ticket'): string {
  const filter = sloFilter(spec);
  const period = periodOf(spec);
  const budget = num(1 - spec.objective);
  const pair = (p: BurnRatePair, factor: number): string => {
    const threshold = `(${num(factor)} * ${budget})`;
    const over = (ms: number): string =>
      `    max(slo:sli_error:ratio_rate${promDuration(ms)}${filter} > ${threshold}) without (sloth_window)`;
    const lines = ['(', over(p.shortMs), '    and', over(p.longMs)];
    if (spec.minEvents > 0) {
      lines.push('    and on()', `    sum(increase(${sli.total}[${promDuration(p.longMs)}])) >= ${num(spec.minEvents)}`);
    }
    lines.push(')');
    return lines.join('\n');
  };
  const pairs = sloAlertRules(period.ms, { ...spec.alerting, page: severity === 'page', ticket: severity === 'ticket' });
  return pairs.map((p) => pair(p, p.factor)).join('\nor\n');
}

function alertGroup(spec: SloSpec, sli: PromSli, notes: readonly string[]): RuleGroup | undefined {
  const period = periodOf(spec);
  const severities = (['page', 'ticket'] as const).filter((s) => spec.alerting[s] && sloAlertRules(period.ms, { ...spec.alerting, page: s === 'page', ticket: s === 'ticket' }).length > 0);
  if (severities.length === 0) return undefined;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.alerting.labels)) labels[labelKey(k)] = v;
  return {
    name: `sloth-slo-alerts-${spec.name}`,
    rules: severities.map((severity) => {
      const tier = spec.alerting.tiers?.[severity];
      const tierLabels: Record<string, string> = {};
      for (const [k, v] of Object.entries(tier?.labels ?? {})) tierLabels[labelKey(k)] = v;
      return {
        alert: spec.alerting.name,
        expr: alertExpr(spec, sli, severity),
        // aiops_slo (already on the series) keeps two SLOs sharing an alert name distinct rules.
        labels: sorted({ ...labels, ...tierLabels, aiops_slo: spec.name, sloth_severity: severity }),
        annotations: sorted({
          summary: `SLO ${spec.name} of ${spec.service} is burning its error budget too fast.`,
          title: `(${severity}) ${spec.service} ${spec.name} SLO error budget burn rate is too fast.`,
          ...(notes.length > 0 ? { aiops_note: notes.join('; ') } : {}),
          ...spec.alerting.annotations,
          ...tier?.annotations,
        }),
      };
    }),
  };
}

/**
 * What the rules of an SLO cannot express as the engine evaluates it: bucket-snapped latency
 * thresholds, calendar periods as rolling windows, unknown status codes, unknown metrics.
 */
export function sloRuleNotes(spec: SloSpec, options: RuleOptions = {}): string[] {
  const notes = [...promSli(spec.sli, options).notes];
  if (spec.budgeting !== 'Occurrences') {
    notes.push(
      `${spec.budgeting} budgeting (slices of ${promDuration(spec.timeslices?.windowMs ?? 60_000)}): these rules count requests (Occurrences); ` +
        'the engine counts slices, so burn rates differ when errors cluster in few slices',
    );
  }
  if (spec.window.kind === 'calendar') {
    const { window } = periodOf(spec);
    notes.push(
      `calendar period (${spec.window.count} ${spec.window.unit}, ${spec.window.timeZone}): Prometheus cannot align windows to calendar periods, ` +
        `so the nominal length ${window} is used as a rolling window; the engine aligns periods to the calendar in that time zone`,
    );
  }
  return notes;
}

/** The groups of one SLO: SLI recordings, meta recordings, alerts (when any severity is on). */
function groupsOf(spec: SloSpec, options: RuleOptions): RuleGroup[] {
  const sli = promSli(spec.sli, options);
  const alerts = alertGroup(spec, sli, sloRuleNotes(spec, options));
  return [sliGroup(spec, sli), metaGroup(spec), ...(alerts ? [alerts] : [])];
}

/** Prometheus rule groups (plain objects) for the SLOs, three per SLO as Sloth lays them out. */
export function sloRuleGroups(specs: readonly SloSpec[], options: RuleOptions = {}): { groups: RuleGroup[] } {
  const names = new Set<string>();
  for (const spec of specs) {
    if (names.has(spec.name)) throw new Error(`two SLOs are named ${spec.name}`);
    names.add(spec.name);
  }
  return { groups: specs.flatMap((spec) => groupsOf(spec, options)) };
}

const HEADER = [
  ' Prometheus rules for SLOs, generated by aiops (`aiops slo rules`). DO NOT EDIT: regenerate.',
  ' Layout as Sloth generates it (sloth-slo-{sli,meta}-recordings-*, sloth-slo-alerts-*), with Sloth',
  ' label names, so Sloth dashboards work. Differences from Sloth:',
  ' - the period SLI (slo:sli_error:ratio_rate<period>) is the ratio of events over the period,',
  '   every request one event (as the engine budgets), not an average of 5m ratios;',
  ' - alerts carry a low-traffic guard: a pair holds only with at least minEvents events in its',
  '   long window (`and on() sum(increase(...[long])) >= minEvents`);',
  ' - burn-rate factors are scaled to the period (budget share x period / long window).',
  ' Alerts have no `for:`: both windows of a pair must exceed the rate, which already filters blips.',
];

/** A Prometheus rule file (YAML) for the SLOs, with a header and each SLO's approximations as comments. */
export function sloRulesYaml(specs: readonly SloSpec[], options: RuleOptions = {}): string {
  const { groups } = sloRuleGroups(specs, options);
  const doc = new Document({ groups }, { aliasDuplicateObjects: false });
  doc.commentBefore = [...HEADER, ` SLOs: ${specs.length === 0 ? 'none' : specs.map((s) => s.name).join(', ')}.`].join('\n');
  const seq = doc.get('groups');
  if (isSeq(seq)) {
    let at = 0;
    for (const spec of specs) {
      const first = seq.items[at];
      const notes = sloRuleNotes(spec, options);
      const lines = [` SLO ${spec.name} (service ${spec.service}, objective ${num(spec.objective * 100)}%, ${describeWindow(spec.window)})`];
      for (const note of notes) lines.push(` NOTE: ${note}`);
      if (isMap(first)) first.commentBefore = lines.join('\n');
      at += groupsOf(spec, options).length;
    }
  }
  return doc.toString({ lineWidth: 0 });
}

function describeWindow(window: SloWindow): string {
  if (window.kind === 'rolling') return `${promDuration(window.durationMs)} rolling`;
  return `${window.count} ${window.unit} calendar ${window.timeZone}`;
}

export { nominalPeriodMs };
