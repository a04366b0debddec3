/**
 * SLO specification files, OpenSLO v1 and Sloth prometheus/v1 YAML, parsed into the normalised
 * `SloSpec` (types.ts). This module reads the files (within `sloLimits`), splits them into
 * documents (YAML documents and top-level lists), sorts them by format and kind, and resolves
 * references (SLI documents by indicatorRef, DataSource documents by metricSourceRef) across all
 * files of one call. The formats are in formats/ (sloth.ts, openslo.ts, aiops.ts for native
 * sources), over the shared parse model (model.ts) and SLI operands (sli.ts); the PromQL subset
 * is promql.ts, the Prometheus/OTLP naming names.ts. docs/slo.md describes what is accepted.
 *
 * Every problem of every document and file is collected and thrown as one
 * AIOPS_ERR_SLO_SPEC_INVALID, a line each: `  - <file>#<index> <field path>: <what is wrong>`,
 * at most `sloLimits.maxProblemsPerFile` per file and `sloLimits.maxLineLength` characters each.
 * `#<index>` is the YAML document (or list item) for OpenSLO and the SLO (counted through the
 * file) for Sloth; problems of a Sloth file's top level carry none (`<file> (document <n>)` in
 * multi-document files).
 */

import { readFileSync, statSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { YAMLError } from 'yaml';
import { aiopsError } from '../../runtime/errors.js';
import { Scope, isObj, obj, show, str } from './model.js';
import type { Obj } from './model.js';
import { annotationOverrides, openSloSli, openSloSlo } from './formats/openslo.js';
import type { ClaimName, OpenSloContext } from './formats/openslo.js';
import { slothAlertWindows, slothDoc } from './formats/sloth.js';
import type { SlothPeriod } from './formats/sloth.js';
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

/** Limits on what an SLO file may be (docs/slo.md, "Limits"). */
export const sloLimits = Object.freeze({
  /** Bytes of one file. */
  maxFileBytes: 1024 * 1024,
  /** SLOs over all files of one call. */
  maxSlos: 1000,
  /** YAML documents (or top-level list items) of one file. */
  maxDocuments: 2000,
  /** Alias expansions per document (the yaml package's maxAliasCount): alias bombs stop here. */
  maxAliasCount: 100,
  /** Nesting of mappings and lists. */
  maxDepth: 32,
  /** Problems reported per file; the rest are counted in one line. */
  maxProblemsPerFile: 20,
  /** Characters of one problem line. */
  maxLineLength: 300,
});

/** Why a text is not YAML text at all (NUL bytes, replacement characters, control characters), or undefined. */
function binaryReason(text: string): string | undefined {
  const nul = text.indexOf('\0');
  if (nul >= 0) return `binary content (a NUL byte at character ${nul + 1})`;
  let odd = 0;
  const sample = text.slice(0, 64 * 1024);
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    if (c === 0xfffd || (c < 0x20 && c !== 9 && c !== 10 && c !== 13)) odd++;
  }
  return odd > 8 && odd * 100 > sample.length ? `binary content (${odd} invalid or control characters in the first ${sample.length})` : undefined;
}

/** Depth of nested mappings and lists, counted without recursion; stops past `limit`. */
function depthOf(value: unknown, limit: number): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    if (d + 1 > max) max = d + 1;
    if (max > limit) return max;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

/** One YAML document's value, or a problem: YAML errors, alias bombs, too deep. */
function documentValue(d: ReturnType<typeof parseAllDocuments>[number], s: Scope): { value: unknown } | undefined {
  if (d.errors.length > 0) {
    for (const e of d.errors.slice(0, 3)) s.fail('', yamlMessage(e));
    if (d.errors.length > 3) s.fail('', `and ${d.errors.length - 3} more YAML errors`);
    return undefined;
  }
  let value: unknown;
  try {
    value = d.toJS({ maxAliasCount: sloLimits.maxAliasCount });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (/alias/i.test(message)) return s.fail('', `too many alias expansions (more than ${sloLimits.maxAliasCount}): a YAML alias bomb?`);
    if (e instanceof RangeError) return s.fail('', `nested more than ${sloLimits.maxDepth} levels deep`);
    return s.fail('', `YAML error: ${message}`);
  }
  if (depthOf(value, sloLimits.maxDepth) > sloLimits.maxDepth) return s.fail('', `nested more than ${sloLimits.maxDepth} levels deep`);
  return { value };
}

/** The YAML documents of a file, each top-level list item a document of its own (OpenSLO lists). */
function documentsOf(file: string, text: string, problems: string[]): { value: unknown; index: number; multi: boolean }[] {
  const fileScope = new Scope(problems, file);
  if (text.length > sloLimits.maxFileBytes) {
    fileScope.fail('', `the file is larger than ${sloLimits.maxFileBytes} bytes`);
    return [];
  }
  const binary = binaryReason(text);
  if (binary !== undefined) {
    fileScope.fail('', `not a YAML text file: ${binary}`);
    return [];
  }
  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    const parsed = parseAllDocuments(text);
    docs = Array.isArray(parsed) ? parsed : [];
    if (!Array.isArray(parsed)) fileScope.fail('', 'YAML error: not a YAML stream');
  } catch (e) {
    fileScope.fail('', e instanceof RangeError ? `nested more than ${sloLimits.maxDepth} levels deep` : `YAML error: ${e instanceof Error ? e.message : String(e)}`);
    return [];
  }
  if (docs.length > sloLimits.maxDocuments) {
    fileScope.fail('', `more than ${sloLimits.maxDocuments} YAML documents`);
    return [];
  }
  const out: { value: unknown; index: number; multi: boolean }[] = [];
  let index = 0;
  const multi = docs.length > 1;
  for (const d of docs) {
    const got = documentValue(d, new Scope(problems, `${file}#${index}`));
    if (!got) {
      index++;
      continue;
    }
    if (Array.isArray(got.value)) {
      for (const item of got.value) {
        if (out.length >= sloLimits.maxDocuments) {
          fileScope.fail('', `more than ${sloLimits.maxDocuments} YAML documents`);
          return out;
        }
        out.push({ value: item, index: index++, multi: true });
      }
    } else {
      out.push({ value: got.value, index: index++, multi });
    }
  }
  return out;
}

/** Problems bounded: at most maxProblemsPerFile lines per file, each at most maxLineLength characters. */
function bounded(problems: readonly string[], files: readonly string[]): string[] {
  const out: string[] = [];
  const perFile = new Map<string, number>();
  const fileOf = (line: string): string => files.find((f) => line.startsWith(`  - ${f}`)) ?? '';
  const dropped = new Map<string, number>();
  for (const line of problems) {
    const f = fileOf(line);
    const n = (perFile.get(f) ?? 0) + 1;
    perFile.set(f, n);
    if (n > sloLimits.maxProblemsPerFile) {
      dropped.set(f, (dropped.get(f) ?? 0) + 1);
      continue;
    }
    const clean = [...line].map((c) => (c.charCodeAt(0) < 0x20 && c !== '\t' && c !== '\n') || c === '\u007f' ? '?' : c).join('');
    out.push(clean.length > sloLimits.maxLineLength ? `${clean.slice(0, sloLimits.maxLineLength - 3)}...` : clean);
  }
  for (const [f, n] of dropped) out.push(`  - ${f === '' ? '(files)' : f}: and ${n} more problems`);
  return out;
}

function parse(sources: readonly SloSource[], problems: string[]): SloSpec[] {
  const loaded: Loaded[] = [];
  const slis = new Map<string, SliEntry>();
  const dataSources = new Map<string, string>();
  const alertPolicies = new Map<string, Obj>();
  const alertConditions = new Map<string, Obj>();
  const periods: { period: SlothPeriod; where: string }[] = [];
  for (const { file, text } of sources) {
    for (const { value, index, multi } of documentsOf(file, text, problems)) {
      const s = new Scope(problems, `${file}#${index}`);
      if (value === null || value === undefined) continue;
      if (!isObj(value)) {
        s.fail('', `a document must be a mapping, got ${show(value)}`);
      } else if (value.apiVersion === 'sloth.slok.dev/v1' && value.kind === 'AlertWindows') {
        const period = slothAlertWindows(s, value);
        if (period) periods.push({ period, where: s.where });
      } else if (value.apiVersion !== undefined) {
        if (value.apiVersion !== 'openslo/v1') {
          s.fail('apiVersion', `unknown apiVersion ${show(value.apiVersion)} (supported: openslo/v1)`);
        } else if (value.kind === 'SLO') {
          loaded.push({ kind: 'slo', s, doc: value, file, index });
        } else if (value.kind === 'SLI') {
          const metadata = obj(s, value, 'metadata', '', true);
          const name = metadata && str(s, metadata, 'name', 'metadata', true);
          if (name === undefined) continue;
          const prev = slis.get(name);
          if (prev) {
            s.fail('metadata.name', `duplicate SLI name ${show(name)} (also in ${prev.s.where})`);
          } else {
            slis.set(name, { s, doc: value, done: false, draft: undefined });
            loaded.push({ kind: 'sli', name });
          }
        } else if (value.kind === 'AlertPolicy' || value.kind === 'AlertCondition') {
          const name = isObj(value.metadata) && typeof value.metadata.name === 'string' ? value.metadata.name : undefined;
          if (name !== undefined) (value.kind === 'AlertPolicy' ? alertPolicies : alertConditions).set(name, value);
        } else if (value.kind === 'DataSource') {
          const metadata = obj(s, value, 'metadata', '', true);
          const name = metadata && str(s, metadata, 'name', 'metadata', true);
          const spec = obj(s, value, 'spec', '', true);
          const type = spec && str(s, spec, 'type', 'spec', true);
          if (name !== undefined && type !== undefined) dataSources.set(name, type);
        } else if (typeof value.kind !== 'string' || !ignoredKinds.includes(value.kind)) {
          s.fail('kind', `unknown kind ${show(value.kind)} (SLO, SLI, DataSource; ignored: ${ignoredKinds.filter((k) => k !== 'DataSource').join(', ')})`);
        }
      } else if (value.version !== undefined) {
        const top = new Scope(problems, multi ? `${file} (document ${index})` : file);
        if (value.version !== 'prometheus/v1') top.fail('version', `unknown version ${show(value.version)} (supported: prometheus/v1)`);
        else loaded.push({ kind: 'sloth', top, doc: value, file });
      } else {
        s.fail('', 'neither apiVersion (OpenSLO) nor version (Sloth) is given');
      }
    }
  }
  const context: OpenSloContext = { dataSources, alertPolicies, alertConditions };
  if (periods.length > 1) {
    for (const p of periods.slice(1)) problems.push(`  - ${p.where}: a second AlertWindows document (also in ${periods[0]?.where}); give one: it sets the period of every Sloth SLO`);
  }
  const slothPeriod = periods[0]?.period;

  const sliDraft = (name: string): { draft: Draft | undefined } | undefined => {
    const entry = slis.get(name);
    if (!entry) return undefined;
    if (!entry.done) {
      entry.done = true;
      const spec = obj(entry.s, entry.doc, 'spec', '', true);
      entry.draft = spec && openSloSli(entry.s, spec, 'spec', context, annotationOverrides(entry.doc));
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
      out.push(...openSloSlo(l.s, l.doc, { file: l.file, format: 'openslo', index: l.index }, sliDraft, claim, context).map(deepFreeze));
    } else {
      const first = slothNext.get(l.file) ?? 0;
      const specs = slothDoc(problems, l.top, l.file, l.doc, first, claim, slothPeriod);
      slothNext.set(l.file, first + (Array.isArray(l.doc.slos) ? l.doc.slos.length : 0));
      out.push(...specs.map(deepFreeze));
    }
  }
  if (out.length > sloLimits.maxSlos) problems.push(`  - ${out.length} SLOs in the files given: at most ${sloLimits.maxSlos} are supported`);
  if (problems.length > 0) throw aiopsError('SLO_SPEC_INVALID', [bounded(problems, sources.map((x) => x.file)).join('\n')]);
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
    let size = 0;
    try {
      size = statSync(file).size;
    } catch {
      // Reading it below says why.
    }
    try {
      if (size > sloLimits.maxFileBytes) {
        problems.push(`  - ${file}: the file is larger than ${sloLimits.maxFileBytes} bytes (${size})`);
        continue;
      }
      sources.push({ file, text: readFileSync(file, 'utf8') });
    } catch (e) {
      problems.push(`  - ${file}: cannot read the file: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return parse(sources, problems);
}
