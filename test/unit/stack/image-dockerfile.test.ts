import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../../stack/config.js';
import { ensureTool } from '../../../stack/tools.js';

const run = promisify(execFile);
const dockerfile = readFileSync(join(projectRoot, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(join(projectRoot, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

/** Instructions with continuation lines joined, comments dropped. */
function instructions(text: string): { op: string; args: string }[] {
  const joined = text.replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op = '', ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

/** The instructions of the stage that starts at `FROM … AS name`. */
function stage(name: string): { op: string; args: string }[] {
  const all = instructions(dockerfile);
  const start = all.findIndex((i) => i.op === 'FROM' && new RegExp(`\\bAS ${name}$`, 'i').test(i.args));
  if (start < 0) throw new Error(`no stage ${name}`);
  const next = all.findIndex((i, k) => k > start && i.op === 'FROM');
  return all.slice(start, next < 0 ? undefined : next);
}

describe('Dockerfile', () => {
  it('is clean under hadolint', async () => {
    const hadolint = await ensureTool('hadolint');
    const result = await run(hadolint, ['--no-color', join(projectRoot, 'Dockerfile')]).catch((error: { stdout?: string; code?: number }) => error);
    expect('stdout' in result ? result.stdout : '').toBe('');
  }, 300_000);

  it('builds in stages: compile, production dependencies with the kafkajs patch, a runtime on Node.js 24 LTS', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
    const froms = instructions(dockerfile).filter((i) => i.op === 'FROM');
    expect(froms.map((f) => f.args)).toEqual(['${NODE_IMAGE} AS build', '${NODE_IMAGE} AS prod-deps', '${NODE_IMAGE} AS runtime']);
    expect(stage('build').some((i) => i.op === 'RUN' && /npm ci\b/.test(i.args) && !/--omit=dev/.test(i.args))).toBe(true);
    expect(stage('build').some((i) => i.op === 'RUN' && /npm run build/.test(i.args))).toBe(true);
    const prod = stage('prod-deps');
    // postinstall (patch-package) needs patches/ in place before npm ci, and patch-package in dependencies.
    const copyPatches = prod.findIndex((i) => i.op === 'COPY' && /^patches\b/.test(i.args));
    const ci = prod.findIndex((i) => i.op === 'RUN' && /npm ci .*--omit=dev/.test(i.args));
    expect(copyPatches).toBeGreaterThan(0);
    expect(ci).toBeGreaterThan(copyPatches);
    expect(prod[ci]?.args).not.toMatch(/--ignore-scripts/);
    const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string>; dependencies: Record<string, string> };
    expect(pkg.scripts.postinstall).toBe('patch-package');
    expect(pkg.dependencies).toHaveProperty('patch-package');
  });

  it('runs as 10001 with the agreed entrypoint, environment, ports, stop signal and OCI labels', () => {
    const runtime = stage('runtime');
    const last = (op: string): string | undefined => runtime.filter((i) => i.op === op).at(-1)?.args;
    expect(last('USER')).toBe('10001:10001');
    expect(last('WORKDIR')).toBe('/app');
    expect(last('ENTRYPOINT')).toBe('["node", "/app/bin/aiops.js"]');
    expect(last('CMD')).toBe('["--help"]');
    expect(last('STOPSIGNAL')).toBe('SIGTERM');
    expect(last('HEALTHCHECK')).toBe('NONE');
    expect(last('EXPOSE')?.split(' ').sort()).toEqual(['8080', '9464', '9465', '9466']);
    const env = runtime.filter((i) => i.op === 'ENV').map((i) => i.args).join(' ');
    expect(env).toMatch(/\bNODE_ENV=production\b/);
    expect(env).toMatch(/\bAIOPS_HTTP_HOST=0\.0\.0\.0\b/);
    const labels = runtime.filter((i) => i.op === 'LABEL').map((i) => i.args).join(' ');
    for (const key of ['title', 'description', 'source', 'licenses', 'version', 'revision', 'created']) expect(labels).toContain(`org.opencontainers.image.${key}=`);
    for (const arg of ['VERSION', 'REVISION', 'CREATED']) expect(runtime.some((i) => i.op === 'ARG' && i.args.startsWith(arg))).toBe(true);
    expect(runtime.some((i) => i.op === 'RUN' && /useradd .*--uid 10001/.test(i.args) && /groupadd .*--gid 10001/.test(i.args))).toBe(true);
  });

  it('keeps the run-time files the code reads and leaves out what the build does not need', () => {
    const build = stage('build').find((i) => i.op === 'RUN' && /npm run build/.test(i.args))?.args ?? '';
    // What the code reads from the package root at run time (runtime/package-root.ts).
    for (const dir of ['dist', 'bin', 'compose', 'slo', 'package.json']) expect(build).toContain(` ${dir}`);
    expect(build).toContain('schemas/*.avsc');
    for (const dir of ['compose/aiops', 'slo/demo', 'schemas', 'bin/aiops.js']) expect(existsSync(join(projectRoot, dir)), dir).toBe(true);
    for (const excluded of ['.git', '.aiops', 'node_modules', 'dist', 'test']) expect(dockerignore).toContain(excluded);
    // The build compiles these; none may be ignored.
    for (const needed of ['cli', 'runtime', 'schemas', 'producers', 'processors', 'sinks', 'stack', 'grafana', 'patches', 'tsconfig.build.json']) expect(dockerignore).not.toContain(needed);
  });
});
