import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parse } from 'yaml';

/**
 * Checks of a Compose file's references that the Compose schema cannot see: services, volumes,
 * secrets and networks that exist, host paths that exist in the repository, variables with a
 * default or documented as required, and every variable the platform's code needs set.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = Record<string, Json>;

export interface ComposeModel {
  services: Record<string, Obj>;
  volumes: Obj;
  secrets: Obj;
  networks: Obj;
}

/** One variable a platform command reads without a default. */
export interface EnvRequirement {
  readonly name: string;
  /** The command-line flag that may give the value instead (`values.url ?? env.AIOPS_LOADGEN_URL`). */
  readonly flag?: string;
  readonly file: string;
}

export interface CheckContext {
  /** Folder of the Compose file (relative paths start there). */
  readonly composeDir: string;
  /** Repository root: bind-mounted paths must lie inside it. */
  readonly root: string;
  /** Text of the deployment docs: a variable without a default must be named there. */
  readonly docs: string;
  readonly knownProfiles: readonly string[];
  /** Per `aiops` command, the variables it reads without a default. */
  readonly requirements: ReadonlyMap<string, readonly EnvRequirement[]>;
  /** Every AIOPS_* name the platform's source mentions (a set variable must be one). */
  readonly knownVariables: ReadonlySet<string>;
  /** The platform image reference's repository (`ghcr.io/aiops-stream/aiops`) and pinned version. */
  readonly platformImage: { readonly repository: string; readonly version: string };
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses Compose files (YAML merge keys resolved) and merges them in order, as `docker compose -f a -f b` does. */
export function loadCompose(texts: readonly string[]): ComposeModel {
  const model: ComposeModel = { services: {}, volumes: {}, secrets: {}, networks: {} };
  for (const text of texts) {
    const doc = (parse(text, { merge: true }) ?? {}) as Obj;
    for (const key of ['volumes', 'secrets', 'networks'] as const) {
      const section = doc[key];
      if (isObj(section)) Object.assign(model[key], section);
    }
    const services = isObj(doc.services) ? doc.services : {};
    for (const [name, service] of Object.entries(services)) {
      const base = model.services[name] ?? {};
      const next = isObj(service) ? service : {};
      const merged: Obj = { ...base };
      for (const [key, value] of Object.entries(next)) {
        const prev = base[key];
        if (isObj(prev) && isObj(value)) merged[key] = { ...prev, ...value };
        else if (Array.isArray(prev) && Array.isArray(value) && key !== 'command') merged[key] = [...new Set([...prev, ...value].map((v) => JSON.stringify(v)))].map((v) => JSON.parse(v) as Json);
        else merged[key] = value;
      }
      model.services[name] = merged;
    }
  }
  return model;
}

const interpolation = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+?])((?:[^}$]|\$\{[^}]*\})*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/** The value with every variable unset: defaults applied; undefined if a required variable (`:?`) is in it. */
export function withDefaults(value: string): string | undefined {
  let required = false;
  const out = value.replace(/\$\$/g, '\uE000').replace(interpolation, (_m, _name: string, op: string | undefined, arg: string | undefined) => {
    if (op === ':-' || op === '-') return withDefaults(arg ?? '') ?? '';
    if (op === ':?' || op === '?') required = true;
    return '';
  });
  return required ? undefined : out.replace(/\uE000/g, '$');
}

function strings(value: Json, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (isObj(value)) for (const v of Object.values(value)) strings(v, out);
  return out;
}

function envOf(service: Obj): Record<string, string> {
  const env = service.environment;
  if (Array.isArray(env)) return Object.fromEntries(env.map((e) => String(e).split(/=(.*)/s).slice(0, 2) as [string, string]));
  return isObj(env) ? Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)])) : {};
}

function dependsOn(service: Obj): Record<string, Obj> {
  const deps = service.depends_on;
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [String(d), { condition: 'service_started' }]));
  return isObj(deps) ? Object.fromEntries(Object.entries(deps).map(([k, v]) => [k, isObj(v) ? v : {}])) : {};
}

function volumeSource(entry: Json): string | undefined {
  if (typeof entry === 'string') {
    // The short syntax `source:target[:mode]`; a source may hold `${VAR:-default}`.
    const parts = entry.split(/:(?![^{]*\})/);
    return parts.length > 1 ? parts[0] : undefined;
  }
  return isObj(entry) && typeof entry.source === 'string' ? entry.source : undefined;
}

/** The reasons the model is not sound; empty when it is. */
export function composeProblems(model: ComposeModel, ctx: CheckContext): string[] {
  const problems: string[] = [];
  const names = new Set(Object.keys(model.services));
  const usedVolumes = new Set<string>();
  const usedNetworks = new Set<string>();
  const hostPath = (what: string, raw: string): void => {
    const path = withDefaults(raw);
    if (path === undefined) {
      for (const [, name] of raw.matchAll(/\$\{([A-Za-z_]\w*):?\?/g)) if (!ctx.docs.includes(name ?? '')) problems.push(`${what}: ${raw} comes from ${name}, which docs/deploy.md does not name`);
      return;
    }
    const abs = resolve(ctx.composeDir, path);
    const rel = relative(ctx.root, abs);
    if (rel.startsWith('..')) problems.push(`${what}: ${raw} lies outside the repository`);
    else if (!existsSync(abs)) problems.push(`${what}: ${raw} does not exist (${rel})`);
  };

  for (const text of Object.values(model.services).flatMap((s) => strings(s))) {
    for (const m of text.replace(/\$\$/g, '').matchAll(interpolation)) {
      const [whole, braced, op, , bare] = m;
      const name = braced ?? bare ?? '';
      if (op && !op.endsWith('?')) continue;
      if (!ctx.docs.includes(name)) problems.push(`variable ${whole} has no default and docs/deploy.md does not name ${name}`);
    }
  }

  for (const [name, service] of Object.entries(model.services)) {
    const at = `service ${name}`;
    const image = typeof service.image === 'string' ? withDefaults(service.image) : undefined;
    if (!image) problems.push(`${at}: no image, or one without a default`);
    else {
      const digest = image.includes('@sha256:');
      const tag = /:([^/:@]+)$/.exec(image)?.[1];
      if (!digest && (!tag || tag === 'latest')) problems.push(`${at}: image ${image} is not pinned to a version`);
      if (image.startsWith(`${ctx.platformImage.repository}:`) && tag !== ctx.platformImage.version) problems.push(`${at}: image ${image} is not the package version ${ctx.platformImage.version}`);
    }
    const build = service.build;
    if (build !== undefined) {
      const context = typeof build === 'string' ? build : isObj(build) && typeof build.context === 'string' ? build.context : '.';
      hostPath(`${at} build context`, context);
      const dockerfile = isObj(build) && typeof build.dockerfile === 'string' ? build.dockerfile : 'Dockerfile';
      hostPath(`${at} build dockerfile`, join(context, dockerfile));
    }
    for (const [dep, spec] of Object.entries(dependsOn(service))) {
      if (!names.has(dep)) problems.push(`${at}: depends_on ${dep}, which is not a service`);
      else if (spec.condition === 'service_healthy') {
        const hc = model.services[dep]?.healthcheck;
        if (!isObj(hc) || hc.disable === true || hc.test === undefined) problems.push(`${at}: waits for ${dep} to be healthy, but ${dep} has no healthcheck`);
      }
    }
    for (const entry of Array.isArray(service.volumes) ? service.volumes : []) {
      const source = volumeSource(entry);
      if (source === undefined) continue;
      const bind = (isObj(entry) && entry.type === 'bind') || /^[./~$]/.test(source) || source.includes('/');
      if (bind) hostPath(`${at} volume`, source);
      else {
        usedVolumes.add(source);
        if (!(source in model.volumes)) problems.push(`${at}: volume ${source} is not declared under volumes:`);
      }
    }
    for (const secret of Array.isArray(service.secrets) ? service.secrets : []) {
      const ref = isObj(secret) ? String(secret.source) : String(secret);
      if (!(ref in model.secrets)) problems.push(`${at}: secret ${ref} is not declared under secrets:`);
    }
    const networks = Array.isArray(service.networks) ? service.networks.map(String) : isObj(service.networks) ? Object.keys(service.networks) : ['default'];
    for (const n of networks) {
      usedNetworks.add(n);
      if (!(n in model.networks)) problems.push(`${at}: network ${n} is not declared under networks:`);
    }
    for (const profile of Array.isArray(service.profiles) ? service.profiles.map(String) : []) {
      if (!ctx.knownProfiles.includes(profile)) problems.push(`${at}: unknown profile ${profile}`);
    }
    // Platform services: what their command reads must be set, and what is set must be read.
    const command = Array.isArray(service.command) ? service.command.map(String) : [];
    if (image?.startsWith(`${ctx.platformImage.repository}:`)) {
      const env = envOf(service);
      const requirements = ctx.requirements.get(command[0] ?? '');
      if (!requirements) problems.push(`${at}: command ${command[0] ?? '(none)'} is not an aiops command`);
      for (const r of requirements ?? []) {
        if (r.name in env || (r.flag && command.includes(`--${r.flag}`))) continue;
        problems.push(`${at}: ${r.name} is read without a default (${r.file}) and is not set${r.flag ? ` (nor --${r.flag} given)` : ''}`);
      }
      for (const v of Object.keys(env).filter((k) => k.startsWith('AIOPS_'))) {
        if (!ctx.knownVariables.has(v) && !ctx.knownVariables.has(v.replace(/_FILE$/, ''))) problems.push(`${at}: sets ${v}, which the platform's code never reads`);
      }
    }
  }
  for (const [name, secret] of Object.entries(model.secrets)) {
    if (isObj(secret) && typeof secret.file === 'string') hostPath(`secret ${name}`, secret.file);
  }
  for (const v of Object.keys(model.volumes)) if (!usedVolumes.has(v)) problems.push(`volume ${v} is declared but no service mounts it`);
  for (const n of Object.keys(model.networks)) if (!usedNetworks.has(n)) problems.push(`network ${n} is declared but no service joins it`);
  return [...new Set(problems)];
}

// --- what the platform's code reads ------------------------------------------------------------

/** The folders of the platform's code (stack/ is tooling that runs only on a developer machine). */
export const platformDirs = ['cli', 'runtime', 'processors', 'sinks', 'producers', 'schemas'];

function sourceFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
    }
  };
  for (const d of platformDirs) if (existsSync(join(root, d))) walk(join(root, d));
  return out;
}

/** Every AIOPS_* name mentioned in the platform's code. */
export function knownVariables(root: string): Set<string> {
  const names = new Set<string>();
  for (const file of sourceFiles(root)) for (const [name] of readFileSync(file, 'utf8').matchAll(/\bAIOPS_[A-Z0-9_]*[A-Z0-9]\b/g)) names.add(name);
  return names;
}

function imports(file: string, text: string): string[] {
  const specs = [...text.matchAll(/\bfrom\s+'(\.[^']+)'|\bimport\(\s*'(\.[^']+)'\s*\)/g)].map((m) => m[1] ?? m[2] ?? '');
  return specs.map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts'))).filter((p) => existsSync(p));
}

type ReadKind = 'default' | 'tested' | 'throws' | 'plain';

/**
 * How one read of `env.NAME` treats a missing value: a default (`?? x`), a test (`? :`, `if`,
 * `=== undefined`, an argument the callee checks), a throw (`if (!env.X) throw`), or none.
 * A read given to a local constant is judged by how that constant is used.
 */
function readKind(text: string, index: number, length: number): { kind: ReadKind; flag?: string } {
  let before = text.slice(Math.max(0, index - 200), index);
  const after = text.slice(index + length, index + length + 200);
  const flagMatch = /values(?:\.(\w+)|\[['"]([\w-]+)['"]\])\s*\?\?\s*$/.exec(before);
  const flag = flagMatch ? (flagMatch[1] ?? flagMatch[2]) : undefined;
  if (flagMatch) before = before.slice(0, flagMatch.index);
  const result = (kind: ReadKind): { kind: ReadKind; flag?: string } => (flag && kind !== 'default' && kind !== 'tested' ? { kind, flag } : { kind });
  if (/^\s*(\?\?|\|\|)/.test(after)) return result('default');
  if (/^\s*(\?(?![.?])|&&|[!=]==?)/.test(after)) return result('tested');
  if (/!\s*$/.test(before)) return result(/if\s*\(\s*!\s*$/.test(before) && /^\s*\)\s*(?:throw\b|problems\.push)/.test(after) ? 'throws' : 'tested');
  if (/(?:[(,]|\$\{)\s*$/.test(before)) return result('tested');
  const local = /(?:const|let)\s+(\w+)\s*=\s*$/.exec(before)?.[1];
  if (local) {
    // Lines that report a problem or throw are where a missing value ends; others that test it go on without it.
    const lines = text.split('\n');
    const reports = (line: string): boolean => /\bthrow\b|problems\.push/.test(line);
    if (lines.some((l) => reports(l) && new RegExp(`!${local}\\b`).test(l))) return result('throws');
    const test = new RegExp(`\\b${local}\\s*(?:[!=]==?\\s*undefined|\\?(?![.])|&&)|if\\s*\\(\\s*!?${local}\\b`);
    return result(lines.some((l) => !reports(l) && test.test(l)) ? 'tested' : 'plain');
  }
  return result('plain');
}

/**
 * Per `aiops` command (from cli/main.ts), the AIOPS_* variables its code reads without a
 * default: the modules it reaches through imports, in the platform's folders, read
 * `env.AIOPS_*` (or `process.env.AIOPS_*`). A variable named for another command's component
 * (`AIOPS_EVALUATE_*` in a file ingest shares with evaluate, `AIOPS_GRAFANA_*` in the sink module
 * `topics` imports a topic name from) is that command's.
 */
export function commandRequirements(root: string): Map<string, EnvRequirement[]> {
  const main = readFileSync(join(root, 'cli/main.ts'), 'utf8');
  const moduleOf = new Map<string, string>();
  for (const [, names, spec] of main.matchAll(/import\s*\{([^}]+)\}\s*from\s*'(\.[^']+)'/g)) {
    for (const n of (names ?? '').split(',')) moduleOf.set(n.trim(), resolve(root, 'cli', (spec ?? '').replace(/\.js$/, '.ts')));
  }
  const commands = [...main.matchAll(/case '([\w-]+)':\s*return (\w+)\(/g)].map(([, command, fn]) => ({ command: command ?? '', module: moduleOf.get(fn ?? '') }));
  // AIOPS_<COMPONENT>_<KEY>: the components each command owns (the sinks own their targets').
  const components = new Map<string, readonly string[]>([
    ['ingest', ['INGEST']],
    ['evaluate', ['EVALUATE']],
    ['sinks', ['SINKS', 'ALERTMANAGER', 'GRAFANA', 'INFLUXDB']],
    ['demo-app', ['DEMO']],
    ['loadgen', ['LOADGEN']],
    ['topics', ['TOPICS']],
  ]);
  const inPlatform = (file: string): boolean => platformDirs.some((d) => relative(join(root, d), file).split(/[\\/]/)[0] !== '..');
  const out = new Map<string, EnvRequirement[]>();
  for (const { command, module } of commands) {
    if (!module) continue;
    const own = components.get(command) ?? [];
    const others = [...components.values()].flat().filter((c) => !own.includes(c));
    const seen = new Set<string>();
    const queue = [module];
    const found = new Map<string, EnvRequirement>();
    while (queue.length > 0) {
      const file = queue.pop() as string;
      if (seen.has(file) || !inPlatform(file)) continue;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      queue.push(...imports(file, text));
      // Per variable in this file: required if a read throws without it, or if it is only ever
      // used plainly (never defaulted or tested first).
      const reads = new Map<string, { kinds: Set<ReadKind>; flag?: string }>();
      for (const m of text.matchAll(/\b(?:process\.)?env\??\.(AIOPS_[A-Z0-9_]+)\b|\benv\[['"](AIOPS_[A-Z0-9_]+)['"]\]/g)) {
        const name = m[1] ?? m[2] ?? '';
        if (others.some((c) => name.startsWith(`AIOPS_${c}_`))) continue;
        const { kind, flag } = readKind(text, m.index, m[0].length);
        const entry = reads.get(name) ?? { kinds: new Set<ReadKind>() };
        entry.kinds.add(kind);
        if (flag) entry.flag = flag;
        reads.set(name, entry);
      }
      for (const [name, { kinds, flag }] of reads) {
        const required = kinds.has('throws') || (kinds.has('plain') && !kinds.has('default') && !kinds.has('tested'));
        if (required && !found.has(name)) found.set(name, { name, file: relative(root, file), ...(flag ? { flag } : {}) });
      }
    }
    out.set(command, [...found.values()]);
  }
  return out;
}
