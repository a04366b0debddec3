import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { sloRulesYaml } from '../processors/slo/rules.js';
import { parseSloFiles } from '../processors/slo/spec.js';
import { describeSli, promSeries } from '../processors/slo/describe.js';
import { labelAliases } from '../processors/slo/names.js';
import { parseSliQuery } from '../processors/slo/promql.js';
import type { SloSpec } from '../processors/slo/types.js';
import { aiopsError } from '../runtime/errors.js';

const usage = `usage: aiops slo <check|rules> <file or folder>... [--out file] [--prometheus URL]

  check   validate SLO files (OpenSLO v1, Sloth prometheus/v1); every problem at once; says
          which OTLP metric and attributes each SLI reads; with --prometheus URL also checks
          that the series the spec queries exist there and names those that do not
  rules   print Prometheus recording and alerting rules equivalent to the engine's alerts
          (Sloth's layout); --out writes them to a file instead (e.g. a Prometheus rules folder)

Folders are searched for *.yaml and *.yml files (not recursively).
`;

/** YAML files named on the command line, folders expanded (sorted, not recursive). */
export function sloFilePaths(args: readonly string[]): string[] {
  const files: string[] = [];
  for (const arg of args) {
    if (!existsSync(arg)) throw aiopsError('CLI_USAGE', [`no such file or folder: ${arg}`]);
    if (statSync(arg).isDirectory()) {
      files.push(...readdirSync(arg).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(arg, f)));
    } else files.push(arg);
  }
  return files;
}

/** Reads the SLO files of `AIOPS_SLO_PATHS`-style lists (comma-separated files or folders); none: []. */
export function loadSlos(paths: string | undefined): SloSpec[] {
  const list = (paths ?? '').split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  if (list.length === 0) return [];
  return parseSloFiles(sloFilePaths(list));
}

/** `aiops slo check|rules <files>`. */
export async function runSlo(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { out: { type: 'string' }, prometheus: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } } }));
  } catch (error) {
    throw aiopsError('CLI_USAGE', [`${(error as Error).message}\n\n${usage}`]);
  }
  if (values.help || sub === undefined || sub === 'help') {
    process.stdout.write(usage);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'check' && sub !== 'rules') throw aiopsError('CLI_USAGE', [`unknown slo command "${sub}"\n\n${usage}`]);
  if (positionals.length === 0) throw aiopsError('CLI_USAGE', [`slo ${sub}: name at least one file or folder\n\n${usage}`]);
  const files = sloFilePaths(positionals);
  const specs = parseSloFiles(files);
  if (sub === 'check') {
    for (const s of specs) {
      const window = s.window.kind === 'rolling' ? `${s.window.durationMs / 86_400_000}d rolling` : `${s.window.count} ${s.window.unit} calendar ${s.window.timeZone}`;
      const sli = s.sli.kind === 'latency' ? `latency <= ${s.sli.thresholdSeconds} s` : 'availability';
      process.stdout.write(`ok  ${s.name}  ${s.service}  ${sli}  ${(s.objective * 100).toFixed(3).replace(/\.?0+$/, '')}%  ${window}  (${s.source.file})\n`);
      for (const line of describeSli(s)) process.stdout.write(`      ${line}\n`);
    }
    process.stdout.write(`${specs.length} SLOs in ${files.length} files: valid\n`);
    if (values.prometheus !== undefined) {
      const missing = await missingSeries(values.prometheus, specs);
      for (const m of missing) {
        process.stdout.write(`missing  ${m.slo}  ${m.series}: no such series in ${values.prometheus}\n`);
        if (m.hint) process.stdout.write(`warning  ${m.slo}  ${m.hint}\n`);
      }
      process.stdout.write(missing.length === 0 ? `every series the SLOs query exists in ${values.prometheus}\n` : `${missing.length} series missing\n`);
      return missing.length === 0 ? 0 : 1;
    }
    return 0;
  }
  const yaml = sloRulesYaml(specs);
  if (values.out) {
    mkdirSync(dirname(values.out), { recursive: true });
    writeFileSync(values.out, yaml);
    process.stdout.write(`rules for ${specs.length} SLOs written to ${values.out}\n`);
  } else process.stdout.write(yaml);
  return 0;
}

/**
 * The series of the SLOs' queries that Prometheus at `url` does not have: each selector as
 * written, asked as `count(<selector>)` at the current time (status 5xx series may be absent
 * only because nothing failed yet; they are reported all the same).
 */
export async function missingSeries(url: string, specs: readonly SloSpec[]): Promise<{ slo: string; series: string; hint?: string }[]> {
  const out: { slo: string; series: string; hint?: string }[] = [];
  for (const spec of specs) {
    for (const series of promSeries(spec)) {
      if (await hasSeries(url, series)) continue;
      const hint = await aliasHint(url, series);
      out.push({ slo: spec.name, series, ...(hint ? { hint } : {}) });
    }
  }
  return out;
}

async function hasSeries(url: string, selector: string): Promise<boolean> {
  const u = new URL('/api/v1/query', url);
  u.searchParams.set('query', `count(${selector})`);
  let body: { status?: string; data?: { result?: unknown[] }; error?: string };
  try {
    const res = await fetch(u, { signal: AbortSignal.timeout(10_000) });
    body = (await res.json()) as typeof body;
  } catch (error) {
    throw aiopsError('CLI_USAGE', [`cannot query Prometheus at ${url}: ${(error as Error).message}`]);
  }
  if (body.status !== 'success') throw aiopsError('CLI_USAGE', [`Prometheus at ${url} refused ${selector}: ${body.error ?? 'unknown error'}`]);
  return (body.data?.result ?? []).length > 0;
}

/**
 * For a missing series: a matcher's label that no series of the metric carries while a known
 * alias does (`code` on an OTel SDK metric, whose status is `http_response_status_code`).
 */
async function aliasHint(url: string, series: string): Promise<string | undefined> {
  const q = parseSliQuery(series);
  if ('error' in q) return undefined;
  for (const m of q.matchers) {
    const aliases = labelAliases[m.label];
    if (!aliases || (await hasSeries(url, `${q.metric}{${m.label}!=""}`))) continue;
    for (const alias of aliases) {
      if (await hasSeries(url, `${q.metric}{${alias}!=""}`)) {
        return `no series of ${q.metric} has the label ${m.label}, but some have ${alias}: write ${alias}${m.op}${JSON.stringify(m.value)} (the label ${m.label} means the attribute ${m.label}, docs/slo.md)`;
      }
    }
  }
  return undefined;
}
