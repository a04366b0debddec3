/**
 * What label matchers of the PromQL subset (promql.ts) select: the status classes of a matcher
 * on a status label, and the literals of a regex that is a plain alternation.
 */
import type { LabelMatcher } from './promql.js';
import type { StatusClass } from './types.js';

/** `label="value"` as written in PromQL. */
export function formatMatcher(m: LabelMatcher): string {
  return `${m.label}${m.op}${JSON.stringify(m.value)}`;
}

/**
 * The status classes a matcher on the status label selects, by testing it (anchored, as
 * Prometheus does) against every code 100-599; each class must be selected whole or not at all.
 */
export function statusClasses(m: LabelMatcher): StatusClass[] | { error: string } {
  let test: (code: string) => boolean;
  if (m.op === '=' || m.op === '!=') {
    test = (code) => code === m.value;
  } else {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${m.value})$`);
    } catch {
      return { error: `invalid regex in ${formatMatcher(m)}` };
    }
    test = (code) => re.test(code);
  }
  const negate = m.op === '!=' || m.op === '!~';
  const classes: StatusClass[] = [];
  for (let c = 0; c < 5; c++) {
    let hits = 0;
    for (let code = (c + 1) * 100; code < (c + 2) * 100; code++) if (test(String(code)) !== negate) hits++;
    if (hits === 100) classes.push(c as StatusClass);
    else if (hits > 0) return { error: `status matcher must select whole classes (e.g. 5..), got ${formatMatcher(m)}` };
  }
  return classes;
}

/**
 * The literals a regex matcher value is an alternation of (`a|b`, `(a|b)`, `\.` escapes),
 * sorted and unique; anything else is an error.
 */
export function literalAlternatives(value: string): string[] | { error: string } {
  let body = value;
  const group = /^\((?:\?:)?(.*)\)$/s.exec(body);
  if (group && !/[()]/.test((group[1] ?? '').replace(/\\./g, ''))) body = group[1] ?? '';
  const out: string[] = [];
  let current = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i] ?? '';
    if (c === '\\') {
      const next = body[i + 1];
      if (next === undefined || /[A-Za-z0-9]/.test(next)) return { error: `regex ${JSON.stringify(value)} is not a plain alternation of literals` };
      current += next;
      i++;
    } else if (c === '|') {
      out.push(current);
      current = '';
    } else if ('.^$*+?()[]{}'.includes(c)) {
      return { error: `regex ${JSON.stringify(value)} is not a plain alternation of literals (escape ${c} as \\\\${c} if it is meant literally)` };
    } else {
      current += c;
    }
  }
  out.push(current);
  if (out.includes('')) return { error: `regex ${JSON.stringify(value)} has an empty alternative (matches series without the label)` };
  return [...new Set(out)].sort();
}
