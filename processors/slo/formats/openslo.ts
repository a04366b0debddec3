/**
 * OpenSLO v1: documents of kind SLO and SLI are read; Service, AlertPolicy, AlertCondition,
 * AlertNotificationTarget and DataSource are accepted and ignored. `spec.indicatorRef` names an
 * SLI document of any file of the same call. SLIs are `ratioMetric` (counter: true; good or bad,
 * and total) or `thresholdMetric` (a query on the duration histogram, any part, without le or
 * status matchers, with the objective's `op: lt|lte` and `value` as the latency threshold in the
 * histogram's unit). A `metricSource` is `type: Prometheus` with `spec.query`, or native
 * (formats/aiops.ts). `spec.timeWindow` has one entry: rolling (`m`, `h`, `d`, `w`) when
 * `isRolling` is true or there is no calendar; otherwise calendar periods (`d`, `w`, `M`, `Q` = 3
 * months, `Y`) from `calendar.startTime` ('YYYY-MM-DD HH:mm:ss', wall time in
 * `calendar.timeZone`). Alerting comes from `metadata.annotations` (see docs/slo.md).
 */

import { localToInstant } from '../calendar.js';
import {
  DAY,
  HOUR,
  MINUTE,
  WEEK,
  assemble,
  at,
  bool,
  checkName,
  defaultMinEvents,
  isObj,
  list,
  num,
  obj,
  ratio,
  show,
  str,
  stringMap,
} from '../model.js';
import type { Obj, Scope } from '../model.js';
import { operandFromPromql, ratioDraft, thresholdDraft, thresholdLatency, toSeconds } from '../sli.js';
import type { Draft, Operand } from '../sli.js';
import type { AttributeOverrides } from '../names.js';
import type { AlertWindow, PromHistogramForm, SloSpec, SloWindow } from '../types.js';
import { nominalPeriodMs } from '../calendar.js';
import { minPeriodMs, standardWindowsMs } from '../burn-rates.js';
import { operandFromNative } from './aiops.js';

/** What OpenSLO documents of other kinds give the SLIs: DataSource name → its type. */
export interface OpenSloContext {
  readonly dataSources: ReadonlyMap<string, string>;
  /** AlertPolicy and AlertCondition documents by name. */
  readonly alertPolicies: ReadonlyMap<string, Obj>;
  readonly alertConditions: ReadonlyMap<string, Obj>;
}

const pageSeverities = ['page', 'critical', 'high', 'p1', 'sev1', 'emergency'];
const windowUnits: Readonly<Record<string, number>> = { m: MINUTE, h: HOUR, d: DAY, w: WEEK };

/**
 * `spec.alertPolicies` of an SLO (names of AlertPolicy documents, or inline ones) → alert
 * windows. Each `burnrate` condition (`op: gte|gt`, `threshold` = the burn-rate factor, at least
 * 1; `lookbackWindow` = the long window; `alertAfter` = the short window when it is a shorter
 * kept window, else the kept window nearest a twelfth of the long one) becomes a rule of the page
 * tier when its severity is page, critical, high (or p1, sev1, emergency), else of the ticket
 * tier. Windows must be ones the engine keeps (5m, 30m, 1h, 2h, 6h, 1d, 3d).
 */
function alertPolicyWindows(s: Scope, spec: Obj, window: SloWindow | undefined, context: OpenSloContext): AlertWindow[] | undefined {
  if (spec.alertPolicies === undefined) return undefined;
  const policies = list(s, spec, 'alertPolicies', 'spec') ?? [];
  const periodMs = window === undefined ? undefined : nominalPeriodMs(window);
  const out: AlertWindow[] = [];
  policies.forEach((ref, i) => {
    const pp = `spec.alertPolicies[${i}]`;
    const policy = typeof ref === 'string' ? context.alertPolicies.get(ref) : isObj(ref) ? ref : undefined;
    if (!policy) return s.fail(pp, typeof ref === 'string' ? `no AlertPolicy named ${show(ref)} in the files given` : `must be a name or an AlertPolicy, got ${show(ref)}`);
    const pspec = isObj(policy.spec) ? policy.spec : {};
    const conditions = Array.isArray(pspec.conditions) ? pspec.conditions : [];
    conditions.forEach((c, j) => {
      const cp = `${pp} conditions[${j}]`;
      const cref = isObj(c) && typeof c.conditionRef === 'string' ? c.conditionRef : undefined;
      const doc = cref !== undefined ? context.alertConditions.get(cref) : isObj(c) ? c : undefined;
      if (!doc) return s.fail(cp, cref !== undefined ? `no AlertCondition named ${show(cref)} in the files given` : 'must be a conditionRef or an AlertCondition');
      const cspec = isObj(doc.spec) ? doc.spec : {};
      const cond = isObj(cspec.condition) ? cspec.condition : {};
      if (cond.kind !== 'burnrate') return s.fail(cp, `condition kind ${show(cond.kind)} is not supported (burnrate)`);
      const threshold = typeof cond.threshold === 'number' ? cond.threshold : NaN;
      if (cond.op !== undefined && cond.op !== 'gte' && cond.op !== 'gt') return s.fail(cp, `op ${show(cond.op)}: a burn-rate condition fires on gte or gt`);
      if (!(threshold >= 1)) return s.fail(cp, `threshold ${show(cond.threshold)}: a burn rate below 1 cannot exhaust the budget in the period; give at least 1`);
      const ms = (v: unknown): number | undefined => {
        const m = typeof v === 'string' ? /^([1-9]\d*)([mhdw])$/.exec(v) : null;
        return m ? Number(m[1]) * (windowUnits[m[2] ?? ''] ?? 0) : undefined;
      };
      const longMs = ms(cond.lookbackWindow);
      if (longMs === undefined || !standardWindowsMs.includes(longMs)) return s.fail(cp, `lookbackWindow ${show(cond.lookbackWindow)} must be one of the windows the engine keeps: 5m, 30m, 1h, 2h, 6h, 1d, 3d`);
      const after = ms(cond.alertAfter);
      const shortMs =
        after !== undefined && after < longMs && standardWindowsMs.includes(after)
          ? after
          : standardWindowsMs.reduce((best, w) => (w < longMs && Math.abs(Math.log(w / (longMs / 12))) < Math.abs(Math.log(best / (longMs / 12))) ? w : best), standardWindowsMs[0] as number);
      const severity = typeof cspec.severity === 'string' ? cspec.severity.toLowerCase() : '';
      if (periodMs === undefined) return undefined;
      out.push({ tier: pageSeverities.includes(severity) ? 'page' : 'ticket', longMs, shortMs, budgetShare: (threshold * longMs) / periodMs });
      return undefined;
    });
    if (conditions.length === 0) s.fail(pp, 'the AlertPolicy has no conditions');
    return undefined;
  });
  return out;
}

/** `aiops.attribute.<label>: <attribute>` annotations of a document: label → OTel attribute overrides. */
export function annotationOverrides(doc: Obj): AttributeOverrides {
  const metadata = isObj(doc.metadata) ? doc.metadata : {};
  const annotations = isObj(metadata.annotations) ? metadata.annotations : {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(annotations)) if (k.startsWith('aiops.attribute.') && typeof v === 'string') out[k.slice('aiops.attribute.'.length)] = v;
  return out;
}

/** A `{ metricSource: ... }` holder (OpenSLO): `type` (or the type of the DataSource `metricSourceRef` names) and `spec`. */
function operandFromSource(s: Scope, holder: Obj, path: string, context: OpenSloContext, overrides: AttributeOverrides): Operand | undefined {
  const source = obj(s, holder, 'metricSource', path, true);
  if (!source) return undefined;
  const mp = at(path, 'metricSource');
  const ref = str(s, source, 'metricSourceRef', mp);
  const refType = ref === undefined ? undefined : context.dataSources.get(ref);
  if (ref !== undefined && refType === undefined) return s.fail(at(mp, 'metricSourceRef'), `no DataSource named ${show(ref)} in the files given`);
  const type = str(s, source, 'type', mp, refType === undefined) ?? refType;
  const spec = obj(s, source, 'spec', mp, true);
  if (type === undefined || spec === undefined) return undefined;
  if (refType !== undefined && type.toLowerCase() !== refType.toLowerCase()) return s.fail(at(mp, 'type'), `${show(type)} differs from the type of DataSource ${show(ref)} (${show(refType)})`);
  const sp = at(mp, 'spec');
  if (type.toLowerCase() === 'prometheus') {
    const key = spec.query === undefined && spec.promql !== undefined ? 'promql' : 'query';
    const query = str(s, spec, key, sp, true);
    return query === undefined ? undefined : operandFromPromql(s, query, at(sp, key), overrides);
  }
  if (type === 'aiops') return operandFromNative(s, spec, sp);
  return s.fail(
    at(mp, ref !== undefined && source.type === undefined ? 'metricSourceRef' : 'type'),
    `metric source type ${show(type)} is not supported: the platform reads OTLP metrics, so only Prometheus queries (type: Prometheus, over the names the collector exports) and native sources (type: aiops) can be evaluated`,
  );
}

/** An OpenSLO SLI spec (of an SLI document or an inline indicator). */
export function openSloSli(s: Scope, spec: Obj, path: string, context: OpenSloContext, overrides: AttributeOverrides = {}): Draft | undefined {
  if (spec.ratioMetric !== undefined && spec.thresholdMetric !== undefined) return s.fail(path, 'give ratioMetric or thresholdMetric, not both');
  if (spec.thresholdMetric !== undefined) {
    const t = obj(s, spec, 'thresholdMetric', path);
    const op = t && operandFromSource(s, t, at(path, 'thresholdMetric'), context, overrides);
    return op && thresholdDraft(s, op);
  }
  const r = obj(s, spec, 'ratioMetric', path);
  if (spec.ratioMetric === undefined) return s.fail(path, 'ratioMetric or thresholdMetric is required');
  if (!r) return undefined;
  const rp = at(path, 'ratioMetric');
  let ok = true;
  if (r.counter !== undefined && r.counter !== true) ok = s.fail(at(rp, 'counter'), `only counters (counter: true) are supported, got ${show(r.counter)}`) ?? false;
  if (r.raw !== undefined || r.rawType !== undefined) ok = s.fail(at(rp, 'raw'), 'raw ratios are not supported; give good or bad, and total') ?? false;
  if (r.good !== undefined && r.bad !== undefined) return s.fail(rp, 'give good or bad, not both');
  if (r.good === undefined && r.bad === undefined) return s.fail(rp, 'good or bad is required');
  const role = r.good !== undefined ? 'good' : 'bad';
  const partHolder = obj(s, r, role, rp);
  const totalHolder = obj(s, r, 'total', rp, true);
  const part = partHolder && operandFromSource(s, partHolder, at(rp, role), context, overrides);
  const total = totalHolder && operandFromSource(s, totalHolder, at(rp, 'total'), context, overrides);
  if (!ok || !part || !total) return undefined;
  return ratioDraft(s, role, part, total);
}

// ---------------------------------------------------------------------------------------------
// Windows

/** The instant a wall-clock time (given as if it were UTC) has in a zone (see calendar.ts). */
function zonedToUtc(localAsUtcMs: number, timeZone: string): number {
  return localToInstant(timeZone, localAsUtcMs);
}

const rollingUnits: Readonly<Record<string, number>> = { m: MINUTE, h: HOUR, d: DAY, w: WEEK };
const calendarUnits: Readonly<Record<string, readonly ['day' | 'week' | 'month' | 'year', number]>> = {
  d: ['day', 1],
  w: ['week', 1],
  M: ['month', 1],
  Q: ['month', 3],
  Y: ['year', 1],
};

/** The period of an SLO without `timeWindow`: 30 days rolling, as Sloth's default period. */
export const defaultOpenSloWindow: SloWindow = Object.freeze({ kind: 'rolling', durationMs: 30 * DAY });

function openSloWindow(s: Scope, spec: Obj): SloWindow | undefined {
  if (spec.timeWindow === undefined || spec.timeWindow === null) return defaultOpenSloWindow;
  const windows = list(s, spec, 'timeWindow', 'spec', true);
  if (!windows) return undefined;
  if (windows.length !== 1) return s.fail('spec.timeWindow', `exactly one time window is supported, got ${windows.length}`);
  const p = 'spec.timeWindow[0]';
  const w = windows[0];
  if (!isObj(w)) return s.fail(p, `must be a mapping, got ${show(w)}`);
  const duration = str(s, w, 'duration', p, true);
  const isRolling = bool(s, w, 'isRolling', p);
  const calendar = obj(s, w, 'calendar', p);
  if (duration === undefined) return undefined;
  const m = /^([1-9]\d*)([mhdwMQY])$/.exec(duration);
  if (!m) return s.fail(at(p, 'duration'), `must be a count and a unit (m, h, d, w, M, Q, Y), e.g. 30d or 1M, got ${show(duration)}`);
  const count = Number(m[1]);
  const unit = m[2] ?? '';
  if (isRolling ?? w.calendar === undefined) {
    if (w.calendar !== undefined) return s.fail(at(p, 'calendar'), 'a rolling window (isRolling: true) takes no calendar');
    const ms = rollingUnits[unit];
    if (ms === undefined) return s.fail(at(p, 'duration'), `a rolling window needs a fixed length (m, h, d or w), got ${duration}`);
    if (count * ms < minPeriodMs) {
      return s.fail(at(p, 'duration'), `${duration} is too short for any burn-rate alert (no rule reaches a burn rate of 1 in under ${minPeriodMs / 60_000}m); use at least ${minPeriodMs / 60_000}m`);
    }
    return { kind: 'rolling', durationMs: count * ms };
  }
  const cp = at(p, 'calendar');
  if (!calendar) return w.calendar === undefined ? s.fail(cp, 'is required for a calendar window (isRolling: false)') : undefined;
  const cu = calendarUnits[unit];
  const startTime = str(s, calendar, 'startTime', cp, true);
  const timeZone = str(s, calendar, 'timeZone', cp, true);
  if (!cu) return s.fail(at(p, 'duration'), `a calendar window needs d, w, M, Q or Y, got ${duration}`);
  if (startTime === undefined || timeZone === undefined) return undefined;
  try {
    new Intl.DateTimeFormat(undefined, { timeZone });
  } catch {
    return s.fail(at(cp, 'timeZone'), `unknown time zone ${show(timeZone)}`);
  }
  const t = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/.exec(startTime);
  const f = t ? t.slice(1).map(Number) : [];
  const [y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0] = f;
  const local = Date.UTC(y, mo - 1, d, h, mi, sec);
  const back = new Date(local);
  if (!t || back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || sec > 59) {
    return s.fail(at(cp, 'startTime'), `must be a local time 'YYYY-MM-DD HH:mm:ss', got ${show(startTime)}`);
  }
  return { kind: 'calendar', unit: cu[0], count: count * cu[1], timeZone, startMs: zonedToUtc(local, timeZone) };
}

const aiopsAnnotations = 'aiops.page, aiops.ticket, aiops.minEvents, aiops.alertName, aiops.alertLabel.<name>, aiops.alertAnnotation.<name>, aiops.attribute.<label>, aiops.prometheusHistogram';

/** OpenSLO `metadata.annotations` → alerting and minEvents. */
function annotationSettings(s: Scope, annotations: Record<string, string>) {
  const out = { page: true, ticket: true, minEvents: defaultMinEvents, alertName: undefined as string | undefined, labels: {} as Record<string, string>, annotations: {} as Record<string, string>, histogram: 'classic' as PromHistogramForm };
  for (const [key, value] of Object.entries(annotations)) {
    if (!key.startsWith('aiops.')) continue;
    const path = `metadata.annotations.${key}`;
    if (key === 'aiops.page' || key === 'aiops.ticket') {
      if (value !== 'true' && value !== 'false') s.fail(path, `must be 'true' or 'false', got ${show(value)}`);
      else out[key === 'aiops.page' ? 'page' : 'ticket'] = value === 'true';
    } else if (key === 'aiops.minEvents') {
      if (!/^\d+$/.test(value)) s.fail(path, `must be a whole number >= 0, got ${show(value)}`);
      else out.minEvents = Number(value);
    } else if (key === 'aiops.prometheusHistogram') {
      if (value !== 'classic' && value !== 'native') s.fail(path, `must be classic or native, got ${show(value)}`);
      else out.histogram = value;
    } else if (key === 'aiops.alertName') {
      if (value === '') s.fail(path, 'must not be empty');
      else out.alertName = value;
    } else if (key.startsWith('aiops.alertLabel.') && key.length > 'aiops.alertLabel.'.length) {
      out.labels[key.slice('aiops.alertLabel.'.length)] = value;
    } else if (key.startsWith('aiops.attribute.') && key.length > 'aiops.attribute.'.length) {
      // Label → attribute overrides, read by annotationOverrides.
    } else if (key.startsWith('aiops.alertAnnotation.') && key.length > 'aiops.alertAnnotation.'.length) {
      out.annotations[key.slice('aiops.alertAnnotation.'.length)] = value;
    } else {
      s.fail(path, `unknown annotation (known: ${aiopsAnnotations})`);
    }
  }
  return out;
}

/** Looks an SLI document up by name: undefined when there is none; `draft` undefined when it is invalid. */
export type SliLookup = (name: string) => { draft: Draft | undefined } | undefined;
/** Registers an SLO name, reporting it when another SLO has it. */
export type ClaimName = (s: Scope, name: string, path: string) => void;

export function openSloSlo(s: Scope, doc: Obj, source: SloSpec['source'], lookup: SliLookup, claim: ClaimName, context: OpenSloContext): SloSpec[] {
  const metadata = obj(s, doc, 'metadata', '', true) ?? {};
  const name = checkName(s, str(s, metadata, 'name', 'metadata', true), 'metadata.name');
  const displayName = str(s, metadata, 'displayName', 'metadata');
  const labels = stringMap(s, metadata, 'labels', 'metadata', true);
  const settings = annotationSettings(s, stringMap(s, metadata, 'annotations', 'metadata'));
  const spec = obj(s, doc, 'spec', '', true) ?? {};
  const description = str(s, spec, 'description', 'spec') ?? displayName ?? '';
  const specService = str(s, spec, 'service', 'spec');

  let draft: Draft | undefined;
  if (spec.indicator !== undefined && spec.indicatorRef !== undefined) {
    s.fail('spec', 'give indicator or indicatorRef, not both');
  } else if (spec.indicator !== undefined) {
    const indicator = obj(s, spec, 'indicator', 'spec');
    const sliSpec = indicator && obj(s, indicator, 'spec', 'spec.indicator', true);
    draft = sliSpec && openSloSli(s, sliSpec, 'spec.indicator.spec', context, annotationOverrides(doc));
  } else if (spec.indicatorRef !== undefined) {
    const ref = str(s, spec, 'indicatorRef', 'spec');
    const found = ref === undefined ? undefined : lookup(ref);
    if (ref !== undefined && !found) s.fail('spec.indicatorRef', `no SLI named ${show(ref)} in the files given`);
    draft = found?.draft;
  } else {
    s.fail('spec', 'indicator or indicatorRef is required');
  }

  const window = openSloWindow(s, spec);
  const windows = alertPolicyWindows(s, spec, window, context);
  const method = str(s, spec, 'budgetingMethod', 'spec') ?? 'Occurrences';
  const budgeting = method === 'Occurrences' || method === 'Timeslices' || method === 'RatioTimeslices' ? method : undefined;
  if (budgeting === undefined) s.fail('spec.budgetingMethod', `unknown method ${show(method)} (Occurrences, Timeslices, RatioTimeslices)`);

  const objectives = list(s, spec, 'objectives', 'spec', true) ?? [];
  if (Array.isArray(spec.objectives) && objectives.length === 0) s.fail('spec.objectives', 'must not be empty');
  const out: SloSpec[] = [];
  const names = new Set<string>();
  objectives.forEach((o, i) => {
    const op = `spec.objectives[${i}]`;
    if (!isObj(o)) return s.fail(op, `must be a mapping, got ${show(o)}`);
    // Several objectives: each is an SLO of its own, `<name>-<objective name>` (its `name`, else
    // its displayName as a slug, else its index), with its own budget and alerts.
    const own = str(s, o, 'name', op) ?? str(s, o, 'displayName', op)?.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
    const sloName = name === undefined ? undefined : objectives.length === 1 ? name : checkName(s, `${name}-${own !== undefined && own !== '' ? own : i}`, op);
    if (sloName !== undefined) {
      if (names.has(sloName)) return s.fail(op, `two objectives give the SLO name ${show(sloName)}; name them (objectives[].name)`);
      names.add(sloName);
      claim(s, sloName, objectives.length === 1 ? 'metadata.name' : op);
    }
    let objective: number | undefined;
    const target = num(s, o, 'target', op);
    const percent = num(s, o, 'targetPercent', op);
    if (o.target !== undefined && o.targetPercent !== undefined) s.fail(op, 'give target or targetPercent, not both');
    else if (o.target === undefined && o.targetPercent === undefined) s.fail(op, 'target or targetPercent is required');
    else if (target !== undefined && !(target > 0 && target < 1)) s.fail(at(op, 'target'), `must be in (0, 1), got ${target}`);
    else if (percent !== undefined && !(percent > 0 && percent < 100)) s.fail(at(op, 'targetPercent'), `must be in (0, 100), got ${percent}`);
    else objective = target ?? (percent === undefined ? undefined : ratio(percent, 100));
    if (o.indicator !== undefined || o.indicatorRef !== undefined) s.fail(op, 'per-objective indicators (composite SLOs) are not supported');
    let timeslices: SloSpec['timeslices'];
    if (budgeting === 'Timeslices' || budgeting === 'RatioTimeslices') {
      const text = str(s, o, 'timeSliceWindow', op, true);
      const m = text === undefined ? null : /^([1-9]\d*)([smh])$/.exec(text);
      const windowMs = m ? Number(m[1]) * ({ s: 1000, m: MINUTE, h: HOUR }[m[2] as 's' | 'm' | 'h']) : undefined;
      if (text !== undefined && windowMs === undefined) s.fail(at(op, 'timeSliceWindow'), `must be a duration like 1m or 30s, got ${show(text)}`);
      const target = budgeting === 'Timeslices' ? num(s, o, 'timeSliceTarget', op, true) : undefined;
      if (target !== undefined && !(target > 0 && target <= 1)) s.fail(at(op, 'timeSliceTarget'), `must be in (0, 1], got ${target}`);
      else if (windowMs !== undefined) timeslices = { windowMs, ...(target !== undefined ? { target } : {}) };
      if (timeslices === undefined) return undefined;
    }
    let objectiveDraft = draft;
    if (objectiveDraft?.kind === 'threshold') {
      const cmp = str(s, o, 'op', op, true);
      const value = num(s, o, 'value', op, true);
      if (cmp !== undefined && cmp !== 'lt' && cmp !== 'lte') s.fail(at(op, 'op'), `a latency objective needs lt or lte, got ${show(cmp)}`);
      else if (value !== undefined && !(value > 0)) s.fail(at(op, 'value'), `must be > 0, got ${value}`);
      else if (cmp !== undefined && value !== undefined) {
        const thresholdSeconds = toSeconds(s, value, objectiveDraft.unit, objectiveDraft.name, at(op, 'value'));
        objectiveDraft = thresholdSeconds === undefined ? undefined : thresholdLatency(objectiveDraft, thresholdSeconds, value, settings.histogram);
      }
    }
    if (sloName === undefined || objectiveDraft === undefined || objectiveDraft.kind === 'threshold' || window === undefined || objective === undefined) return undefined;
    const done = assemble(s, {
      name: sloName,
      specService,
      servicePath: 'spec.service',
      description,
      objective,
      draft: objectiveDraft,
      window,
      minEvents: settings.minEvents,
      page: settings.page,
      ticket: settings.ticket,
      alertName: settings.alertName,
      alertLabels: settings.labels,
      alertAnnotations: settings.annotations,
      ...(windows ? { windows } : {}),
      ...(budgeting !== undefined && budgeting !== 'Occurrences' ? { budgeting, timeslices } : {}),
      labels,
      source,
    });
    if (done) out.push(done);
    return undefined;
  });
  return out;
}
