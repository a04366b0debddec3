import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aiopsError } from '../runtime/errors.js';
import { sleep } from '../runtime/retry.js';
import { loadStackConfig } from './config.js';
import type { StackConfig } from './config.js';
import { alertmanager } from './components/alertmanager.js';
import { influxdb } from './components/influxdb.js';
import { jaeger } from './components/jaeger.js';
import { kafka } from './components/kafka.js';
import { otelcol } from './components/otelcol.js';
import { prometheus } from './components/prometheus.js';
import { isAlive, isRunning, readPidFile, removePidFile, startProcess, stopProcess } from './processes.js';
import { portOpen } from './probes.js';
import type { ComponentName, Health, StackComponent } from './types.js';

/** Every component, in start order: Kafka first (the collector exports to it), the collector last. */
export const components: readonly StackComponent[] = [kafka, jaeger, prometheus, alertmanager, influxdb, otelcol];

export function componentNamed(name: string): StackComponent {
  const found = components.find((c) => c.name === name);
  if (!found) throw aiopsError('STACK_UNKNOWN_COMPONENT', [name, components.map((c) => c.name).join(', ')]);
  return found;
}

export const logFileOf = (config: StackConfig, name: ComponentName): string => join(config.logDir, `${name}.log`);
const pidFileOf = (config: StackConfig, name: ComponentName): string => join(config.runDir, `${name}.pid`);

/** One component as `status` sees it. */
export interface ComponentStatus {
  readonly name: ComponentName;
  readonly title: string;
  readonly pid: number | undefined;
  readonly health: Health;
  readonly addresses: Readonly<Record<string, string>>;
  readonly logFile: string;
}

/** What `up` did, per component, with timings. */
export interface UpReport {
  readonly installMs: number;
  readonly totalMs: number;
  readonly started: ComponentName[];
  readonly alreadyRunning: ComponentName[];
  readonly status: ComponentStatus[];
}

export interface UpOptions {
  readonly config?: StackConfig;
  readonly only?: readonly ComponentName[];
  readonly log?: (line: string) => void;
}

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '';
  const all = readFileSync(file, 'utf8').split('\n');
  return all.slice(Math.max(0, all.length - lines - 1)).join('\n');
}

async function waitHealthy(component: StackComponent, config: StackConfig, pid: number): Promise<Health> {
  const timeout = component.startTimeoutMs * config.timeoutScale;
  const deadline = Date.now() + timeout;
  let last: Health = { healthy: false, detail: 'not probed yet' };
  while (Date.now() < deadline) {
    last = await component.probe(config);
    if (last.healthy) return last;
    // The pid was spawned moments ago, so it cannot have been recycled: liveness is enough (its
    // command line may not show the program until exec has completed).
    if (!isRunning(pid)) {
      const log = logFileOf(config, component.name);
      throw aiopsError('STACK_START_FAILED', [component.title, timeout, `the process exited; last lines of its log:\n${tail(log, 15)}`, log]);
    }
    await sleep(250);
  }
  const log = logFileOf(config, component.name);
  throw aiopsError('STACK_START_FAILED', [component.title, timeout, last.detail, log]);
}

/** Installs what is missing, then starts every component that is not already running and healthy. */
export async function stackUp(options: UpOptions = {}): Promise<UpReport> {
  const config = options.config ?? loadStackConfig();
  const log = options.log ?? (() => undefined);
  const selected = options.only ? components.filter((c) => options.only?.includes(c.name)) : components;
  for (const dir of [config.runDir, config.dataDir, config.logDir, config.cacheDir]) mkdirSync(dir, { recursive: true });
  const t0 = Date.now();

  // Installs are independent (Maven, Go builds, Debian downloads): run them side by side and
  // report every failure, not just the first.
  const results = await Promise.allSettled(selected.map((c) => c.install(config, (line) => log(`[${c.name}] ${line}`))));
  const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`${selected[i]?.name}: ${(r.reason as Error).message}`] : []));
  if (failures.length === 1) throw (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason;
  if (failures.length > 1) throw aiopsError('STACK_INSTALL_FAILED', ['the local stack', `\n  ${failures.join('\n  ')}`, config.logDir]);
  const installMs = Date.now() - t0;

  const started: ComponentName[] = [];
  const alreadyRunning: ComponentName[] = [];
  for (const component of selected) {
    const pidFile = pidFileOf(config, component.name);
    const record = readPidFile(pidFile);
    if (record && isAlive(record)) {
      await waitHealthy(component, config, record.pid);
      await component.refresh?.(config);
      alreadyRunning.push(component.name);
      continue;
    }
    removePidFile(pidFile);
    for (const port of component.ports(config)) {
      if (await portOpen(config.host, port)) throw aiopsError('STACK_PORT_IN_USE', [component.title, port, config.host]);
    }
    const spec = await component.prepare(config);
    log(`[${component.name}] starting`);
    const started1 = Date.now();
    const child = startProcess(spec, logFileOf(config, component.name), pidFile);
    await waitHealthy(component, config, child.pid);
    await component.afterStart?.(config);
    log(`[${component.name}] healthy after ${Date.now() - started1} ms`);
    started.push(component.name);
  }
  const status = await stackStatus(config);
  writeFileSync(join(config.home, 'stack.json'), JSON.stringify(Object.fromEntries(status.map((s) => [s.name, s.addresses])), null, 2) + '\n');
  return { installMs, totalMs: Date.now() - t0, started, alreadyRunning, status };
}

/** Stops exactly the processes `up` started (by their recorded pids), collector first. */
export async function stackDown(options: { config?: StackConfig; log?: (line: string) => void; only?: readonly ComponentName[] } = {}): Promise<ComponentName[]> {
  const config = options.config ?? loadStackConfig();
  const stopped: ComponentName[] = [];
  for (const component of [...components].reverse()) {
    if (options.only && !options.only.includes(component.name)) continue;
    const pidFile = pidFileOf(config, component.name);
    const record = readPidFile(pidFile);
    if (!record) continue;
    const how = await stopProcess(record);
    removePidFile(pidFile);
    if (how !== 'not-running') {
      stopped.push(component.name);
      options.log?.(`[${component.name}] ${how} (pid ${record.pid})`);
    }
  }
  return stopped;
}

export async function stackStatus(config: StackConfig = loadStackConfig()): Promise<ComponentStatus[]> {
  return Promise.all(
    components.map(async (component): Promise<ComponentStatus> => {
      const record = readPidFile(pidFileOf(config, component.name));
      const pid = record && isAlive(record) ? record.pid : undefined;
      const health = await component.probe(config);
      return {
        name: component.name,
        title: component.title,
        pid,
        health: pid === undefined && health.healthy ? { healthy: true, detail: `${health.detail} (not started by this stack)` } : health,
        addresses: component.addresses(config),
        logFile: logFileOf(config, component.name),
      };
    }),
  );
}

/** The last `lines` lines of one component's log, or of every component's. */
export function stackLogs(config: StackConfig, name: string | undefined, lines = 50): string {
  const selected = name ? [componentNamed(name)] : components;
  return selected.map((c) => `==> ${logFileOf(config, c.name)} <==\n${tail(logFileOf(config, c.name), lines)}`).join('\n');
}
