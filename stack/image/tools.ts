import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { StackConfig } from '../config.js';
import { requireTool, runLogged, which } from '../install.js';
import { aiopsError } from '../../runtime/errors.js';

type Log = (line: string) => void;

/** The programs the image work runs, each with the Debian package that carries it. */
export const imageTools = Object.freeze({
  mmdebstrap: 'mmdebstrap',
  umoci: 'umoci',
  buildah: 'buildah',
  runc: 'runc',
  skopeo: 'skopeo',
  ip: 'iproute2',
});
export type ImageTool = keyof typeof imageTools;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A tool on PATH, or in the sbin folders a non-login PATH may lack. */
function locate(tool: string): string | undefined {
  return which(tool) ?? ['/usr/sbin', '/sbin', '/usr/bin'].map((d) => join(d, tool)).find(executable);
}

/** Lock file every apt-get run on the machine takes, so concurrent installs wait for each other. */
export const aptLock = '/tmp/aiops-apt.lock';

/**
 * Installs the Debian packages of the tools that are missing (`apt-get install` under the apt
 * lock, once; `apt-get update` first when the package lists are empty or stale) and returns
 * each tool's path. These tools need root anyway (chroot, mounts, namespaces), so a system
 * install is no extra demand; a missing tool on a machine without root is named clearly.
 */
export async function ensureImageTools(config: StackConfig, log: Log, wanted: readonly ImageTool[] = Object.keys(imageTools) as ImageTool[]): Promise<Record<ImageTool, string>> {
  const missing = wanted.filter((t) => !locate(t));
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((t) => imageTools[t]))];
    if (process.getuid?.() !== 0) throw aiopsError('STACK_PREREQUISITE_MISSING', [missing.join(', '), `the image is built and run with them; install the Debian packages ${packages.join(' ')} (needs root)`]);
    const flock = requireTool('flock', 'apt-get runs under a lock shared with other installs');
    const logFile = join(config.logDir, 'install-image-tools.log');
    const install = ['-w', '900', aptLock, 'apt-get', 'install', '-y', '--no-install-recommends', ...packages];
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    log(`installing the Debian packages ${packages.join(', ')}`);
    try {
      await runLogged(flock, install, { logFile, what: packages.join(' '), env });
    } catch {
      log('apt-get install failed; running apt-get update once and retrying');
      await runLogged(flock, ['-w', '900', aptLock, 'apt-get', 'update'], { logFile, what: 'apt-get update', env });
      await runLogged(flock, install, { logFile, what: packages.join(' '), env });
    }
  }
  const paths = {} as Record<ImageTool, string>;
  for (const t of wanted) {
    const found = locate(t);
    if (!found) throw aiopsError('STACK_PREREQUISITE_MISSING', [t, `the Debian package ${imageTools[t]} was installed but ${t} is not on PATH`]);
    paths[t] = found;
  }
  return paths;
}
