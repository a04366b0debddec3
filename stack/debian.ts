import { readdirSync, renameSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { isComplete, markComplete, requireTool, runLogged } from './install.js';
import type { StackConfig } from './config.js';

/**
 * Unpacks a Debian package into the cache with `apt-get download` and `dpkg-deb -x`: the
 * binaries come from Debian's archive, but nothing is installed system-wide and no packaged
 * service is started. A cached package is reused as it is (delete its cache folder to take a
 * newer Debian revision). Returns the folder that holds the unpacked tree.
 */
export async function unpackDebian(config: StackConfig, pkg: string, log: (line: string) => void): Promise<string> {
  const cached = cachedDebian(config, pkg);
  if (cached) return cached;
  requireTool('apt-get', `${pkg} comes from Debian's packages`);
  requireTool('dpkg-deb', `${pkg} is unpacked with dpkg-deb`);
  const logFile = join(config.logDir, `install-${pkg}.log`);
  const staging = join(config.cacheDir, 'debian', `${pkg}.partial`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  log(`downloading the Debian package ${pkg}`);
  try {
    await runLogged('apt-get', ['download', pkg], { cwd: staging, logFile, what: pkg });
  } catch {
    // A fresh machine may have no package lists yet.
    log('apt-get download failed; running apt-get update once and retrying');
    await runLogged('apt-get', ['update'], { logFile, what: 'apt-get update' });
    await runLogged('apt-get', ['download', pkg], { cwd: staging, logFile, what: pkg });
  }
  const deb = readdirSync(staging).find((f) => f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${pkg} produced no .deb`);
  await runLogged('dpkg-deb', ['-x', deb, 'root'], { cwd: staging, logFile, what: pkg });
  const finalKey = deb.replace(/_amd64\.deb$|_all\.deb$|\.deb$/, '').replace(/^([^_]+)_([^_]+).*$/, '$1_$2').replace(/[^A-Za-z0-9._+~-]/g, '_');
  const dir = join(config.cacheDir, 'debian', finalKey);
  rmSync(join(staging, deb));
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  markComplete(dir, deb);
  return join(dir, 'root');
}

/** The unpacked tree of a package already in the cache (newest), or undefined. */
export function cachedDebian(config: StackConfig, pkg: string): string | undefined {
  const base = join(config.cacheDir, 'debian');
  let entries: string[] = [];
  try {
    entries = readdirSync(base);
  } catch {
    return undefined;
  }
  const hits = entries.filter((e) => e.startsWith(`${pkg}_`) && isComplete(join(base, e))).sort();
  const last = hits[hits.length - 1];
  return last ? join(base, last, 'root') : undefined;
}
