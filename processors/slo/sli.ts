/**
 * SLI operands and drafts, shared by the formats. A good (or bad) query and a total query map
 * onto one OTel metric and a selector (see spec.ts for the rules); `ratioDraft` checks that the
 * two select the same requests apart from the status or le matcher.
 */

import { statusAttribute, ratio } from './model.js';
import type { Scope, Selector } from './model.js';
import { formatMatcher, literalAlternatives, parseSliQuery, statusClasses } from './promql.js';
import type { SliQuery } from './promql.js';
import { otelAttribute, otelMetric, prometheusSeries, statusLabels } from './names.js';
import type { AttributeOverrides, MetricPart } from './names.js';
import type { AttributeMatcher, PromHistogramForm, PromQueries, StatusClass } from './types.js';

/** One side of a ratio: requests of an OTel metric, with a status matcher or bucket bound. */
export interface Operand {
  readonly path: string;
  /** As written: the Prometheus name, or the OTel name of a native source. */
  readonly name: string;
  readonly metric: string;
  /** 'native': an aiops source, counting requests. */
  readonly part: MetricPart | 'native';
  readonly unit: string | undefined;
  /** Equality matchers (`=`, `=~` over literals) by attribute. */
  readonly selector: Selector;
  /** Every other matcher except status classes and le. */
  readonly matchers: readonly AttributeMatcher[];
  readonly status: { readonly classes: StatusClass[]; readonly text: string; readonly attribute: string } | undefined;
  /** Bucket bound, in the metric's unit. */
  readonly le: number | undefined;
  /** PromQL sources: the metric and matchers as written. */
  readonly written?: SliQuery;
  /** Native sources: how Prometheus holds the histogram (for the rules). */
  readonly promHistogram?: PromHistogramForm;
}

/** What a draft carries from PromQL sources into the SLI. */
export interface DraftSource {
  readonly matchers: readonly AttributeMatcher[];
  readonly statusAttribute: string;
  readonly prometheusName: string | undefined;
  readonly prom: PromQueries | undefined;
  readonly promHistogram?: PromHistogramForm;
}

/** An SLI before the SLO's service (and, for thresholdMetric, its objective) is known. */
export type Draft =
  | ({ readonly kind: 'availability'; readonly metric: string; readonly selector: Selector; readonly badClasses: StatusClass[]; readonly badMatcher?: AttributeMatcher } & DraftSource)
  | ({ readonly kind: 'latency'; readonly metric: string; readonly selector: Selector; readonly thresholdSeconds: number } & DraftSource)
  | ({ readonly kind: 'threshold'; readonly metric: string; readonly selector: Selector; readonly unit: string | undefined; readonly name: string; readonly written?: SliQuery } & DraftSource);

export function addValues(s: Scope, selector: Selector, attribute: string, values: string[], path: string): boolean {
  const prev = selector.get(attribute);
  const next = prev ? prev.filter((v) => values.includes(v)) : [...new Set(values)].sort();
  if (next.length === 0) return s.fail(path, `the matchers on ${attribute} have no value in common`) ?? false;
  selector.set(attribute, next);
  return true;
}

function matcherText(m: AttributeMatcher): string {
  return `${m.attribute}${m.op}${JSON.stringify(m.value)}`;
}

export function formatSelector(selector: Selector, matchers: readonly AttributeMatcher[] = []): string {
  const parts = [...selector.keys()].sort().map((k) => {
    const v = selector.get(k) ?? [];
    return v.length === 1 ? `${k}=${JSON.stringify(v[0])}` : `${k}=~${JSON.stringify(v.join('|'))}`;
  });
  return `{${[...parts, ...matchers.map(matcherText).sort()].join(', ')}}`;
}

export function sameSelector(a: Selector, b: Selector): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k)?.join('\0') === v.join('\0'));
}

/** A PromQL vector selector, as written (canonical spacing, values re-quoted). */
export function writtenSelector(q: SliQuery): string {
  return q.matchers.length === 0 ? q.metric : `${q.metric}{${q.matchers.map(formatMatcher).join(',')}}`;
}

/** The series name the stream matches a PromQL operand by (see `PromSource.prometheusName`). */
function prometheusNameOf(op: Operand): string | undefined {
  if (!op.written) return undefined;
  return prometheusSeries(op.written.metric).base;
}

export function operandFromQuery(s: Scope, q: SliQuery, path: string, overrides: AttributeOverrides = {}): Operand | undefined {
  if (q.histogram) {
    return s.fail(
      path,
      q.histogram.fn === 'fraction'
        ? 'histogram_fraction() gives a ratio, not a count of requests: write a native-histogram latency SLI as a raw error ratio, 1 - histogram_fraction(0, <threshold>, sum(rate(X{...}[{{.window}}])))'
        : 'histogram_count() of a native histogram is supported only in a raw latency SLI; write 1 - histogram_fraction(0, <threshold>, sum(rate(X{...}[{{.window}}])))',
    );
  }
  const m = otelMetric(q.metric);
  if ('error' in m) return s.fail(path, m.error);
  let ok = true;
  const bad = (message: string): void => {
    s.fail(path, message);
    ok = false;
  };
  const selector: Selector = new Map();
  const matchers: AttributeMatcher[] = [];
  let status: Operand['status'];
  let le: number | undefined;
  for (const matcher of q.matchers) {
    const text = formatMatcher(matcher);
    const a = otelAttribute(matcher.label, overrides);
    if ('error' in a) {
      bad(a.error);
      continue;
    }
    if ('bucketBound' in a) {
      const v = matcher.value.trim() === '+Inf' ? Infinity : Number(matcher.value);
      if (m.part !== 'bucket') bad(`${text}: le applies only to _bucket series`);
      else if (matcher.op !== '=') bad(`${text}: le must be matched with = (a bucket bound, e.g. le="0.25")`);
      else if (matcher.value.trim() === '' || Number.isNaN(v) || v <= 0) bad(`${text}: le must be a positive number or +Inf`);
      else if (le !== undefined) bad(`${text}: le is matched twice`);
      else le = v;
      continue;
    }
    if (matcher.op === '=~' || matcher.op === '!~') {
      try {
        new RegExp(`^(?:${matcher.value})$`);
      } catch {
        bad(`${text}: invalid regex`);
        continue;
      }
    }
    const classes = statusLabels.includes(matcher.label) || a.attribute === statusAttribute ? statusClasses(matcher) : undefined;
    if (classes && !('error' in classes) && classes.length > 0 && matcher.value !== '') {
      if (status) bad(`two status matchers (${status.text}, ${text}); use one`);
      else status = { classes, text, attribute: a.attribute };
    } else if (matcher.op === '=' && matcher.value !== '') {
      if (!addValues(s, selector, a.attribute, [matcher.value], path)) ok = false;
    } else if (matcher.op === '=~') {
      const values = literalAlternatives(matcher.value);
      if ('error' in values) matchers.push({ attribute: a.attribute, op: matcher.op, value: matcher.value });
      else if (!addValues(s, selector, a.attribute, values, path)) ok = false;
    } else {
      matchers.push({ attribute: a.attribute, op: matcher.op, value: matcher.value });
    }
  }
  if (!ok) return undefined;
  const base = { path, name: q.metric, metric: m.metric, unit: m.unit, selector, matchers, status, written: q };
  // X_bucket{le="+Inf"} counts every request, like X_count.
  if (m.part === 'bucket' && le === Infinity) return { ...base, part: 'count', le: undefined };
  return { ...base, part: m.part, le };
}

export function operandFromPromql(s: Scope, query: string, path: string, overrides: AttributeOverrides = {}): Operand | undefined {
  const q = parseSliQuery(query);
  if ('error' in q) return s.fail(path, q.error);
  return operandFromQuery(s, q, path, overrides);
}

export function toSeconds(s: Scope, value: number, unit: string | undefined, name: string, path: string): number | undefined {
  if (unit === 's') return value;
  if (unit === 'ms') return ratio(value, 1000);
  return s.fail(path, `${name} is not a duration in seconds or milliseconds (its name should end in _seconds or _milliseconds)`);
}

function sameMatchers(a: readonly AttributeMatcher[], b: readonly AttributeMatcher[]): boolean {
  const key = (ms: readonly AttributeMatcher[]): string => ms.map(matcherText).sort().join('\0');
  return key(a) === key(b);
}

function negate(m: AttributeMatcher): AttributeMatcher {
  const op = ({ '=': '!=', '!=': '=', '=~': '!~', '!~': '=~' } as const)[m.op];
  return { ...m, op };
}

/** What the total brings to the SLI: its selector, matchers and the names it is read by. */
function source(total: Operand, part: Operand, role: 'good' | 'bad', statusAttr: string): DraftSource {
  const prom = total.written && part.written ? { total: writtenSelector(total.written), [role]: writtenSelector(part.written) } : undefined;
  return { matchers: total.matchers, statusAttribute: statusAttr, prometheusName: prometheusNameOf(total), prom, ...(total.promHistogram ? { promHistogram: total.promHistogram } : {}) };
}

/**
 * The one matcher `part` adds to `total` (beyond a status class or le matcher): undefined when
 * it adds none; an error when the two select different series otherwise.
 */
function extraMatcher(s: Scope, role: 'good' | 'bad', part: Operand, total: Operand): { extra: AttributeMatcher | undefined } | undefined {
  const differs = (): undefined =>
    s.fail(
      part.path,
      `selector ${formatSelector(part.selector, part.matchers)} differs from the total's ${formatSelector(total.selector, total.matchers)}; ` +
        `they may differ only in the status or le matcher, or one more matcher saying which requests are ${role}`,
    );
  if (sameSelector(part.selector, total.selector) && sameMatchers(part.matchers, total.matchers)) return { extra: undefined };
  if (part.status || part.le !== undefined) return differs();
  // One more matcher: an equality in the selector, or one in matchers.
  const extras: AttributeMatcher[] = [];
  for (const [attribute, values] of part.selector) {
    const t = total.selector.get(attribute);
    if (t?.join('\0') === values.join('\0')) continue;
    if (t !== undefined) return differs();
    extras.push(values.length === 1 ? { attribute, op: '=', value: values[0] as string } : { attribute, op: '=~', value: values.map((v) => v.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&')).join('|') });
  }
  for (const attribute of total.selector.keys()) if (!part.selector.has(attribute)) return differs();
  const totalKeys = new Set(total.matchers.map(matcherText));
  const partKeys = new Set(part.matchers.map(matcherText));
  for (const k of totalKeys) if (!partKeys.has(k)) return differs();
  extras.push(...part.matchers.filter((m) => !totalKeys.has(matcherText(m))));
  if (extras.length !== 1) return differs();
  return { extra: extras[0] };
}

/** A good or bad operand over a total: availability or latency. */
export function ratioDraft(s: Scope, role: 'good' | 'bad', part: Operand, total: Operand): Draft | undefined {
  if (total.status) return s.fail(total.path, `the total must count every request; move ${total.status.text} to the ${role} query`);
  if (total.le !== undefined) return s.fail(total.path, `the total must count every request (_count), not a bucket`);
  if (total.part !== 'count' && total.part !== 'total' && total.part !== 'native') {
    return s.fail(total.path, `the total must count requests: a histogram's _count or a counter's _total, got ${total.name}`);
  }
  if (part.metric !== total.metric) return s.fail(part.path, `metric ${part.metric} (${part.name}) differs from the total's ${total.metric} (${total.name})`);
  const diff = extraMatcher(s, role, part, total);
  if (!diff) return undefined;
  if (part.status && part.le !== undefined) return s.fail(part.path, 'give a status matcher (availability) or le (latency), not both');
  if (part.status || diff.extra) {
    if (part.part === 'bucket' || part.part === 'sum' || part.part === 'none') {
      return s.fail(part.path, `the ${role} query must count requests like the total (${total.name}), got ${part.name}`);
    }
  }
  if (diff.extra) {
    const badMatcher = role === 'bad' ? diff.extra : negate(diff.extra);
    return { kind: 'availability', metric: total.metric, selector: total.selector, badClasses: [4], badMatcher, ...source(total, part, role, statusAttribute) };
  }
  if (part.status) {
    const selected = part.status.classes;
    const badClasses = role === 'bad' ? selected : ([0, 1, 2, 3, 4] as const).filter((c) => !selected.includes(c));
    if (badClasses.length === 0) {
      return s.fail(part.path, role === 'bad' ? `${part.status.text} selects no status class` : `${part.status.text} selects every status class; nothing would be bad`);
    }
    if (role === 'bad' && badClasses.length === 5) return s.fail(part.path, `${part.status.text} selects every status class; everything would be bad`);
    return { kind: 'availability', metric: total.metric, selector: total.selector, badClasses, ...source(total, part, role, part.status.attribute) };
  }
  if (part.le !== undefined) {
    if (role === 'bad') return s.fail(part.path, 'a bucket (le) counts good requests: give it as the good query (count - bucket is not one selector)');
    if (total.part !== 'count' && total.part !== 'native') return s.fail(total.path, `a latency SLI needs the histogram's _count as the total, got ${total.name}`);
    const thresholdSeconds = toSeconds(s, part.le, part.unit, part.name, part.path);
    if (thresholdSeconds === undefined) return undefined;
    return { kind: 'latency', metric: total.metric, selector: total.selector, thresholdSeconds, ...source(total, part, 'good', statusAttribute) };
  }
  if (part.part === 'bucket') return s.fail(part.path, `${part.name} needs le="<bound>" (latency)`);
  return s.fail(
    part.path,
    role === 'bad'
      ? `the bad query must add a status matcher (e.g. code=~"5..") or another matcher to the total's selector`
      : `the good query must add a status matcher (availability), another matcher, or le (latency) to the total's selector`,
  );
}

/** OpenSLO thresholdMetric: the duration histogram, threshold from the objective. */
export function thresholdDraft(s: Scope, op: Operand): Draft | undefined {
  if (op.status) return s.fail(op.path, `${op.status.text}: a latency SLI counts requests of every status; status matchers are not supported here`);
  if (op.le !== undefined) return s.fail(op.path, `le is given by the objective's value, not the query`);
  if (op.part === 'total') return s.fail(op.path, `${op.name} is a counter; a thresholdMetric needs the duration histogram`);
  if (op.unit !== 's' && op.unit !== 'ms') {
    return s.fail(op.path, `${op.name} is not a duration in seconds or milliseconds (its name should end in _seconds or _milliseconds)`);
  }
  const prom = op.written ? { total: writtenSelector(op.written) } : undefined;
  return {
    kind: 'threshold', metric: op.metric, selector: op.selector, unit: op.unit, name: op.name, written: op.written, matchers: op.matchers, statusAttribute, prometheusName: prometheusNameOf(op), prom,
    ...(op.promHistogram ? { promHistogram: op.promHistogram } : {}),
  };
}

/**
 * A latency draft from a thresholdMetric draft and the objective's threshold (`value` in the
 * histogram's unit). `form` says how Prometheus holds the histogram: classic `_count` and
 * `_bucket{le}` series, or one native histogram read with histogram_fraction.
 */
export function thresholdLatency(draft: Extract<Draft, { kind: 'threshold' }>, thresholdSeconds: number, value: number, form: PromHistogramForm = 'classic'): Draft {
  let prom: PromQueries | undefined;
  if (draft.written) {
    const base = prometheusSeries(draft.written.metric).base;
    const matchers = draft.written.matchers.filter((m) => m.label !== 'le');
    prom =
      form === 'native'
        ? { total: writtenSelector({ metric: base, matchers }), nativeThreshold: value }
        : {
            total: writtenSelector({ metric: `${base}_count`, matchers }),
            good: writtenSelector({ metric: `${base}_bucket`, matchers: [...matchers, { label: 'le', op: '=', value: leText(value) }] }),
          };
  }
  const promHistogram = draft.promHistogram ?? (form === 'native' && !draft.written ? form : undefined);
  return {
    kind: 'latency', metric: draft.metric, selector: draft.selector, thresholdSeconds, matchers: draft.matchers, statusAttribute: draft.statusAttribute, prometheusName: draft.prometheusName, prom,
    ...(promHistogram ? { promHistogram } : {}),
  };
}

/** A bucket bound as Prometheus client libraries write `le` (Go's shortest 'g' form): 0.25, 1, 1e+06. */
export function leText(t: number): string {
  if (t === Infinity) return '+Inf';
  if (t === 0) return '0';
  const [mantissa = '', expText = '0'] = t.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(t);
}
