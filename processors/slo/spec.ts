/**
 * SLO specification files, OpenSLO v1 and Sloth prometheus/v1 YAML, parsed into the normalised
 * `SloSpec` (types.ts). Every problem of every document and file is collected and thrown as one
 * AIOPS_ERR_SLO_SPEC_INVALID, a line each: `  - <file>#<index> <field path>: <what is wrong>`.
 * `#<index>` is the YAML document for OpenSLO and the SLO (counted through the file) for Sloth;
 * problems of a Sloth file's top level carry none (`<file> (document <n>)` in multi-document files).
 *
 * SLIs. A good (or bad) query and a total query, PromQL over the names the Collector's
 * Prometheus exporter writes (promql.ts), map onto one OTel metric and a selector:
 * - total: requests of the metric, `X_count` of a histogram or `X_total` of a counter (or
 *   `X_bucket{le="+Inf"}`), with `=` and `=~"a|b"` matchers only; it must not filter on status.
 * - availability: bad = the total's selector plus a status matcher; `=~"5.."` → 5xx,
 *   `=~"4..|5.."` (or `"(4..|5..)"`, `"[45].."`) → 4xx and 5xx. Good = the total's selector plus
 *   a status matcher (`=~"2..|3.."`, `!~"5.."`): bad = the classes 1xx-5xx it does not select.
 *   Requests without a status code are never bad. A matcher must select whole classes.
 * - latency: good = `X_bucket{le="0.25", ...}` over total `X_count{...}`, le in the histogram's
 *   unit (`_milliseconds` is converted to seconds).
 * - apart from the status / le matcher, good or bad and total must select the same series.
 * - the SLO's service is the selector's service.name when it names one; otherwise the file's
 *   service (OpenSLO spec.service, Sloth service), added to the selector when it has none.
 *
 * OpenSLO. Documents of kind SLO and SLI are read; Service, AlertPolicy, AlertCondition,
 * AlertNotificationTarget and DataSource are accepted and ignored. `spec.indicatorRef` names an
 * SLI document of any file of the same call. SLIs are `ratioMetric` (counter: true; good or bad,
 * and total) or `thresholdMetric` (a query on the duration histogram, any part, without le or
 * status matchers, with the objective's `op: lt|lte` and `value` as the latency threshold in the
 * histogram's unit). A `metricSource` is `type: Prometheus` with `spec.query`, or native:
 *
 *     metricSource:
 *       type: aiops
 *       spec:
 *         metric: http.server.request.duration   # default
 *         selector: { service.name: checkout, http.route: [/a, /b] }
 *         status: 5..      # optional: status classes (regex as in PromQL, or 5xx / 4xx|5xx)
 *         le: 0.25         # optional: bucket bound in seconds (good of a latency SLI)
 *
 * A native source counts requests of the metric; with `status` or `le` it is a good or bad
 * query as above. `spec.timeWindow` has one entry: rolling (`m`, `h`, `d`, `w`) when `isRolling`
 * is true or there is no calendar; otherwise calendar periods (`d`, `w`, `M`, `Q` = 3 months,
 * `Y`) from `calendar.startTime` ('YYYY-MM-DD HH:mm:ss', wall time in `calendar.timeZone`).
 * Only Occurrences budgeting (the default when none is given) and one objective
 * (`target` or `targetPercent`) are supported; `metadata.displayName` is the description when
 * `spec.description` is missing. Alerting comes from `metadata.annotations` (OpenSLO has no
 * field for it): `aiops.page: 'false'` / `aiops.ticket: 'false'` turn a tier off (both on by
 * default), `aiops.alertName`, `aiops.alertLabel.<name>` and `aiops.alertAnnotation.<name>` set
 * the alert's name, labels and annotations, `aiops.minEvents` the low-traffic guard (default 10).
 * Other `aiops.*` annotations are errors; the rest are ignored.
 *
 * Sloth. The SLO's name is `<service>-<name>`, as Sloth names its SLO ids. Sloth has no period:
 * 30 days rolling (`defaultSlothPeriodMs`). Labels are the file's labels overlaid with the SLO's.
 * `sli.events` takes one selector as error_query, or, for latency, `total - good`:
 * `sum(rate(X_count{...}[{{.window}}])) - sum(rate(X_bucket{le="0.25",...}[{{.window}}]))`.
 * `sli.raw.error_ratio_query` is accepted only as `1 - (good / total)`, e.g.
 * `1 - (sum(rate(X_bucket{le="0.25",...}[{{.window}}])) / sum(rate(X_count{...}[{{.window}}])))`.
 * `alerting.page_alert.disable` / `ticket_alert.disable` turn tiers off; `alerting.name`,
 * `labels` and `annotations` are carried; the per-tier `labels` and `annotations` of page_alert
 * and ticket_alert have no place in the model and are dropped. minEvents is 10.
 *
 * Both formats: the alert name defaults to the SLO name in PascalCase + `SLOBurn`
 * (checkout-requests-availability → CheckoutRequestsAvailabilitySLOBurn).
 */

import { readFileSync } from 'node:fs';
import { localToInstant } from './calendar.js';
import { parseAllDocuments } from 'yaml';
import type { YAMLError } from 'yaml';
import { aiopsError } from '../../runtime/errors.js';
import { formatMatcher, literalAlternatives, otelAttribute, otelMetric, parseSliExpression, parseSliQuery, statusClasses } from './promql.js';
import type { MetricPart, SliQuery } from './promql.js';
import type { Sli, SloSpec, SloWindow, StatusClass } from './types.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

/** Sloth files carry no period: their SLOs are over a rolling 30 days. */
export const defaultSlothPeriodMs = 30 * DAY;
/** Default low-traffic guard (`SloSpec.minEvents`). */
export const defaultMinEvents = 10;
/** Metric of native (`type: aiops`) metric sources that name none. */
export const defaultSliMetric = 'http.server.request.duration';

const statusAttribute = 'http.response.status_code';
const namePattern = /^[A-Za-z0-9_.-]+$/;
const ignoredKinds = ['Service', 'AlertPolicy', 'AlertCondition', 'AlertNotificationTarget', 'DataSource'];

/** One SLO file's text and the name problems and `source.file` give it. */
export interface SloSource {
  readonly file: string;
  readonly text: string;
}

type Obj = Readonly<Record<string, unknown>>;
type Selector = Map<string, string[]>;

/** Where the problems of one document or SLO are reported. */
class Scope {
  constructor(
    private readonly problems: string[],
    readonly where: string,
  ) {}

  fail(path: string, message: string): undefined {
    this.problems.push(`  - ${this.where}${path === '' ? '' : ` ${path}`}: ${message}`);
    return undefined;
  }
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isScalar(v: unknown): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

function show(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function at(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

function read<T>(s: Scope, o: Obj, key: string, path: string, required: boolean, what: string, ok: (v: unknown) => v is T): T | undefined {
  const v = o[key];
  if (v === undefined || v === null) return required ? s.fail(at(path, key), 'is required') : undefined;
  if (!ok(v)) return s.fail(at(path, key), `must be ${what}, got ${show(v)}`);
  return v;
}

const str = (s: Scope, o: Obj, key: string, path: string, required = false): string | undefined =>
  read(s, o, key, path, required, 'a string', (v): v is string => typeof v === 'string');
const num = (s: Scope, o: Obj, key: string, path: string, required = false): number | undefined =>
  read(s, o, key, path, required, 'a number', (v): v is number => typeof v === 'number' && Number.isFinite(v));
const bool = (s: Scope, o: Obj, key: string, path: string): boolean | undefined =>
  read(s, o, key, path, false, 'true or false', (v): v is boolean => typeof v === 'boolean');
const obj = (s: Scope, o: Obj, key: string, path: string, required = false): Obj | undefined => read(s, o, key, path, required, 'a mapping', isObj);
const list = (s: Scope, o: Obj, key: string, path: string, required = false): readonly unknown[] | undefined =>
  read(s, o, key, path, required, 'a list', (v): v is unknown[] => Array.isArray(v));

/** A map of strings; scalars are stringified, lists joined with ',' when `joinLists`. */
function stringMap(s: Scope, o: Obj, key: string, path: string, joinLists = false): Record<string, string> {
  const m = obj(s, o, key, path);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m ?? {})) {
    if (isScalar(v)) out[k] = String(v);
    else if (joinLists && Array.isArray(v) && v.every(isScalar)) out[k] = v.map(String).join(',');
    else s.fail(at(at(path, key), k), `must be a string${joinLists ? ' or a list of strings' : ''}, got ${show(v)}`);
  }
  return out;
}

function checkName(s: Scope, name: string | undefined, path: string): string | undefined {
  if (name === undefined) return undefined;
  if (!namePattern.test(name)) return s.fail(path, `must be letters, digits, '_', '.' and '-' only, got ${show(name)}`);
  return name;
}

/** Percent or ratio to a ratio, without binary noise (99.9 → 0.999). */
function ratio(value: number, scale: number): number {
  return Number((value / scale).toPrecision(15));
}

// ---------------------------------------------------------------------------------------------
// SLIs

/** One side of a ratio: requests of an OTel metric, with a status matcher or bucket bound. */
interface Operand {
  readonly path: string;
  /** As written: the Prometheus name, or the OTel name of a native source. */
  readonly name: string;
  readonly metric: string;
  /** 'native': an aiops source, counting requests. */
  readonly part: MetricPart | 'native';
  readonly unit: string | undefined;
  readonly selector: Selector;
  readonly status: { readonly classes: StatusClass[]; readonly text: string } | undefined;
  /** Bucket bound, in the metric's unit. */
  readonly le: number | undefined;
}

/** An SLI before the SLO's service (and, for thresholdMetric, its objective) is known. */
type Draft =
  | { readonly kind: 'availability'; readonly metric: string; readonly selector: Selector; readonly badClasses: StatusClass[] }
  | { readonly kind: 'latency'; readonly metric: string; readonly selector: Selector; readonly thresholdSeconds: number }
  | { readonly kind: 'threshold'; readonly metric: string; readonly selector: Selector; readonly unit: string | undefined; readonly name: string };

function addValues(s: Scope, selector: Selector, attribute: string, values: string[], path: string): boolean {
  const prev = selector.get(attribute);
  const next = prev ? prev.filter((v) => values.includes(v)) : [...new Set(values)].sort();
  if (next.length === 0) return s.fail(path, `the matchers on ${attribute} have no value in common`) ?? false;
  selector.set(attribute, next);
  return true;
}

function formatSelector(selector: Selector): string {
  const parts = [...selector.keys()].sort().map((k) => {
    const v = selector.get(k) ?? [];
    return v.length === 1 ? `${k}=${JSON.stringify(v[0])}` : `${k}=~${JSON.stringify(v.join('|'))}`;
  });
  return `{${parts.join(', ')}}`;
}

function sameSelector(a: Selector, b: Selector): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k)?.join('\0') === v.join('\0'));
}

function operandFromQuery(s: Scope, q: SliQuery, path: string): Operand | undefined {
  const m = otelMetric(q.metric);
  if ('error' in m) return s.fail(path, m.error);
  let ok = true;
  const bad = (message: string): void => {
    s.fail(path, message);
    ok = false;
  };
  const selector: Selector = new Map();
  let status: Operand['status'];
  let le: number | undefined;
  for (const matcher of q.matchers) {
    const text = formatMatcher(matcher);
    const a = otelAttribute(matcher.label);
    if ('error' in a) {
      bad(a.error);
    } else if ('bucketBound' in a) {
      const v = matcher.value.trim() === '+Inf' ? Infinity : Number(matcher.value);
      if (m.part !== 'bucket') bad(`${text}: le applies only to _bucket series`);
      else if (matcher.op !== '=') bad(`${text}: le must be matched with =`);
      else if (matcher.value.trim() === '' || Number.isNaN(v) || v <= 0) bad(`${text}: le must be a positive number or +Inf`);
      else if (le !== undefined) bad(`${text}: le is matched twice`);
      else le = v;
    } else if (a.attribute === statusAttribute) {
      const classes = statusClasses(matcher);
      if (status) bad(`two status matchers (${status.text}, ${text}); use one`);
      else if ('error' in classes) bad(classes.error);
      else status = { classes, text };
    } else if (matcher.op === '!=' || matcher.op === '!~') {
      bad(`${text}: negative matchers (${matcher.op}) are supported only on the status code`);
    } else if (matcher.op === '=') {
      if (matcher.value === '') bad(`${text}: an empty value (series without the label) is not supported`);
      else if (!addValues(s, selector, a.attribute, [matcher.value], path)) ok = false;
    } else {
      const values = literalAlternatives(matcher.value);
      if ('error' in values) bad(`${matcher.label}: ${values.error}`);
      else if (!addValues(s, selector, a.attribute, values, path)) ok = false;
    }
  }
  if (!ok) return undefined;
  // X_bucket{le="+Inf"} counts every request, like X_count.
  if (m.part === 'bucket' && le === Infinity) return { path, name: q.metric, metric: m.metric, part: 'count', unit: m.unit, selector, status, le: undefined };
  return { path, name: q.metric, metric: m.metric, part: m.part, unit: m.unit, selector, status, le };
}

function operandFromPromql(s: Scope, query: string, path: string): Operand | undefined {
  const q = parseSliQuery(query);
  if ('error' in q) return s.fail(path, q.error);
  return operandFromQuery(s, q, path);
}

const nativeFields = ['metric', 'selector', 'status', 'le'];

function operandFromNative(s: Scope, spec: Obj, path: string): Operand | undefined {
  let ok = true;
  for (const key of Object.keys(spec)) {
    if (!nativeFields.includes(key)) ok = s.fail(at(path, key), `unknown field (known: ${nativeFields.join(', ')})`) ?? false;
  }
  const metric = str(s, spec, 'metric', path) ?? defaultSliMetric;
  const selector: Selector = new Map();
  const sp = at(path, 'selector');
  for (const [attribute, v] of Object.entries(obj(s, spec, 'selector', path) ?? {})) {
    const values = isScalar(v) ? [String(v)] : Array.isArray(v) && v.length > 0 && v.every(isScalar) ? v.map(String) : undefined;
    if (attribute === statusAttribute) ok = s.fail(at(sp, attribute), 'select status codes with status, not in the selector') ?? false;
    else if (values === undefined) ok = s.fail(at(sp, attribute), `must be a string or a non-empty list of strings, got ${show(v)}`) ?? false;
    else selector.set(attribute, [...new Set(values)].sort());
  }
  let status: Operand['status'];
  const statusText = str(s, spec, 'status', path);
  if (statusText !== undefined) {
    const value = statusText.replace(/\b([1-5])xx\b/gi, '$1..');
    const classes = statusClasses({ label: 'status', op: '=~', value });
    if ('error' in classes) ok = s.fail(at(path, 'status'), classes.error) ?? false;
    else status = { classes, text: `status: ${statusText}` };
  }
  const le = num(s, spec, 'le', path);
  if (le !== undefined && le <= 0) ok = s.fail(at(path, 'le'), `must be > 0, got ${le}`) ?? false;
  if (spec.le !== undefined && le === undefined) ok = false;
  if (!ok) return undefined;
  return { path, name: metric, metric, part: 'native', unit: 's', selector, status, le };
}

/** A `{ metricSource: ... }` holder (OpenSLO). */
function operandFromSource(s: Scope, holder: Obj, path: string): Operand | undefined {
  const source = obj(s, holder, 'metricSource', path, true);
  if (!source) return undefined;
  const mp = at(path, 'metricSource');
  const type = str(s, source, 'type', mp, true);
  const spec = obj(s, source, 'spec', mp, true);
  if (type === undefined || spec === undefined) return undefined;
  const sp = at(mp, 'spec');
  if (type.toLowerCase() === 'prometheus') {
    const key = spec.query === undefined && spec.promql !== undefined ? 'promql' : 'query';
    const query = str(s, spec, key, sp, true);
    return query === undefined ? undefined : operandFromPromql(s, query, at(sp, key));
  }
  if (type === 'aiops') return operandFromNative(s, spec, sp);
  return s.fail(at(mp, 'type'), `metric source type ${show(type)} is not supported (Prometheus, aiops)`);
}

function toSeconds(s: Scope, value: number, unit: string | undefined, name: string, path: string): number | undefined {
  if (unit === 's') return value;
  if (unit === 'ms') return ratio(value, 1000);
  return s.fail(path, `${name} is not a duration in seconds or milliseconds (its name should end in _seconds or _milliseconds)`);
}

/** A good or bad operand over a total: availability or latency. */
function ratioDraft(s: Scope, role: 'good' | 'bad', part: Operand, total: Operand): Draft | undefined {
  if (total.status) return s.fail(total.path, `the total must count every request; move ${total.status.text} to the ${role} query`);
  if (total.le !== undefined) return s.fail(total.path, `the total must count every request (_count), not a bucket`);
  if (total.part !== 'count' && total.part !== 'total' && total.part !== 'native') {
    return s.fail(total.path, `the total must count requests: a histogram's _count or a counter's _total, got ${total.name}`);
  }
  if (part.metric !== total.metric) return s.fail(part.path, `metric ${part.metric} (${part.name}) differs from the total's ${total.metric} (${total.name})`);
  if (!sameSelector(part.selector, total.selector)) {
    return s.fail(
      part.path,
      `selector ${formatSelector(part.selector)} differs from the total's ${formatSelector(total.selector)}; they may differ only in the status or le matcher`,
    );
  }
  if (part.status && part.le !== undefined) return s.fail(part.path, 'give a status matcher (availability) or le (latency), not both');
  if (part.status) {
    if (part.part === 'bucket' || part.part === 'sum' || part.part === 'none') {
      return s.fail(part.path, `the ${role} query must count requests like the total (${total.name}), got ${part.name}`);
    }
    const selected = part.status.classes;
    const badClasses = role === 'bad' ? selected : ([0, 1, 2, 3, 4] as const).filter((c) => !selected.includes(c));
    if (badClasses.length === 0) {
      return s.fail(part.path, role === 'bad' ? `${part.status.text} selects no status class` : `${part.status.text} selects every status class; nothing would be bad`);
    }
    if (role === 'bad' && badClasses.length === 5) return s.fail(part.path, `${part.status.text} selects every status class; everything would be bad`);
    return { kind: 'availability', metric: total.metric, selector: total.selector, badClasses };
  }
  if (part.le !== undefined) {
    if (role === 'bad') return s.fail(part.path, 'a bucket (le) counts good requests: give it as the good query (count - bucket is not one selector)');
    if (total.part !== 'count' && total.part !== 'native') return s.fail(total.path, `a latency SLI needs the histogram's _count as the total, got ${total.name}`);
    const thresholdSeconds = toSeconds(s, part.le, part.unit, part.name, part.path);
    if (thresholdSeconds === undefined) return undefined;
    return { kind: 'latency', metric: total.metric, selector: total.selector, thresholdSeconds };
  }
  if (part.part === 'bucket') return s.fail(part.path, `${part.name} needs le="<bound>" (latency)`);
  return s.fail(
    part.path,
    role === 'bad'
      ? `the bad query must add a status matcher (e.g. http_response_status_code=~"5..") to the total's selector`
      : `the good query must add a status matcher (availability) or le (latency) to the total's selector`,
  );
}

/** OpenSLO thresholdMetric: the duration histogram, threshold from the objective. */
function thresholdDraft(s: Scope, op: Operand): Draft | undefined {
  if (op.status) return s.fail(op.path, `${op.status.text}: a latency SLI counts requests of every status; status matchers are not supported here`);
  if (op.le !== undefined) return s.fail(op.path, `le is given by the objective's value, not the query`);
  if (op.part === 'total') return s.fail(op.path, `${op.name} is a counter; a thresholdMetric needs the duration histogram`);
  if (op.unit !== 's' && op.unit !== 'ms') {
    return s.fail(op.path, `${op.name} is not a duration in seconds or milliseconds (its name should end in _seconds or _milliseconds)`);
  }
  return { kind: 'threshold', metric: op.metric, selector: op.selector, unit: op.unit, name: op.name };
}

/** An OpenSLO SLI spec (of an SLI document or an inline indicator). */
function openSloSli(s: Scope, spec: Obj, path: string): Draft | undefined {
  if (spec.ratioMetric !== undefined && spec.thresholdMetric !== undefined) return s.fail(path, 'give ratioMetric or thresholdMetric, not both');
  if (spec.thresholdMetric !== undefined) {
    const t = obj(s, spec, 'thresholdMetric', path);
    const op = t && operandFromSource(s, t, at(path, 'thresholdMetric'));
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
  const part = partHolder && operandFromSource(s, partHolder, at(rp, role));
  const total = totalHolder && operandFromSource(s, totalHolder, at(rp, 'total'));
  if (!ok || !part || !total) return undefined;
  return ratioDraft(s, role, part, total);
}

function isQuery(e: unknown): e is { type: 'query'; query: SliQuery } {
  return isObj(e) && e.type === 'query';
}

/** Sloth `sli`: events (one selector, or total - good), or raw `1 - (good / total)`. */
function slothSli(s: Scope, sli: Obj, path: string): Draft | undefined {
  const given = ['events', 'raw', 'plugin'].filter((k) => sli[k] !== undefined);
  if (given.length !== 1) return s.fail(path, given.length === 0 ? 'events is required' : `give one of ${given.join(', ')}`);
  if (sli.plugin !== undefined) return s.fail(at(path, 'plugin'), 'SLI plugins are not supported; use events');
  if (sli.raw !== undefined) {
    const raw = obj(s, sli, 'raw', path);
    const rp = at(path, 'raw');
    const text = raw && str(s, raw, 'error_ratio_query', rp, true);
    if (text === undefined) return undefined;
    const qp = at(rp, 'error_ratio_query');
    const e = parseSliExpression(text);
    if ('error' in e) return s.fail(qp, e.error);
    if (e.type === 'binary' && e.op === '-' && e.left.type === 'number' && e.left.value === 1 && e.right.type === 'binary' && e.right.op === '/') {
      const { left, right } = e.right;
      if (isQuery(left) && isQuery(right)) {
        const good = operandFromQuery(s, left.query, qp);
        const total = operandFromQuery(s, right.query, qp);
        return good && total && ratioDraft(s, 'good', good, total);
      }
    }
    return s.fail(qp, 'raw SLIs are not supported; use events (raw is accepted only as 1 - (good / total), e.g. a latency bucket over the count)');
  }
  const events = obj(s, sli, 'events', path);
  if (!events) return undefined;
  const ep = at(path, 'events');
  const errorText = str(s, events, 'error_query', ep, true);
  const totalText = str(s, events, 'total_query', ep, true);
  const total = totalText === undefined ? undefined : operandFromPromql(s, totalText, at(ep, 'total_query'));
  if (errorText === undefined) return undefined;
  const qp = at(ep, 'error_query');
  const e = parseSliExpression(errorText);
  if ('error' in e) return s.fail(qp, e.error);
  if (e.type === 'query') {
    const bad = operandFromQuery(s, e.query, qp);
    return bad && total && ratioDraft(s, 'bad', bad, total);
  }
  if (e.type === 'binary' && e.op === '-' && isQuery(e.left) && isQuery(e.right)) {
    const all = operandFromQuery(s, e.left.query, qp);
    const good = operandFromQuery(s, e.right.query, qp);
    if (!all || !good || !total) return undefined;
    if (all.metric !== total.metric || all.part !== total.part || !sameSelector(all.selector, total.selector) || all.status || all.le !== undefined) {
      return s.fail(qp, `in total - good, the left side (${all.name}${formatSelector(all.selector)}) must select what total_query selects`);
    }
    return ratioDraft(s, 'good', good, total);
  }
  return s.fail(qp, 'only one selector, or total - good (sum(rate(X_count{...}[{{.window}}])) - sum(rate(X_bucket{le="0.25",...}[{{.window}}]))), is supported');
}

/** The draft with the SLO's service resolved. */
function finishSli(s: Scope, draft: Draft, specService: string | undefined, servicePath: string): { sli: Sli; service: string } | undefined {
  if (draft.kind === 'threshold') return undefined;
  const selector = new Map(draft.selector);
  const names = selector.get('service.name');
  let service: string;
  if (names?.length === 1 && names[0] !== undefined) {
    service = names[0];
  } else if (specService !== undefined && specService !== '') {
    service = specService;
    if (!names) selector.set('service.name', [specService]);
  } else {
    return s.fail(servicePath, names ? 'the selector names several services; say which the SLO is about' : 'is required when the queries have no job / service_name matcher');
  }
  const record: Record<string, readonly string[]> = {};
  for (const key of [...selector.keys()].sort()) record[key] = selector.get(key) ?? [];
  const sli: Sli =
    draft.kind === 'availability'
      ? { kind: 'availability', metric: draft.metric, selector: record, statusAttribute, badClasses: draft.badClasses }
      : { kind: 'latency', metric: draft.metric, selector: record, statusAttribute, thresholdSeconds: draft.thresholdSeconds };
  return { sli, service };
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

function openSloWindow(s: Scope, spec: Obj): SloWindow | undefined {
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

// ---------------------------------------------------------------------------------------------
// Documents

/** What both formats give before the SLO is assembled. */
interface SloParts {
  readonly name: string;
  readonly specService: string | undefined;
  readonly servicePath: string;
  readonly description: string;
  readonly objective: number;
  readonly draft: Draft;
  readonly window: SloWindow;
  readonly minEvents: number;
  readonly page: boolean;
  readonly ticket: boolean;
  readonly alertName: string | undefined;
  readonly alertLabels: Record<string, string>;
  readonly alertAnnotations: Record<string, string>;
  readonly labels: Record<string, string>;
  readonly source: SloSpec['source'];
}

/** PascalCase of the SLO name + SLOBurn. */
export function defaultAlertName(sloName: string): string {
  const words = sloName.split(/[^A-Za-z0-9]+/).filter((w) => w !== '');
  return `${words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')}SLOBurn`;
}

function assemble(s: Scope, p: SloParts): SloSpec | undefined {
  const done = finishSli(s, p.draft, p.specService, p.servicePath);
  if (!done) return undefined;
  return {
    name: p.name,
    service: done.service,
    description: p.description,
    objective: p.objective,
    sli: done.sli,
    window: p.window,
    budgeting: 'Occurrences',
    minEvents: p.minEvents,
    alerting: { page: p.page, ticket: p.ticket, name: p.alertName ?? defaultAlertName(p.name), labels: p.alertLabels, annotations: p.alertAnnotations },
    labels: p.labels,
    source: p.source,
  };
}

const aiopsAnnotations = 'aiops.page, aiops.ticket, aiops.minEvents, aiops.alertName, aiops.alertLabel.<name>, aiops.alertAnnotation.<name>';

/** OpenSLO `metadata.annotations` → alerting and minEvents. */
function annotationSettings(s: Scope, annotations: Record<string, string>) {
  const out = { page: true, ticket: true, minEvents: defaultMinEvents, alertName: undefined as string | undefined, labels: {} as Record<string, string>, annotations: {} as Record<string, string> };
  for (const [key, value] of Object.entries(annotations)) {
    if (!key.startsWith('aiops.')) continue;
    const path = `metadata.annotations.${key}`;
    if (key === 'aiops.page' || key === 'aiops.ticket') {
      if (value !== 'true' && value !== 'false') s.fail(path, `must be 'true' or 'false', got ${show(value)}`);
      else out[key === 'aiops.page' ? 'page' : 'ticket'] = value === 'true';
    } else if (key === 'aiops.minEvents') {
      if (!/^\d+$/.test(value)) s.fail(path, `must be a whole number >= 0, got ${show(value)}`);
      else out.minEvents = Number(value);
    } else if (key === 'aiops.alertName') {
      if (value === '') s.fail(path, 'must not be empty');
      else out.alertName = value;
    } else if (key.startsWith('aiops.alertLabel.') && key.length > 'aiops.alertLabel.'.length) {
      out.labels[key.slice('aiops.alertLabel.'.length)] = value;
    } else if (key.startsWith('aiops.alertAnnotation.') && key.length > 'aiops.alertAnnotation.'.length) {
      out.annotations[key.slice('aiops.alertAnnotation.'.length)] = value;
    } else {
      s.fail(path, `unknown annotation (known: ${aiopsAnnotations})`);
    }
  }
  return out;
}

/** Looks an SLI document up by name: undefined when there is none; `draft` undefined when it is invalid. */
type SliLookup = (name: string) => { draft: Draft | undefined } | undefined;
/** Registers an SLO name, reporting it when another SLO has it. */
type ClaimName = (s: Scope, name: string, path: string) => void;

function openSloSlo(s: Scope, doc: Obj, source: SloSpec['source'], lookup: SliLookup, claim: ClaimName): SloSpec | undefined {
  const metadata = obj(s, doc, 'metadata', '', true) ?? {};
  const name = checkName(s, str(s, metadata, 'name', 'metadata', true), 'metadata.name');
  if (name !== undefined) claim(s, name, 'metadata.name');
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
    draft = sliSpec && openSloSli(s, sliSpec, 'spec.indicator.spec');
  } else if (spec.indicatorRef !== undefined) {
    const ref = str(s, spec, 'indicatorRef', 'spec');
    const found = ref === undefined ? undefined : lookup(ref);
    if (ref !== undefined && !found) s.fail('spec.indicatorRef', `no SLI named ${show(ref)} in the files given`);
    draft = found?.draft;
  } else {
    s.fail('spec', 'indicator or indicatorRef is required');
  }

  const window = openSloWindow(s, spec);
  const method = str(s, spec, 'budgetingMethod', 'spec');
  if (method !== undefined && method !== 'Occurrences') {
    s.fail(
      'spec.budgetingMethod',
      method === 'Timeslices' || method === 'RatioTimeslices' ? `${method} is not supported (only Occurrences)` : `unknown method ${show(method)} (only Occurrences is supported)`,
    );
  }

  let objective: number | undefined;
  const objectives = list(s, spec, 'objectives', 'spec', true);
  if (objectives && objectives.length !== 1) s.fail('spec.objectives', `exactly one objective is supported, got ${objectives.length}`);
  const o = objectives?.[0];
  const op = 'spec.objectives[0]';
  if (objectives && objectives.length > 0 && !isObj(o)) s.fail(op, `must be a mapping, got ${show(o)}`);
  if (isObj(o)) {
    const target = num(s, o, 'target', op);
    const percent = num(s, o, 'targetPercent', op);
    if (o.target !== undefined && o.targetPercent !== undefined) s.fail(op, 'give target or targetPercent, not both');
    else if (o.target === undefined && o.targetPercent === undefined) s.fail(op, 'target or targetPercent is required');
    else if (target !== undefined && !(target > 0 && target < 1)) s.fail(at(op, 'target'), `must be in (0, 1), got ${target}`);
    else if (percent !== undefined && !(percent > 0 && percent < 100)) s.fail(at(op, 'targetPercent'), `must be in (0, 100), got ${percent}`);
    else objective = target ?? (percent === undefined ? undefined : ratio(percent, 100));
    if (o.indicator !== undefined || o.indicatorRef !== undefined) s.fail(op, 'per-objective indicators (composite SLOs) are not supported');
    if (draft?.kind === 'threshold') {
      const cmp = str(s, o, 'op', op, true);
      const value = num(s, o, 'value', op, true);
      if (cmp !== undefined && cmp !== 'lt' && cmp !== 'lte') s.fail(at(op, 'op'), `a latency objective needs lt or lte, got ${show(cmp)}`);
      else if (value !== undefined && !(value > 0)) s.fail(at(op, 'value'), `must be > 0, got ${value}`);
      else if (cmp !== undefined && value !== undefined) {
        const thresholdSeconds = toSeconds(s, value, draft.unit, draft.name, at(op, 'value'));
        draft = thresholdSeconds === undefined ? undefined : { kind: 'latency', metric: draft.metric, selector: draft.selector, thresholdSeconds };
      }
    }
  }
  if (name === undefined || draft === undefined || draft.kind === 'threshold' || window === undefined || objective === undefined) return undefined;
  return assemble(s, {
    name,
    specService,
    servicePath: 'spec.service',
    description,
    objective,
    draft,
    window,
    minEvents: settings.minEvents,
    page: settings.page,
    ticket: settings.ticket,
    alertName: settings.alertName,
    alertLabels: settings.labels,
    alertAnnotations: settings.annotations,
    labels,
    source,
  });
}

/** One Sloth document: its SLOs, numbered from `firstIndex` through the file. */
function slothDoc(problems: string[], top: Scope, file: string, doc: Obj, firstIndex: number, claim: ClaimName): SloSpec[] {
  const out: SloSpec[] = [];
  const service = str(top, doc, 'service', '', true);
  if (service === '') top.fail('service', 'must not be empty');
  const fileLabels = stringMap(top, doc, 'labels', '');
  const slos = list(top, doc, 'slos', '', true) ?? [];
  if (Array.isArray(doc.slos) && slos.length === 0) top.fail('slos', 'must not be empty');
  slos.forEach((slo, i) => {
    const index = firstIndex + i;
    const s = new Scope(problems, `${file}#${index}`);
    const p = `slos[${i}]`;
    if (!isObj(slo)) return s.fail(p, `must be a mapping, got ${show(slo)}`);
    const short = str(s, slo, 'name', p, true);
    const name = service && short !== undefined ? checkName(s, `${service}-${short}`, at(p, 'name')) : undefined;
    if (name !== undefined) claim(s, name, at(p, 'name'));
    const percent = num(s, slo, 'objective', p, true);
    if (percent !== undefined && !(percent > 0 && percent < 100)) s.fail(at(p, 'objective'), `must be a percentage in (0, 100), got ${percent}`);
    const description = str(s, slo, 'description', p) ?? '';
    const labels = { ...fileLabels, ...stringMap(s, slo, 'labels', p) };
    const sli = obj(s, slo, 'sli', p, true);
    const draft = sli && slothSli(s, sli, at(p, 'sli'));
    const alerting = obj(s, slo, 'alerting', p) ?? {};
    const ap = at(p, 'alerting');
    const alertName = str(s, alerting, 'name', ap);
    const alertLabels = stringMap(s, alerting, 'labels', ap);
    const alertAnnotations = stringMap(s, alerting, 'annotations', ap);
    const pageAlert = obj(s, alerting, 'page_alert', ap) ?? {};
    const ticketAlert = obj(s, alerting, 'ticket_alert', ap) ?? {};
    const page = bool(s, pageAlert, 'disable', at(ap, 'page_alert')) !== true;
    const ticket = bool(s, ticketAlert, 'disable', at(ap, 'ticket_alert')) !== true;
    if (name === undefined || percent === undefined || !(percent > 0 && percent < 100) || !draft || service === undefined) return undefined;
    const spec = assemble(s, {
      name,
      specService: service,
      servicePath: 'service',
      description,
      objective: ratio(percent, 100),
      draft,
      window: { kind: 'rolling', durationMs: defaultSlothPeriodMs },
      minEvents: defaultMinEvents,
      page,
      ticket,
      alertName,
      alertLabels,
      alertAnnotations,
      labels,
      source: { file, format: 'sloth', index },
    });
    if (spec) out.push(spec);
    return undefined;
  });
  return out;
}

function yamlMessage(e: YAMLError): string {
  const first = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
  const pos = e.linePos?.[0];
  return pos ? `YAML error at line ${pos.line}, column ${pos.col}: ${first}` : `YAML error: ${first}`;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

type Loaded =
  | { readonly kind: 'slo'; readonly s: Scope; readonly doc: Obj; readonly file: string; readonly index: number }
  | { readonly kind: 'sli'; readonly name: string }
  | { readonly kind: 'sloth'; readonly top: Scope; readonly doc: Obj; readonly file: string };

interface SliEntry {
  readonly s: Scope;
  readonly doc: Obj;
  done: boolean;
  draft: Draft | undefined;
}

function parse(sources: readonly SloSource[], problems: string[]): SloSpec[] {
  const loaded: Loaded[] = [];
  const slis = new Map<string, SliEntry>();
  for (const { file, text } of sources) {
    const docs = parseAllDocuments(text);
    const multi = docs.length > 1;
    docs.forEach((d, index) => {
      const s = new Scope(problems, `${file}#${index}`);
      if (d.errors.length > 0) {
        for (const e of d.errors) s.fail('', yamlMessage(e));
        return;
      }
      const value: unknown = d.toJS();
      if (value === null || value === undefined) return;
      if (!isObj(value)) {
        s.fail('', `a document must be a mapping, got ${show(value)}`);
      } else if (value.apiVersion !== undefined) {
        if (value.apiVersion !== 'openslo/v1') {
          s.fail('apiVersion', `unknown apiVersion ${show(value.apiVersion)} (supported: openslo/v1)`);
        } else if (value.kind === 'SLO') {
          loaded.push({ kind: 'slo', s, doc: value, file, index });
        } else if (value.kind === 'SLI') {
          const metadata = obj(s, value, 'metadata', '', true);
          const name = metadata && str(s, metadata, 'name', 'metadata', true);
          if (name === undefined) return;
          const prev = slis.get(name);
          if (prev) {
            s.fail('metadata.name', `duplicate SLI name ${show(name)} (also in ${prev.s.where})`);
          } else {
            slis.set(name, { s, doc: value, done: false, draft: undefined });
            loaded.push({ kind: 'sli', name });
          }
        } else if (typeof value.kind !== 'string' || !ignoredKinds.includes(value.kind)) {
          s.fail('kind', `unknown kind ${show(value.kind)} (SLO, SLI; ignored: ${ignoredKinds.join(', ')})`);
        }
      } else if (value.version !== undefined) {
        const top = new Scope(problems, multi ? `${file} (document ${index})` : file);
        if (value.version !== 'prometheus/v1') top.fail('version', `unknown version ${show(value.version)} (supported: prometheus/v1)`);
        else loaded.push({ kind: 'sloth', top, doc: value, file });
      } else {
        s.fail('', 'neither apiVersion (OpenSLO) nor version (Sloth) is given');
      }
    });
  }

  const sliDraft = (name: string): { draft: Draft | undefined } | undefined => {
    const entry = slis.get(name);
    if (!entry) return undefined;
    if (!entry.done) {
      entry.done = true;
      const spec = obj(entry.s, entry.doc, 'spec', '', true);
      entry.draft = spec && openSloSli(entry.s, spec, 'spec');
    }
    return { draft: entry.draft };
  };

  const out: SloSpec[] = [];
  const seen = new Map<string, string>();
  const claim: ClaimName = (s, name, path) => {
    const prev = seen.get(name);
    if (prev !== undefined) s.fail(path, `duplicate SLO name ${show(name)} (also in ${prev})`);
    else seen.set(name, s.where);
  };
  const slothNext = new Map<string, number>();
  for (const l of loaded) {
    if (l.kind === 'sli') {
      sliDraft(l.name);
    } else if (l.kind === 'slo') {
      const spec = openSloSlo(l.s, l.doc, { file: l.file, format: 'openslo', index: l.index }, sliDraft, claim);
      if (spec) out.push(deepFreeze(spec));
    } else {
      const first = slothNext.get(l.file) ?? 0;
      const specs = slothDoc(problems, l.top, l.file, l.doc, first, claim);
      slothNext.set(l.file, first + (Array.isArray(l.doc.slos) ? l.doc.slos.length : 0));
      out.push(...specs.map(deepFreeze));
    }
  }
  if (problems.length > 0) throw aiopsError('SLO_SPEC_INVALID', [problems.join('\n')]);
  return out;
}

/** Parses SLO files of either format given as text, resolving indicatorRef across all of them. */
export function parseSloSources(sources: readonly SloSource[]): SloSpec[] {
  return parse(sources, []);
}

/** Parses one SLO file's text; `file` names it in problems and `source.file`. */
export function parseSloText(text: string, file: string): SloSpec[] {
  return parse([{ file, text }], []);
}

/** Reads and parses SLO files, resolving indicatorRef across all of them; paths are used as given. */
export function parseSloFiles(paths: readonly string[]): SloSpec[] {
  const problems: string[] = [];
  const sources: SloSource[] = [];
  for (const file of paths) {
    try {
      sources.push({ file, text: readFileSync(file, 'utf8') });
    } catch (e) {
      problems.push(`  - ${file}: cannot read the file: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return parse(sources, problems);
}
