import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot, versions } from '../config.js';
import type { StackConfig } from '../config.js';
import { cachedDebian, unpackDebian } from '../debian.js';
import { httpProbe } from '../probes.js';
import type { StackComponent } from '../types.js';

const composeDir = join(projectRoot, 'compose/prometheus');

function binary(config: StackConfig, name: 'prometheus' | 'promtool'): string {
  const root = cachedDebian(config, versions.prometheusDeb);
  if (!root) throw new Error('prometheus is not installed; run `aiops stack up`');
  return join(root, 'usr/bin', name);
}

/** Path of `promtool` from the same Debian package, for rule checks. */
export function promtoolBinary(config: StackConfig): string {
  return binary(config, 'promtool');
}

/** Where the local Prometheus reads rule files from; `aiops slo rules --out` may write here. */
export function prometheusRulesDir(config: StackConfig): string {
  return join(config.runDir, 'prometheus', 'rules');
}

/**
 * Copies the shared rule files (compose/prometheus/rules/*.yml) into the run dir's rules folder.
 * Files others wrote there (`aiops slo rules --out`, tests) are left alone.
 */
export function copyPrometheusRules(config: StackConfig): string[] {
  const target = prometheusRulesDir(config);
  mkdirSync(target, { recursive: true });
  const files = readdirSync(join(composeDir, 'rules')).filter((f) => f.endsWith('.yml'));
  for (const file of files) copyFileSync(join(composeDir, 'rules', file), join(target, file));
  return files;
}

/**
 * Copies the shared prometheus.yml and rule files into the run dir and has the running
 * Prometheus reload them (`--web.enable-lifecycle`).
 */
export async function reloadPrometheusRules(config: StackConfig): Promise<void> {
  copyFileSync(join(composeDir, 'prometheus.yml'), join(config.runDir, 'prometheus', 'prometheus.yml'));
  copyPrometheusRules(config);
  const url = `http://${config.host}:${config.ports.prometheus.http}/-/reload`;
  const response = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`POST ${url} answered ${response.status}: ${(await response.text()).trim()}`);
}

/** The file_sd targets of the shared prometheus.yml, pointed at this host. */
export function prometheusTargets(config: StackConfig): Record<string, string[]> {
  const { host, ports } = config;
  return {
    'otel-collector': [`${host}:${ports.otelcol.prometheus}`],
    'otel-collector-telemetry': [`${host}:${ports.otelcol.telemetry}`],
    alertmanager: [`${host}:${ports.alertmanager.http}`],
    aiops: [`${host}:${ports.platform.ingest}`, `${host}:${ports.platform.evaluate}`, `${host}:${ports.platform.sinks}`],
    prometheus: [`${host}:${ports.prometheus.http}`],
  };
}

export const prometheus: StackComponent = {
  name: 'prometheus',
  title: 'Prometheus',
  startTimeoutMs: 30_000,

  async install(config, log) {
    await unpackDebian(config, versions.prometheusDeb, log);
  },

  async prepare(config) {
    const runDir = join(config.runDir, 'prometheus');
    mkdirSync(join(runDir, 'targets'), { recursive: true });
    copyFileSync(join(composeDir, 'prometheus.yml'), join(runDir, 'prometheus.yml'));
    copyPrometheusRules(config);
    for (const [job, targets] of Object.entries(prometheusTargets(config))) {
      writeFileSync(join(runDir, 'targets', `${job}.json`), JSON.stringify([{ targets }]) + '\n');
    }
    return {
      command: binary(config, 'prometheus'),
      args: [
        `--config.file=${join(runDir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(config.dataDir, 'prometheus')}`,
        `--web.listen-address=${config.host}:${config.ports.prometheus.http}`,
        '--web.enable-lifecycle',
        // Exponential histograms from OTel SDKs reach Prometheus as native histograms: the
        // collector's Prometheus exporter serves them in the protobuf exposition format, which
        // Prometheus 2.x asks for only with this flag (the SLO rules read them with histogram_fraction).
        '--enable-feature=native-histograms',
        '--storage.tsdb.retention.time=2d',
      ],
      cwd: runDir,
    };
  },

  // A Prometheus that is already running gets the current configuration and rule files (an
  // edit, or a checkout that added some) without a restart.
  refresh: reloadPrometheusRules,

  probe(config) {
    return httpProbe(`http://${config.host}:${config.ports.prometheus.http}/-/ready`);
  },

  addresses(config) {
    return { http: `http://${config.host}:${config.ports.prometheus.http}` };
  },

  ports(config) {
    return [config.ports.prometheus.http];
  },
};
