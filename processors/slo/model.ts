/**
 * The shared model the SLO file formats (formats/*.ts) parse into before an SLO is assembled:
 * where problems are reported (`Scope`), typed field readers that report what is wrong, and the
 * assembly of an SLI draft, the SLO's service and its alerting into the normalised `SloSpec`
 * (types.ts). The SLI operands and drafts are in sli.ts.
 */

import type { Sli, SloAlerting, SloSpec, SloWindow } from './types.js';
import type { Draft } from './sli.js';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const WEEK = 7 * DAY;

/** Sloth files carry no period: their SLOs are over a rolling 30 days. */
export const defaultSlothPeriodMs = 30 * DAY;
/** Default low-traffic guard (`SloSpec.minEvents`). */
export const defaultMinEvents = 10;
/** Metric of native (`type: aiops`) metric sources that name none. */
export const defaultSliMetric = 'http.server.request.duration';

export const statusAttribute = 'http.response.status_code';
const namePattern = /^[A-Za-z0-9_.-]+$/;

export type Obj = Readonly<Record<string, unknown>>;
export type Selector = Map<string, string[]>;

/** Where the problems of one document or SLO are reported. */
export class Scope {
  constructor(
    private readonly problems: string[],
    readonly where: string,
  ) {}

  fail(path: string, message: string): undefined {
    this.problems.push(`  - ${this.where}${path === '' ? '' : ` ${path}`}: ${message}`);
    return undefined;
  }
}

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isScalar(v: unknown): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

export function show(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export function at(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

export function read<T>(s: Scope, o: Obj, key: string, path: string, required: boolean, what: string, ok: (v: unknown) => v is T): T | undefined {
  const v = o[key];
  if (v === undefined || v === null) return required ? s.fail(at(path, key), 'is required') : undefined;
  if (!ok(v)) return s.fail(at(path, key), `must be ${what}, got ${show(v)}`);
  return v;
}

export const str = (s: Scope, o: Obj, key: string, path: string, required = false): string | undefined =>
  read(s, o, key, path, required, 'a string', (v): v is string => typeof v === 'string');
export const num = (s: Scope, o: Obj, key: string, path: string, required = false): number | undefined =>
  read(s, o, key, path, required, 'a number', (v): v is number => typeof v === 'number' && Number.isFinite(v));
export const bool = (s: Scope, o: Obj, key: string, path: string): boolean | undefined =>
  read(s, o, key, path, false, 'true or false', (v): v is boolean => typeof v === 'boolean');
export const obj = (s: Scope, o: Obj, key: string, path: string, required = false): Obj | undefined => read(s, o, key, path, required, 'a mapping', isObj);
export const list = (s: Scope, o: Obj, key: string, path: string, required = false): readonly unknown[] | undefined =>
  read(s, o, key, path, required, 'a list', (v): v is unknown[] => Array.isArray(v));

/** A map of strings; scalars are stringified, lists joined with ',' when `joinLists`. */
export function stringMap(s: Scope, o: Obj, key: string, path: string, joinLists = false): Record<string, string> {
  const m = obj(s, o, key, path);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m ?? {})) {
    if (isScalar(v)) out[k] = String(v);
    else if (joinLists && Array.isArray(v) && v.every(isScalar)) out[k] = v.map(String).join(',');
    else s.fail(at(at(path, key), k), `must be a string${joinLists ? ' or a list of strings' : ''}, got ${show(v)}`);
  }
  return out;
}

export function checkName(s: Scope, name: string | undefined, path: string): string | undefined {
  if (name === undefined) return undefined;
  if (!namePattern.test(name)) return s.fail(path, `must be letters, digits, '_', '.' and '-' only, got ${show(name)}`);
  return name;
}

/** Percent or ratio to a ratio, without binary noise (99.9 → 0.999). */
export function ratio(value: number, scale: number): number {
  return Number((value / scale).toPrecision(15));
}

/** The draft with the SLO's service resolved. */
export function finishSli(s: Scope, draft: Draft, specService: string | undefined, servicePath: string): { sli: Sli; service: string } | undefined {
  if (draft.kind === 'threshold') return undefined;
  const selector = new Map(draft.selector);
  const names = selector.get('service.name');
  let service: string;
  if (specService !== undefined && specService !== '') {
    // The SLO's service is the spec's. A PromQL query selects what it selects: no job matcher
    // is added to it. A native source without a service.name selects the spec's service.
    service = specService;
    if (!names && draft.prom === undefined) selector.set('service.name', [specService]);
  } else if (names?.length === 1 && names[0] !== undefined) {
    service = names[0];
  } else {
    return s.fail(servicePath, names ? 'the selector names several services; say which the SLO is about' : 'is required when the queries have no job / service_name matcher');
  }
  const record: Record<string, readonly string[]> = {};
  for (const key of [...selector.keys()].sort()) record[key] = selector.get(key) ?? [];
  const extra = {
    ...(draft.matchers.length > 0 ? { matchers: draft.matchers } : {}),
    ...(draft.prometheusName !== undefined ? { prometheusName: draft.prometheusName } : {}),
    ...(draft.prom !== undefined ? { prom: draft.prom } : {}),
    ...(draft.promHistogram !== undefined && draft.promHistogram !== 'classic' ? { promHistogram: draft.promHistogram } : {}),
  };
  const sli: Sli =
    draft.kind === 'availability'
      ? {
          kind: 'availability',
          metric: draft.metric,
          selector: record,
          statusAttribute: draft.statusAttribute,
          badClasses: draft.badClasses,
          ...(draft.badMatcher ? { badMatcher: draft.badMatcher } : {}),
          ...extra,
        }
      : { kind: 'latency', metric: draft.metric, selector: record, statusAttribute: draft.statusAttribute, thresholdSeconds: draft.thresholdSeconds, ...extra };
  return { sli, service };
}

/** What both formats give before the SLO is assembled. */
export interface SloParts {
  readonly name: string;
  readonly shortName?: string | undefined;
  readonly tiers?: SloAlerting['tiers'];
  readonly windows?: SloAlerting['windows'];
  readonly budgeting?: SloSpec['budgeting'];
  readonly timeslices?: SloSpec['timeslices'];
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

export function assemble(s: Scope, p: SloParts): SloSpec | undefined {
  const done = finishSli(s, p.draft, p.specService, p.servicePath);
  if (!done) return undefined;
  const hasTiers = p.tiers !== undefined && Object.values(p.tiers).some((t) => Object.keys(t.labels).length + Object.keys(t.annotations).length > 0);
  return {
    name: p.name,
    ...(p.shortName !== undefined && p.shortName !== p.name ? { shortName: p.shortName } : {}),
    service: done.service,
    description: p.description,
    objective: p.objective,
    sli: done.sli,
    window: p.window,
    budgeting: p.budgeting ?? 'Occurrences',
    ...(p.timeslices ? { timeslices: p.timeslices } : {}),
    minEvents: p.minEvents,
    alerting: {
      page: p.page,
      ticket: p.ticket,
      name: p.alertName ?? defaultAlertName(p.name),
      labels: p.alertLabels,
      annotations: p.alertAnnotations,
      ...(hasTiers ? { tiers: p.tiers } : {}),
      ...(p.windows ? { windows: p.windows } : {}),
    },
    labels: p.labels,
    source: p.source,
  };
}
