/**
 * Sloth prometheus/v1. The SLO's name is `<service>-<name>`, as Sloth names its SLO ids.
 * `sli.events` takes one selector as error_query, or, for latency, `total - good`;
 * `sli.raw.error_ratio_query` is accepted as `1 - (good / total)`, or over a native histogram as
 * `1 - histogram_fraction(0, T, ...)` / `histogram_fraction(T, +Inf, ...)` (native-sli.ts).
 */

import {
  Scope,
  assemble,
  at,
  bool,
  checkName,
  defaultMinEvents,
  defaultSlothPeriodMs,
  isObj,
  list,
  num,
  obj,
  ratio,
  show,
  str,
  stringMap,
} from '../model.js';
import type { Obj } from '../model.js';
import { parseSliExpression } from '../promql.js';
import type { SliQuery } from '../promql.js';
import { formatSelector, operandFromPromql, operandFromQuery, ratioDraft, sameSelector } from '../sli.js';
import type { Draft } from '../sli.js';
import { nativeFraction, nativeLatencyDraft } from '../native-sli.js';
import { parseShape } from '../zod-problems.js';
import { z } from 'zod';
import type { AlertWindow, SloSpec } from '../types.js';
import { minPeriodMs, standardWindowsMs } from '../burn-rates.js';
import type { ClaimName } from './openslo.js';

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
    const fraction = nativeFraction(e);
    if (fraction) return nativeLatencyDraft(s, fraction, qp);
    if (e.type === 'binary' && e.op === '-' && e.left.type === 'number' && e.left.value === 1 && e.right.type === 'binary' && e.right.op === '/') {
      const { left, right } = e.right;
      if (isQuery(left) && isQuery(right)) {
        const good = operandFromQuery(s, left.query, qp);
        const total = operandFromQuery(s, right.query, qp);
        return good && total && ratioDraft(s, 'good', good, total);
      }
    }
    return s.fail(qp, 'raw SLIs are not supported; use events (raw is accepted as 1 - (good / total), or as 1 - histogram_fraction(0, T, ...) over a native histogram)');
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

/** One Sloth document: its SLOs, numbered from `firstIndex` through the file. */
export function slothDoc(problems: string[], top: Scope, file: string, doc: Obj, firstIndex: number, claim: ClaimName, period: SlothPeriod = defaultSlothPeriod): SloSpec[] {
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
    // Per-tier labels and annotations (they route pages and tickets in Alertmanager).
    const tiers = {
      page: { labels: stringMap(s, pageAlert, 'labels', at(ap, 'page_alert')), annotations: stringMap(s, pageAlert, 'annotations', at(ap, 'page_alert')) },
      ticket: { labels: stringMap(s, ticketAlert, 'labels', at(ap, 'ticket_alert')), annotations: stringMap(s, ticketAlert, 'annotations', at(ap, 'ticket_alert')) },
    };
    if (name === undefined || percent === undefined || !(percent > 0 && percent < 100) || !draft || service === undefined) return undefined;
    const spec = assemble(s, {
      name,
      shortName: short,
      tiers,
      ...(period.windows ? { windows: period.windows } : {}),
      specService: service,
      servicePath: 'service',
      description,
      objective: ratio(percent, 100),
      draft,
      window: { kind: 'rolling', durationMs: period.durationMs },
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

/** The period of Sloth SLOs and its alert windows (none: the built-in catalogue, burn-rates.ts). */
export interface SlothPeriod {
  readonly durationMs: number;
  readonly windows?: readonly AlertWindow[];
}

export const defaultSlothPeriod: SlothPeriod = Object.freeze({ durationMs: defaultSlothPeriodMs });

const durationUnits: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** A Sloth duration (`5m`, `1h`, `28d`, `1w`) in milliseconds. */
const duration = z
  .string()
  .regex(/^[1-9]\d*[mhdw]$/, { error: (issue) => `must be a duration like 5m, 1h, 28d, got ${show(issue.input)}` })
  .transform((text) => Number(text.slice(0, -1)) * (durationUnits[text.slice(-1)] ?? 0));
const keptWindow = duration.refine((ms) => standardWindowsMs.includes(ms), { error: 'must be one of the windows the engine keeps: 5m, 30m, 1h, 2h, 6h, 1d, 3d' });
const alertWindow = z.object({
  errorBudgetPercent: z.number().refine((p) => p > 0 && p <= 100, { error: (issue) => `must be in (0, 100], got ${show(issue.input)}` }),
  shortWindow: keptWindow,
  longWindow: keptWindow,
});
const tierWindows = z.object({ quick: alertWindow, slow: alertWindow });
const alertWindowsDoc = z.object({
  spec: z.object({
    sloPeriod: duration.refine((ms) => ms >= minPeriodMs, { error: `is too short for any burn-rate alert; use at least ${minPeriodMs / 60_000}m` }),
    page: z.unknown().optional(),
    ticket: z.unknown().optional(),
  }),
});

/**
 * Sloth's `AlertWindows` (apiVersion sloth.slok.dev/v1): `spec.sloPeriod` is the period of the
 * Sloth SLOs of the same call (Sloth's --default-slo-period; 30d without one); `spec.page` and
 * `spec.ticket` (`quick` and `slow`, each `errorBudgetPercent`, `shortWindow`, `longWindow`)
 * replace the built-in windows. Without them a named period keeps the built-in catalogue for
 * its length (28d: 13.44, 5.6, 2.8). Windows must be ones the engine keeps (5m, 30m, 1h, 2h, 6h,
 * 1d, 3d), and no rule may fire below a burn rate of 1. Shapes are checked with zod, each tier
 * on its own so every problem of the document is listed; the rest in code.
 */
export function slothAlertWindows(s: Scope, doc: Obj): SlothPeriod | undefined {
  const top = parseShape(s, alertWindowsDoc, doc);
  if (!top) return undefined;
  const { sloPeriod: durationMs, page, ticket } = top.spec;
  if (page === undefined && ticket === undefined) return { durationMs };
  const windows: AlertWindow[] = [];
  let ok = true;
  for (const [tier, value] of [['page', page], ['ticket', ticket]] as const) {
    const t = parseShape(s, tierWindows, value, `spec.${tier}`);
    if (!t) {
      ok = false;
      continue;
    }
    for (const speed of ['quick', 'slow'] as const) {
      const { errorBudgetPercent: percent, shortWindow: shortMs, longWindow: longMs } = t[speed];
      const p = `spec.${tier}.${speed}`;
      if (shortMs >= longMs) ok = s.fail(p, 'shortWindow must be shorter than longWindow') ?? false;
      else if ((percent / 100) * durationMs < longMs) {
        const [long, period] = [(value as Obj)[speed] as Obj, doc.spec as Obj];
        ok = s.fail(p, `burning ${percent}% of the budget in ${long.longWindow as string} is a burn rate below 1 over ${period.sloPeriod as string}: it cannot exhaust the budget; raise the share or shorten the window`) ?? false;
      }
      if (ok) windows.push({ tier, longMs, shortMs, budgetShare: ratio(percent, 100) });
    }
  }
  return ok ? { durationMs, windows } : undefined;
}
