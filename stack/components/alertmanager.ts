import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { aiopsError } from '../../runtime/errors.js';
import { projectRoot, versions } from '../config.js';
import type { StackConfig } from '../config.js';
import { cachedDebian, unpackDebian } from '../debian.js';
import { httpProbe } from '../probes.js';
import type { StackComponent } from '../types.js';

/** The shared configuration; AIOPS_STACK_ALERTMANAGER_CONFIG points the local stack at another. */
export function alertmanagerConfigFile(): string {
  return process.env.AIOPS_STACK_ALERTMANAGER_CONFIG ?? join(projectRoot, 'compose/alertmanager/alertmanager.yml');
}

function packageRoot(config: StackConfig): string {
  const root = cachedDebian(config, versions.alertmanagerDeb);
  if (!root) throw new Error('alertmanager is not installed; run `aiops stack up`');
  return root;
}

/**
 * Debian's build reads its notification templates from this fixed path (there is no flag for
 * it). When the package is not installed system-wide, the same files from the unpacked package
 * are put there: what `dpkg -i` would place, and nothing else.
 */
export const debianTemplateDir = '/usr/share/prometheus/alertmanager';

function ensureTemplates(root: string): void {
  for (const file of ['default.tmpl', 'email.tmpl']) {
    const target = join(debianTemplateDir, file);
    if (existsSync(target)) continue;
    try {
      mkdirSync(debianTemplateDir, { recursive: true });
      copyFileSync(join(root, debianTemplateDir, file), target);
    } catch (error) {
      throw aiopsError(
        'STACK_INSTALL_FAILED',
        ['Alertmanager', `its templates must be at ${target} (${(error as Error).message}); run as root once or apt-get install prometheus-alertmanager`, '-'],
        error,
      );
    }
  }
}

export const alertmanager: StackComponent = {
  name: 'alertmanager',
  title: 'Alertmanager',
  startTimeoutMs: 30_000,

  async install(config, log) {
    ensureTemplates(await unpackDebian(config, versions.alertmanagerDeb, log));
  },

  async prepare(config) {
    const storage = join(config.dataDir, 'alertmanager');
    mkdirSync(storage, { recursive: true });
    return {
      command: join(packageRoot(config), 'usr/bin/prometheus-alertmanager'),
      args: [
        `--web.ui-path=${join(packageRoot(config), debianTemplateDir, 'no-ui')}/`,
        `--config.file=${alertmanagerConfigFile()}`,
        `--storage.path=${storage}`,
        `--web.listen-address=${config.host}:${config.ports.alertmanager.http}`,
        // Clustering off: its default port 9094 is Kafka's controller port here.
        '--cluster.listen-address=',
      ],
    };
  },

  probe(config) {
    return httpProbe(`http://${config.host}:${config.ports.alertmanager.http}/-/ready`);
  },

  addresses(config) {
    return { http: `http://${config.host}:${config.ports.alertmanager.http}` };
  },

  ports(config) {
    return [config.ports.alertmanager.http];
  },
};
