/**
 * SLI operands and drafts, shared by the formats. A good (or bad) query and a total query map
 * onto one OTel metric and a selector (see spec.ts for the rules); `ratioDraft` checks that the
 * two select the same requests apart from the status or le matcher.
 */

import { statusAttribute, ratio } from './model.js';
import type { Scope, Selector } from './model.js';
import { formatMatcher, literalAlternatives, parseSliQuery, statusClasses } from './promql.js';
import type { SliQuery } from './promql.js';
import { otelAttribute, otelMetric } from './names.js';
import type { MetricPart } from './names.js';
import type { StatusClass } from './types.js';

/** One side of a ratio: requests of an OTel metric, with a status matcher or bucket bound. */
export interface Operand {
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
export type Draft =
  | { readonly kind: 'availability'; readonly metric: string; readonly selector: Selector; readonly badClasses: StatusClass[] }
  | { readonly kind: 'latency'; readonly metric: string; readonly selector: Selector; readonly thresholdSeconds: number }
  | { readonly kind: 'threshold'; readonly metric: string; readonly selector: Selector; readonly unit: string | undefined; readonly name: string };

export function addValues(s: Scope, selector: Selector, attribute: string, values: string[], path: string): boolean {
  const prev = selector.get(attribute);
  const next = prev ? prev.filter((v) => values.includes(v)) : [...new Set(values)].sort();
  if (next.length === 0) return s.fail(path, `the matchers on ${attribute} have no value in common`) ?? false;
  selector.set(attribute, next);
  return true;
}

export function formatSelector(selector: Selector): string {
  const parts = [...selector.keys()].sort().map((k) => {
    const v = selector.get(k) ?? [];
    return v.length === 1 ? `${k}=${JSON.stringify(v[0])}` : `${k}=~${JSON.stringify(v.join('|'))}`;
  });
  return `{${parts.join(', ')}}`;
}

export function sameSelector(a: Selector, b: Selector): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k)?.join('\0') === v.join('\0'));
}

export function operandFromQuery(s: Scope, q: SliQuery, path: string): Operand | undefined {
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

export function operandFromPromql(s: Scope, query: string, path: string): Operand | undefined {
  const q = parseSliQuery(query);
  if ('error' in q) return s.fail(path, q.error);
  return operandFromQuery(s, q, path);
}

export function toSeconds(s: Scope, value: number, unit: string | undefined, name: string, path: string): number | undefined {
  if (unit === 's') return value;
  if (unit === 'ms') return ratio(value, 1000);
  return s.fail(path, `${name} is not a duration in seconds or milliseconds (its name should end in _seconds or _milliseconds)`);
}

/** A good or bad operand over a total: availability or latency. */
export function ratioDraft(s: Scope, role: 'good' | 'bad', part: Operand, total: Operand): Draft | undefined {
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
export function thresholdDraft(s: Scope, op: Operand): Draft | undefined {
  if (op.status) return s.fail(op.path, `${op.status.text}: a latency SLI counts requests of every status; status matchers are not supported here`);
  if (op.le !== undefined) return s.fail(op.path, `le is given by the objective's value, not the query`);
  if (op.part === 'total') return s.fail(op.path, `${op.name} is a counter; a thresholdMetric needs the duration histogram`);
  if (op.unit !== 's' && op.unit !== 'ms') {
    return s.fail(op.path, `${op.name} is not a duration in seconds or milliseconds (its name should end in _seconds or _milliseconds)`);
  }
  return { kind: 'threshold', metric: op.metric, selector: op.selector, unit: op.unit, name: op.name };
}
