import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot, versions } from '../config.js';
import type { StackConfig } from '../config.js';
import { capture, isComplete, markComplete, requireTool, runLogged } from '../install.js';
import { httpProbe } from '../probes.js';
import type { StackComponent } from '../types.js';

export const jaegerConfigFile = join(projectRoot, 'compose/jaeger/config.yaml');

function installDir(config: StackConfig): string {
  return join(config.cacheDir, 'jaeger', versions.jaeger);
}

export const jaeger: StackComponent = {
  name: 'jaeger',
  title: 'Jaeger v2 (trace store)',
  startTimeoutMs: 30_000,

  async install(config, log) {
    const dir = installDir(config);
    if (isComplete(dir)) return;
    requireTool('go', 'Jaeger v2 is built from its Go module');
    const logFile = join(config.logDir, 'install-jaeger.log');
    log(`building Jaeger v2 (${versions.jaegerModule}@${versions.jaeger}) from the Go module proxy (a few minutes, once)`);
    // `go install module/cmd/jaeger@version` refuses modules whose go.mod has replace
    // directives, which Jaeger's has; building inside the downloaded module honours them.
    const info = JSON.parse(await capture('go', ['mod', 'download', '-json', `${versions.jaegerModule}@${versions.jaeger}`])) as { Dir?: string };
    if (!info.Dir) throw new Error('go mod download returned no module directory');
    const staging = `${dir}.partial`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    await runLogged('go', ['build', '-trimpath', '-o', join(staging, 'jaeger'), './cmd/jaeger'], {
      cwd: info.Dir,
      env: { GOFLAGS: '-mod=readonly', CGO_ENABLED: '0' },
      logFile,
      what: 'Jaeger v2',
    });
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
    markComplete(dir, `jaeger ${versions.jaeger}`);
  },

  async prepare(config) {
    const { host, ports } = config;
    return {
      command: join(installDir(config), 'jaeger'),
      args: ['--config', jaegerConfigFile],
      env: {
        // Jaeger traces itself to the default OTLP endpoint, which is the collector's here:
        // that loops its own spans back into it and stalls its shutdown when the collector is gone.
        OTEL_TRACES_EXPORTER: 'none',
        OTEL_SDK_DISABLED: 'true',
        AIOPS_JAEGER_OTLP_GRPC_ENDPOINT: `${host}:${ports.jaeger.otlpGrpc}`,
        AIOPS_JAEGER_OTLP_HTTP_ENDPOINT: `${host}:${ports.jaeger.otlpHttp}`,
        AIOPS_JAEGER_QUERY_HTTP_ENDPOINT: `${host}:${ports.jaeger.query}`,
        AIOPS_JAEGER_QUERY_GRPC_ENDPOINT: `${host}:${ports.jaeger.queryGrpc}`,
        AIOPS_JAEGER_HEALTH_ENDPOINT: `${host}:${ports.jaeger.health}`,
        AIOPS_JAEGER_TELEMETRY_HOST: host,
        AIOPS_JAEGER_TELEMETRY_PORT: String(ports.jaeger.telemetry),
      },
    };
  },

  probe(config) {
    return httpProbe(`http://${config.host}:${config.ports.jaeger.query}/api/services`);
  },

  addresses(config) {
    const { host, ports } = config;
    return { ui: `http://${host}:${ports.jaeger.query}`, otlpGrpc: `${host}:${ports.jaeger.otlpGrpc}` };
  },

  ports(config) {
    const p = config.ports.jaeger;
    return [p.query, p.queryGrpc, p.otlpGrpc, p.otlpHttp, p.health, p.telemetry];
  },
};
