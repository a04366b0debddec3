import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot, versions } from '../config.js';
import type { StackConfig } from '../config.js';
import { fileHash, isComplete, markComplete, requireTool, runLogged, withInstallLock } from '../install.js';
import { httpProbe } from '../probes.js';
import type { StackComponent } from '../types.js';
import { securityFiles, stackCredentials } from './kafka-security.js';

const manifest = join(projectRoot, 'stack/otelcol/builder-config.yaml');
export const otelcolConfigFile = join(projectRoot, 'compose/otelcol/config.yaml');

/** Overlays merged over the base config (`--config` in order) for the Kafka exporter's security. */
export const otelcolKafkaOverlays = Object.freeze({
  tls: join(projectRoot, 'compose/otelcol/kafka-tls.yaml'),
  sasl: join(projectRoot, 'compose/otelcol/kafka-sasl.yaml'),
});

/** Overlay adding the prometheus receiver, scraping AIOPS_OTELCOL_SCRAPE_TARGETS into the metrics path. */
export const otelcolPrometheusReceiverOverlay = join(projectRoot, 'compose/otelcol/prometheus-receiver.yaml');

/** The config files, base first, for a Kafka security protocol (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL). */
export function otelcolConfigFiles(securityProtocol: string): string[] {
  const protocol = securityProtocol.toUpperCase();
  return [
    otelcolConfigFile,
    ...(protocol === 'SSL' || protocol === 'SASL_SSL' ? [otelcolKafkaOverlays.tls] : []),
    ...(protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL' ? [otelcolKafkaOverlays.sasl] : []),
  ];
}

/**
 * How the local stack's collector reaches Kafka: AIOPS_STACK_OTELCOL_KAFKA_SECURITY=SASL_SSL exports
 * over the SASL_SSL listener (the stack's CA, its user, SCRAM-SHA-512); PLAINTEXT (default) as before.
 */
export function otelcolKafkaSecurity(env: NodeJS.ProcessEnv = process.env): 'PLAINTEXT' | 'SASL_SSL' {
  const value = (env.AIOPS_STACK_OTELCOL_KAFKA_SECURITY ?? 'PLAINTEXT').toUpperCase();
  if (value !== 'PLAINTEXT' && value !== 'SASL_SSL') throw new Error(`AIOPS_STACK_OTELCOL_KAFKA_SECURITY=${value}: expected PLAINTEXT or SASL_SSL`);
  return value;
}

function buildDir(config: StackConfig): string {
  return join(config.cacheDir, 'otelcol', fileHash(manifest));
}

export function otelcolBinary(config: StackConfig): string {
  return join(buildDir(config), 'aiops-otelcol');
}

/** The OpenTelemetry Collector Builder, installed from the Go module proxy into the cache. */
async function ensureBuilder(config: StackConfig, logFile: string): Promise<string> {
  const dir = join(config.cacheDir, 'tools', `ocb-${versions.otelcolBuilder}`);
  const binary = join(dir, 'builder');
  if (isComplete(dir)) return binary;
  requireTool('go', 'the collector is built with the OpenTelemetry Collector Builder');
  await runLogged('go', ['install', `go.opentelemetry.io/collector/cmd/builder@${versions.otelcolBuilder}`], {
    env: { GOBIN: dir },
    logFile,
    what: 'OpenTelemetry Collector Builder',
  });
  markComplete(dir, `builder ${versions.otelcolBuilder}`);
  return binary;
}

/** Environment that points the shared collector config at the local stack's addresses. */
export function otelcolEnv(config: StackConfig, security: 'PLAINTEXT' | 'SASL_SSL' = 'PLAINTEXT'): Record<string, string> {
  const { host, ports } = config;
  const kafka: Record<string, string> =
    security === 'SASL_SSL'
      ? (() => {
          const credentials = stackCredentials(config);
          return {
            AIOPS_KAFKA_BROKERS: `${host}:${ports.kafka.saslSsl}`,
            AIOPS_KAFKA_SSL_CA_FILE: securityFiles(config).caFile,
            AIOPS_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
            AIOPS_KAFKA_SASL_USERNAME: credentials.username,
            AIOPS_KAFKA_SASL_PASSWORD: credentials.password,
          };
        })()
      : { AIOPS_KAFKA_BROKERS: `${host}:${ports.kafka.broker}` };
  return {
    ...kafka,
    AIOPS_OTELCOL_GRPC_ENDPOINT: `${host}:${ports.otelcol.grpc}`,
    AIOPS_OTELCOL_HTTP_ENDPOINT: `${host}:${ports.otelcol.http}`,
    AIOPS_OTELCOL_PROMETHEUS_ENDPOINT: `${host}:${ports.otelcol.prometheus}`,
    AIOPS_OTELCOL_HEALTH_ENDPOINT: `${host}:${ports.otelcol.health}`,
    AIOPS_OTELCOL_TELEMETRY_HOST: host,
    AIOPS_OTELCOL_TELEMETRY_PORT: String(ports.otelcol.telemetry),
    AIOPS_TRACES_OTLP_ENDPOINT: `${host}:${ports.jaeger.otlpGrpc}`,
  };
}

/** Builds the collector into `dir` (called under the install lock; another holder may have built it meanwhile). */
async function buildCollector(config: StackConfig, dir: string, log: (line: string) => void): Promise<void> {
  if (isComplete(dir)) return;
  const logFile = join(config.logDir, 'install-otelcol.log');
  log('building the OpenTelemetry Collector with the Collector Builder (a few minutes, once)');
  const builder = await ensureBuilder(config, logFile);
  const staging = `${dir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  // Same manifest, built into the cache instead of the manifest's own output_path.
  const text = readFileSync(manifest, 'utf8').replace(/^(\s*output_path:).*$/m, `$1 ${join(staging, 'src')}`);
  const stagedManifest = join(staging, 'builder-config.yaml');
  writeFileSync(stagedManifest, text);
  await runLogged(builder, ['--config', stagedManifest], { cwd: staging, logFile, what: 'OpenTelemetry Collector' });
  renameSync(join(staging, 'src', 'aiops-otelcol'), join(staging, 'aiops-otelcol'));
  rmSync(join(staging, 'src'), { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  markComplete(dir, `otelcol from ${manifest}`);
}

export const otelcol: StackComponent = {
  name: 'otelcol',
  title: 'OpenTelemetry Collector',
  startTimeoutMs: 30_000,

  async install(config, log) {
    const dir = buildDir(config);
    if (isComplete(dir)) return;
    await withInstallLock(dir, () => buildCollector(config, dir, log));
  },

  async prepare(config) {
    const security = otelcolKafkaSecurity();
    // Scrape targets given: the prometheus receiver overlay too.
    const files = [...otelcolConfigFiles(security), ...(process.env.AIOPS_OTELCOL_SCRAPE_TARGETS ? [otelcolPrometheusReceiverOverlay] : [])];
    return { command: otelcolBinary(config), args: files.flatMap((f) => ['--config', f]), env: otelcolEnv(config, security) };
  },

  probe(config) {
    return httpProbe(`http://${config.host}:${config.ports.otelcol.health}/`);
  },

  addresses(config) {
    const { host, ports } = config;
    return {
      otlpGrpc: `${host}:${ports.otelcol.grpc}`,
      otlpHttp: `http://${host}:${ports.otelcol.http}`,
      prometheusExporter: `http://${host}:${ports.otelcol.prometheus}/metrics`,
    };
  },

  ports(config) {
    const p = config.ports.otelcol;
    return [p.grpc, p.http, p.prometheus, p.health, p.telemetry];
  },
};
