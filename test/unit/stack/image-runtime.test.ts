import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostDebianMirrors, mmdebstrapArgs } from '../../../stack/image/base.js';
import { hardenedSpec } from '../../../stack/image/runc.js';
import type { RuntimeSpec } from '../../../stack/image/runc.js';

/** The shape of the config.json umoci writes from the image's configuration. */
function umociSpec(): RuntimeSpec {
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: true,
      user: { uid: 10001, gid: 10001 },
      args: ['node', '/app/bin/aiops.js', '--help'],
      env: ['PATH=/usr/local/bin:/usr/bin', 'NODE_ENV=production', 'AIOPS_HTTP_HOST=0.0.0.0'],
      cwd: '/app',
      capabilities: { bounding: ['CAP_CHOWN', 'CAP_NET_BIND_SERVICE'], effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN'], inheritable: [], ambient: [] },
      noNewPrivileges: false,
    },
    root: { path: 'rootfs' },
    hostname: 'umoci-default',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/tmp', type: 'bind', source: '/tmp', options: ['rbind'] },
    ],
    linux: { namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'mount' }] },
  };
}

describe('hardenedSpec', () => {
  it('keeps the image user and entrypoint, puts the command after it and the extra env over the image env', () => {
    const spec = hardenedSpec(umociSpec(), { entrypoint: ['node', '/app/bin/aiops.js'], args: ['ingest'], env: { AIOPS_KAFKA_BROKERS: '10.203.0.1:9096', NODE_ENV: 'test' } });
    expect(spec.process.user).toEqual({ uid: 10001, gid: 10001 });
    expect(spec.process.args).toEqual(['node', '/app/bin/aiops.js', 'ingest']);
    expect(spec.process.cwd).toBe('/app');
    expect(spec.process.env).toEqual(['PATH=/usr/local/bin:/usr/bin', 'NODE_ENV=test', 'AIOPS_HTTP_HOST=0.0.0.0', 'AIOPS_KAFKA_BROKERS=10.203.0.1:9096']);
    expect(spec.process.terminal).toBe(false);
  });

  it('makes the root read-only, /tmp a tmpfs, drops every capability and sets no-new-privileges', () => {
    const spec = hardenedSpec(umociSpec(), { rootfs: '/b/rootfs' });
    expect(spec.root).toEqual({ path: '/b/rootfs', readonly: true });
    expect(spec.mounts.filter((m) => m.destination === '/tmp')).toEqual([{ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'mode=1777', 'size=64m'] }]);
    expect(Object.values(spec.process.capabilities ?? { x: ['missing'] }).flat()).toEqual([]);
    expect(spec.process.noNewPrivileges).toBe(true);
    expect(spec.process.args).toEqual(['node', '/app/bin/aiops.js', '--help']);
  });

  it('joins the given network namespace by path, or shares the host network without one', () => {
    const pod = hardenedSpec(umociSpec(), { netns: '/var/run/netns/aiops-pod' });
    expect(pod.linux.namespaces).toEqual([{ type: 'pid' }, { type: 'mount' }, { type: 'network', path: '/var/run/netns/aiops-pod' }]);
    const host = hardenedSpec(umociSpec(), {});
    expect(host.linux.namespaces.some((n) => n.type === 'network')).toBe(false);
  });
});

describe('base image recipe', () => {
  it('takes the Debian mirrors from one-line and deb822 apt sources', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aiops-apt-'));
    writeFileSync(join(dir, 'debian.sources'), 'Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm\n\nTypes: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n');
    writeFileSync(join(dir, 'old.list'), '# deb http://ignored.example/debian bookworm main\n');
    expect(hostDebianMirrors([join(dir, 'debian.sources'), join(dir, 'old.list')])).toEqual({ main: 'http://mirror.example/debian', security: 'http://mirror.example/debian-security' });
    writeFileSync(join(dir, 'one.list'), 'deb [arch=amd64] http://one.example/debian bookworm main\n');
    expect(hostDebianMirrors([join(dir, 'one.list')])).toEqual({ main: 'http://one.example/debian', security: 'http://deb.debian.org/debian-security' });
    expect(hostDebianMirrors([])).toEqual({ main: 'http://deb.debian.org/debian', security: 'http://deb.debian.org/debian-security' });
  });

  it('asks mmdebstrap for a slim bookworm minbase with updates and security', () => {
    const args = mmdebstrapArgs('/x/rootfs.tar', { main: 'http://m/debian', security: 'http://m/debian-security' });
    expect(args).toContain('--variant=minbase');
    expect(args).toContain('--dpkgopt=path-exclude=/usr/share/doc/*');
    expect(args.slice(-5)).toEqual(['bookworm', '/x/rootfs.tar', 'deb http://m/debian bookworm main', 'deb http://m/debian bookworm-updates main', 'deb http://m/debian-security bookworm-security main']);
  });
});
