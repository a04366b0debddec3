import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StackConfig } from '../config.js';
import { capture, isComplete, markComplete, runLogged } from '../install.js';
import { imageDir, readManifest } from './build.js';
import { ensureImageTools } from './tools.js';

type Log = (line: string) => void;

/** The parts of an OCI runtime configuration (runc's config.json) this module edits. */
export interface RuntimeSpec {
  process: {
    terminal?: boolean;
    user: { uid: number; gid: number; additionalGids?: number[] };
    args: string[];
    env: string[];
    cwd: string;
    capabilities?: Record<string, string[]>;
    noNewPrivileges?: boolean;
    rlimits?: unknown[];
  };
  root: { path: string; readonly?: boolean };
  hostname?: string;
  mounts: { destination: string; type: string; source: string; options?: string[] }[];
  linux: { namespaces: { type: string; path?: string }[]; [key: string]: unknown };
  [key: string]: unknown;
}

/**
 * Unpacks `tag` of an OCI layout into a runc bundle with umoci (rootfs/ and a config.json made
 * from the image's user, env, entrypoint and working directory). Bundles are kept by manifest
 * digest, so the same image unpacks once; a new build gets a new bundle.
 */
export async function unpackBundle(config: StackConfig, layout: string, tag: string, log: Log): Promise<string> {
  const { umoci } = await ensureImageTools(config, log, ['umoci']);
  const manifest = readManifest(layout, tag);
  const digest = manifest.config.digest.replace(/^sha256:/, '').slice(0, 16);
  const bundle = join(imageDir(config), `bundle-${digest}`);
  if (isComplete(bundle) && existsSync(join(bundle, 'config.json'))) return bundle;
  // Bundles of earlier builds (each the size of the image) are dropped when a new one is made.
  for (const old of readdirSync(imageDir(config)).filter((f) => f.startsWith('bundle-'))) rmSync(join(imageDir(config), old), { recursive: true, force: true });
  const staging = `${bundle}.partial`;
  rmSync(staging, { recursive: true, force: true });
  log(`unpacking ${tag} with umoci into ${bundle}`);
  await runLogged(umoci, ['unpack', '--image', `${layout}:${tag}`, staging], { logFile: join(config.logDir, 'image-run.log'), what: 'umoci unpack' });
  rmSync(bundle, { recursive: true, force: true });
  renameSync(staging, bundle);
  markComplete(bundle, `${layout}:${tag}`);
  return bundle;
}

export interface HardeningOptions {
  /** The image's entrypoint; `args` follow it (replacing the image's CMD). */
  readonly entrypoint?: readonly string[];
  readonly args?: readonly string[];
  /** Extra environment, over the image's. */
  readonly env?: Readonly<Record<string, string>>;
  /** Path of a network namespace to join (`/var/run/netns/<name>`); without it the container shares the host's network. */
  readonly netns?: string;
  /** Size of the tmpfs at /tmp. */
  readonly tmpSize?: string;
  /** Absolute path of the (shared, read-only) root filesystem. */
  readonly rootfs?: string;
  readonly hostname?: string;
}

/**
 * The runtime configuration a cluster would give the image (restricted pod security): the
 * image's own user (10001), a read-only root, a tmpfs at /tmp, every capability dropped, no new
 * privileges, and the image's env and entrypoint with `args` after it. Pure: the spec umoci
 * wrote goes in, the edited spec comes out.
 */
export function hardenedSpec(spec: RuntimeSpec, options: HardeningOptions): RuntimeSpec {
  const env = new Map(spec.process.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] as const));
  for (const [k, v] of Object.entries(options.env ?? {})) env.set(k, v);
  const namespaces = spec.linux.namespaces.filter((n) => n.type !== 'network');
  if (options.netns) namespaces.push({ type: 'network', path: options.netns });
  const mounts = spec.mounts.filter((m) => m.destination !== '/tmp');
  mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'mode=1777', `size=${options.tmpSize ?? '64m'}`] });
  const none = { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] };
  return {
    ...spec,
    process: {
      ...spec.process,
      terminal: false,
      args: options.args ? [...(options.entrypoint ?? []), ...options.args] : spec.process.args,
      env: [...env].map(([k, v]) => `${k}=${v}`),
      capabilities: none,
      noNewPrivileges: true,
    },
    root: { path: options.rootfs ?? spec.root.path, readonly: true },
    ...(options.hostname ? { hostname: options.hostname } : {}),
    mounts,
    linux: { ...spec.linux, namespaces },
  };
}

/**
 * Writes the configuration of one container over an unpacked bundle: `<bundle>/containers/<name>/
 * config.json`, its root the bundle's rootfs (read-only, so containers share it). Returns the
 * container's bundle folder for `runc run --bundle`.
 */
export function containerBundle(bundle: string, name: string, options: HardeningOptions): { dir: string; spec: RuntimeSpec } {
  const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as RuntimeSpec;
  const hardened = hardenedSpec(spec, { hostname: name, ...options, rootfs: join(bundle, 'rootfs') });
  const dir = join(bundle, 'containers', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(hardened, null, 2)}\n`);
  return { dir, spec: hardened };
}

/** A container started with `runc run` (foreground: the child's exit is the container process's). */
export interface RunningContainer {
  readonly id: string;
  /** The container process's exit code (null when a signal ended it), once it has ended. */
  readonly exited: Promise<number | null>;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
}

/** Starts a container from a bundle prepared by `containerBundle`, stdout and stderr captured. */
export function runContainer(runc: string, dir: string, id: string): RunningContainer {
  const child = spawn(runc, ['run', '--bundle', dir, id], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
  return { id, exited, output: () => out };
}

/** `runc state`: the container's status and the host pid of its process. */
export async function containerState(runc: string, id: string): Promise<{ status: string; pid: number }> {
  return JSON.parse(await capture(runc, ['state', id])) as { status: string; pid: number };
}

/** Force-removes every container whose id starts with `prefix` (leftovers of an interrupted run). */
export async function removeContainers(runc: string, prefix: string): Promise<string[]> {
  const ids = (await capture(runc, ['list', '--quiet']).catch(() => ''))
    .split('\n')
    .map((l) => l.trim())
    .filter((id) => id.startsWith(prefix));
  for (const id of ids) await capture(runc, ['delete', '--force', id]).catch(() => undefined);
  return ids;
}
