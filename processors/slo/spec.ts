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
import { parseAllDocuments } from 'yaml';
import type { YAMLError } from 'yaml';
import { aiopsError } from '../../runtime/errors.js';
import { Scope, isObj, obj, show, str } from './model.js';
import type { Obj } from './model.js';
import { openSloSli, openSloSlo } from './formats/openslo.js';
import type { ClaimName } from './formats/openslo.js';
import { slothDoc } from './formats/sloth.js';
import type { Draft } from './sli.js';
import type { SloSpec } from './types.js';

export { defaultAlertName, defaultMinEvents, defaultSliMetric, defaultSlothPeriodMs } from './model.js';

const ignoredKinds = ['Service', 'AlertPolicy', 'AlertCondition', 'AlertNotificationTarget', 'DataSource'];

/** One SLO file's text and the name problems and `source.file` give it. */
export interface SloSource {
  readonly file: string;
  readonly text: string;
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
