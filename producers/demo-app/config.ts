import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { aiopsError } from '../../runtime/errors.js';
import { demoRoutePatterns } from './routes.js';
import { parseSchedule } from './schedule.js';
import type { ScheduledFault } from './schedule.js';

/** Everything the demo app process needs to run. */
export interface DemoAppConfig {
  readonly port: number;
  readonly host: string;
  readonly serviceName: string;
  readonly otlpHttpEndpoint: string;
  readonly metricIntervalMs: number;
  readonly spanDelayMs: number;
  /** `/ready` answers 503 for this long after the server listens (a warm-up, for demos). */
  readonly readyDelayMs: number;
  readonly schedule: readonly ScheduledFault[];
  /** Bearer token `/admin/faults` requires; without one, the admin API is open on a loopback host and off elsewhere. */
  readonly faultsToken?: string;
  /** The inventory service orders reserve their items at; unset: the shop starts its own. */
  readonly inventoryUrl?: string;
}

/** Who may call `/admin/faults` (see DemoAppOptions.admin). */
export function demoAdminMode(config: Pick<DemoAppConfig, 'host' | 'faultsToken'>): { mode: 'open' } | { mode: 'off' } | { mode: 'token'; token: string } {
  if (config.faultsToken) return { mode: 'token', token: config.faultsToken };
  return isLoopback(config.host) ? { mode: 'open' } : { mode: 'off' };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

export const demoAppDefaults = {
  port: 8080,
  host: '127.0.0.1',
  serviceName: 'demo-app',
  otlpHttpEndpoint: 'http://127.0.0.1:4318',
  metricIntervalMs: 2_000,
  spanDelayMs: 1_000,
  readyDelayMs: 0,
} as const;

export const demoAppUsage = `usage: aiops demo-app [options]

Runs the instrumented demo app (Express + OpenTelemetry Node SDK) in the foreground; it sends
traces and metrics over OTLP/HTTP. On start it prints one JSON line {"event":"listening","url",...}.

options (environment variable in brackets):
  --port N                 port to listen on, 0 for a free one (default 8080) [AIOPS_DEMO_PORT]
  --host ADDR              address to listen on (default 127.0.0.1; the image: 0.0.0.0)
                           [AIOPS_DEMO_HOST, else AIOPS_HTTP_HOST]
  --service-name NAME      service.name of the telemetry (default demo-app) [OTEL_SERVICE_NAME]
  --otlp-endpoint URL      collector OTLP/HTTP base URL (default http://127.0.0.1:4318)
                           [OTEL_EXPORTER_OTLP_ENDPOINT]
  --metric-interval-ms N   metric export interval (default 2000) [OTEL_METRIC_EXPORT_INTERVAL]
  --span-delay-ms N        batch span export delay (default 1000) [OTEL_BSP_SCHEDULE_DELAY]
  --ready-delay-ms N       /ready answers 503 this long after start (default 0) [AIOPS_DEMO_READY_DELAY_MS]
  --schedule JSON|FILE     fault schedule: a JSON array, inline or in a file, of
                           {"atMs"|"cron", "route", "latencyMs"?, "jitterMs"?, "errorRate"?, "durationMs"}
                           [AIOPS_DEMO_FAULT_SCHEDULE]
  --inventory-url URL      the inventory service orders call (POST /api/reservations); default:
                           the app starts its own beside it on a free loopback port
                           [AIOPS_DEMO_INVENTORY_URL]

endpoints: GET /health, GET /ready, GET /api/users, GET /api/users/:id, POST /api/orders,
GET /api/checkout; faults: GET|PUT|DELETE /admin/faults, open on a loopback address, else only
with a bearer token [AIOPS_DEMO_FAULTS_TOKEN or AIOPS_DEMO_FAULTS_TOKEN_FILE], e.g.
  curl -X PUT localhost:8080/admin/faults -H 'content-type: application/json' \\
       -d '{"route":"/api/users","latencyMs":800,"errorRate":0}'
`;

function readSchedule(value: string): unknown {
  const text = value.trimStart().startsWith('[') ? value : readFileSync(value, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw aiopsError('CONFIG_INVALID', [`  - schedule: not valid JSON: ${(error as Error).message}`]);
  }
}

/**
 * Demo app configuration from flags, else the environment (the standard OTEL_* variables where
 * there is one), else defaults. Every problem is reported at once. Undefined for `--help`.
 */
export function parseDemoAppArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): DemoAppConfig | undefined {
  const options = {
    port: { type: 'string' },
    host: { type: 'string' },
    'service-name': { type: 'string' },
    'otlp-endpoint': { type: 'string' },
    'metric-interval-ms': { type: 'string' },
    'span-delay-ms': { type: 'string' },
    'ready-delay-ms': { type: 'string' },
    schedule: { type: 'string' },
    'inventory-url': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  } as const;
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  } catch (error) {
    throw aiopsError('CLI_USAGE', [`demo-app: ${(error as Error).message}\n\n${demoAppUsage}`]);
  }
  const { values } = parsed;
  if (values.help) return undefined;
  const problems: string[] = [];
  const integer = (name: string, raw: string | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) problems.push(`  - ${name}: expected an integer from ${min} to ${max}, got "${raw}"`);
    return n;
  };
  const port = integer('port', values.port ?? env.AIOPS_DEMO_PORT, demoAppDefaults.port, 0, 65_535);
  const metricIntervalMs = integer('metric-interval-ms', values['metric-interval-ms'] ?? env.OTEL_METRIC_EXPORT_INTERVAL, demoAppDefaults.metricIntervalMs, 100);
  const spanDelayMs = integer('span-delay-ms', values['span-delay-ms'] ?? env.OTEL_BSP_SCHEDULE_DELAY, demoAppDefaults.spanDelayMs, 1);
  const readyDelayMs = integer('ready-delay-ms', values['ready-delay-ms'] ?? env.AIOPS_DEMO_READY_DELAY_MS, demoAppDefaults.readyDelayMs, 0);
  const otlpHttpEndpoint = values['otlp-endpoint'] ?? env.OTEL_EXPORTER_OTLP_ENDPOINT ?? demoAppDefaults.otlpHttpEndpoint;
  if (!URL.canParse(otlpHttpEndpoint)) problems.push(`  - otlp-endpoint: expected a URL such as http://127.0.0.1:4318, got "${otlpHttpEndpoint}"`);
  const inventoryUrl = values['inventory-url'] ?? env.AIOPS_DEMO_INVENTORY_URL;
  if (inventoryUrl !== undefined && inventoryUrl !== '' && !URL.canParse(inventoryUrl)) problems.push(`  - inventory-url: expected a URL such as http://127.0.0.1:8081, got "${inventoryUrl}"`);
  const serviceName = values['service-name'] ?? env.OTEL_SERVICE_NAME ?? demoAppDefaults.serviceName;
  if (serviceName.trim() === '') problems.push('  - service-name: must not be empty');
  let schedule: ScheduledFault[] = [];
  const scheduleArg = values.schedule ?? env.AIOPS_DEMO_FAULT_SCHEDULE;
  if (scheduleArg) {
    try {
      schedule = parseSchedule(readSchedule(scheduleArg), demoRoutePatterns);
    } catch (error) {
      problems.push(`  - ${(error as Error).message.replace(/\n/g, '\n    ')}`);
    }
  }
  let faultsToken = env.AIOPS_DEMO_FAULTS_TOKEN;
  if (env.AIOPS_DEMO_FAULTS_TOKEN_FILE) {
    if (faultsToken) problems.push('  - AIOPS_DEMO_FAULTS_TOKEN and AIOPS_DEMO_FAULTS_TOKEN_FILE are both set: keep one');
    try {
      faultsToken = readFileSync(env.AIOPS_DEMO_FAULTS_TOKEN_FILE, 'utf8').trim();
    } catch (error) {
      problems.push(`  - AIOPS_DEMO_FAULTS_TOKEN_FILE: cannot read ${env.AIOPS_DEMO_FAULTS_TOKEN_FILE} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (faultsToken !== undefined && faultsToken.length > 0 && faultsToken.length < 16) problems.push('  - AIOPS_DEMO_FAULTS_TOKEN: use at least 16 characters');
  if (problems.length > 0) throw aiopsError('CONFIG_INVALID', [problems.join('\n')]);
  const host = values.host ?? env.AIOPS_DEMO_HOST ?? env.AIOPS_HTTP_HOST ?? demoAppDefaults.host;
  return { ...(faultsToken ? { faultsToken } : {}), ...(inventoryUrl ? { inventoryUrl } : {}), port, host, serviceName, otlpHttpEndpoint, metricIntervalMs, spanDelayMs, readyDelayMs, schedule };
}

/** The flags that give `config` back through `parseDemoAppArgs` (for a child process). */
export function demoAppArgs(config: Partial<DemoAppConfig>): string[] {
  const args: string[] = [];
  const add = (flag: string, value: string | number | undefined): void => {
    if (value !== undefined) args.push(`--${flag}`, String(value));
  };
  add('port', config.port);
  add('host', config.host);
  add('service-name', config.serviceName);
  add('otlp-endpoint', config.otlpHttpEndpoint);
  add('metric-interval-ms', config.metricIntervalMs);
  add('span-delay-ms', config.spanDelayMs);
  add('ready-delay-ms', config.readyDelayMs);
  if (config.schedule && config.schedule.length > 0) add('schedule', JSON.stringify(config.schedule));
  add('inventory-url', config.inventoryUrl);
  return args;
}
