/**
 * Native metric sources (`type: aiops`): an OTel metric and an attribute selector, without PromQL.
 *
 *     metricSource:
 *       type: aiops
 *       spec:
 *         metric: http.server.request.duration   # default
 *         selector: { service.name: checkout, http.route: [/a, /b] }
 *         status: 5..      # optional: status classes (regex as in PromQL, or 5xx / 4xx|5xx)
 *         le: 0.25         # optional: bucket bound in seconds (good of a latency SLI)
 *         prometheusHistogram: native   # optional: how Prometheus holds the histogram (classic
 *                                       # _bucket/_count series, the default, or one native histogram)
 */

import { z } from 'zod';
import { at, defaultSliMetric, show, statusAttribute } from '../model.js';
import type { Obj, Scope, Selector } from '../model.js';
import { statusClasses } from '../promql.js';
import type { Operand } from '../sli.js';
import { parseShape } from '../zod-problems.js';

const listOrString = 'must be a string or a non-empty list of strings';
const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);

/** The shape of a native source's spec (zod); meanings are checked after it. */
const nativeSpec = z.object({
  metric: z.string().min(1, { error: 'must not be empty' }).optional(),
  selector: z
    .record(
      z.string(),
      z.union([scalar, z.array(scalar).min(1, { error: (issue) => `${listOrString}, got ${show(issue.input)}` })], { error: (issue) => `${listOrString}, got ${show(issue.input)}` }),
    )
    .optional(),
  status: z.string().optional(),
  le: z.number().refine((v) => v > 0, { error: (issue) => `must be > 0, got ${show(issue.input)}` }).optional(),
  prometheusHistogram: z.enum(['classic', 'native']).optional(),
});
const nativeFields = Object.keys(nativeSpec.shape);

export function operandFromNative(s: Scope, spec: Obj, path: string): Operand | undefined {
  let ok = true;
  for (const key of Object.keys(spec)) {
    if (!nativeFields.includes(key)) ok = s.fail(at(path, key), `unknown field (known: ${nativeFields.join(', ')})`) ?? false;
  }
  const parsed = parseShape(s, nativeSpec, spec, path);
  if (!parsed) return undefined;
  const selector: Selector = new Map();
  for (const [attribute, v] of Object.entries(parsed.selector ?? {})) {
    if (attribute === statusAttribute) ok = s.fail(at(at(path, 'selector'), attribute), 'select status codes with status, not in the selector') ?? false;
    else selector.set(attribute, [...new Set(Array.isArray(v) ? v : [v])].sort());
  }
  let status: Operand['status'];
  if (parsed.status !== undefined) {
    const value = parsed.status.replace(/\b([1-5])xx\b/gi, '$1..');
    const classes = statusClasses({ label: 'status', op: '=~', value });
    if ('error' in classes) ok = s.fail(at(path, 'status'), classes.error) ?? false;
    else status = { classes, text: `status: ${parsed.status}`, attribute: statusAttribute };
  }
  if (!ok) return undefined;
  const metric = parsed.metric ?? defaultSliMetric;
  const form = parsed.prometheusHistogram;
  return { path, name: metric, metric, part: 'native', unit: 's', selector, matchers: [], status, le: parsed.le, ...(form === 'native' ? { promHistogram: form } : {}) };
}
