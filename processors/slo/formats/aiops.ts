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

import { at, defaultSliMetric, isScalar, num, obj, show, statusAttribute, str } from '../model.js';
import type { Obj, Scope, Selector } from '../model.js';
import { statusClasses } from '../promql.js';
import type { Operand } from '../sli.js';

const nativeFields = ['metric', 'selector', 'status', 'le', 'prometheusHistogram'];

export function operandFromNative(s: Scope, spec: Obj, path: string): Operand | undefined {
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
    else status = { classes, text: `status: ${statusText}`, attribute: statusAttribute };
  }
  const le = num(s, spec, 'le', path);
  if (le !== undefined && le <= 0) ok = s.fail(at(path, 'le'), `must be > 0, got ${le}`) ?? false;
  if (spec.le !== undefined && le === undefined) ok = false;
  const form = str(s, spec, 'prometheusHistogram', path);
  if (form !== undefined && form !== 'classic' && form !== 'native') ok = s.fail(at(path, 'prometheusHistogram'), `must be classic or native, got ${show(form)}`) ?? false;
  if (!ok) return undefined;
  return { path, name: metric, metric, part: 'native', unit: 's', selector, matchers: [], status, le, ...(form === 'native' ? { promHistogram: form } : {}) };
}
