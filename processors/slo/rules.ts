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
import { leValue, promDuration, promLabelName, promMetricName, promSelector, promSli, quote, sanitize, statusMatcher } from './prom-sli.js';
import type { PromSli } from './prom-sli.js';
import type { SloSpec, SloWindow } from './types.js';

export { leValue, promDuration, promLabelName, promMetricName, promSelector, promSli, statusMatcher };
export type { PromSli };

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
      lines.push('    and on()', `    ${sli.events(promDuration(p.longMs))} >= ${num(spec.minEvents)}`);
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
