/**
 * zod schemas for SLO document shapes, reported the way every SLO reader reports: one line per
 * problem, with its path in the document (`spec.page.quick.longWindow: must be ...`), through a
 * Scope, so they join the other problems of the file (and its bound on how many are listed).
 * Cross-field and cross-document checks stay in code after the shape is known.
 */
import type { z } from 'zod';
import { show } from './model.js';
import type { Scope } from './model.js';

const typeWords: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
};

/** Path segments as the hand-written readers print them: `a.b[2].c`. */
function pathText(base: string, path: readonly PropertyKey[]): string {
  let out = base;
  for (const key of path) {
    if (typeof key === 'number') out = `${out}[${key}]`;
    else out = out === '' ? String(key) : `${out}.${String(key)}`;
  }
  return out;
}

/** The message of one issue, in the readers' words ("is required", "must be a number, got ..."). */
function message(issue: z.core.$ZodIssue, input: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      return input === undefined || input === null ? 'is required' : `must be ${typeWords[issue.expected] ?? issue.expected}, got ${show(input)}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => String(v)).join(', ')}, got ${show(input)}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
    default:
      return issue.message;
  }
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const key of path) v = typeof v === 'object' && v !== null ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

/**
 * Parses `value` with `schema`; on failure reports each issue at `base` + its path and returns
 * undefined. Refinements give their own message (`ctx.addIssue({ message, path })`).
 */
export function parseShape<T>(s: Scope, schema: z.ZodType<T>, value: unknown, base = ''): T | undefined {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const path = issue.code === 'unrecognized_keys' ? issue.path : issue.path;
    s.fail(pathText(base, path), message(issue, valueAt(value, issue.path)));
  }
  return undefined;
}
