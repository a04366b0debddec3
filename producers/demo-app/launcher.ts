import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sleep } from '../../runtime/retry.js';
import { demoAppArgs } from './config.js';
import type { ScheduledFault } from './schedule.js';
import type { ListeningEvent } from './server.js';

export interface StartDemoAppOptions {
  /** The shop (default), or the inventory service the shop calls. */
  readonly role?: 'shop' | 'inventory';
  /** The inventory service the shop calls (default: the shop starts its own). */
  readonly inventoryUrl?: string;
  /** Port, 0 (default) for a free one; the child reports the one it got. */
  readonly port?: number;
  readonly host?: string;
  /** service.name of the app's telemetry (default demo-app); make it unique to find it again. */
  readonly serviceName?: string;
  /** Collector OTLP/HTTP base URL (default http://127.0.0.1:4318). */
  readonly otlpHttpEndpoint?: string;
  /** Metric export interval in ms (default 2000). */
  readonly metricIntervalMs?: number;
  /** Batch span export delay in ms (default 1000). */
  readonly spanDelayMs?: number;
  /** `/ready` answers 503 this long after the server listens (default 0). */
  readonly readyDelayMs?: number;
  /** Faults to put in force on a timer (atMs after start) or a cron schedule. */
  readonly schedule?: readonly ScheduledFault[];
  /** How long to wait for the app to listen and be ready (default 30 s). */
  readonly startTimeoutMs?: number;
  /** Extra environment of the child (on top of this process's). */
  readonly env?: Readonly<Record<string, string>>;
  /** Receives the child's log lines (stderr, JSON from pino); default: kept only for error messages. */
  readonly onLog?: (line: string) => void;
}

/** A running demo app process. */
export interface DemoAppHandle {
  /** Base URL, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly serviceName: string;
  /** Stops the app (SIGTERM: it turns not-ready, drains, flushes telemetry; SIGKILL after 10 s). */
  stop(): Promise<void>;
}

// Compiled (dist/, the image) the entry is main.js and runs as it is; from the sources it is
// main.ts through tsx's loader.
const compiled = import.meta.url.endsWith('.js');
const entry = fileURLToPath(new URL(compiled ? './main.js' : './main.ts', import.meta.url));

/** `--import` URL of tsx's loader, resolved from here so the child does not depend on its cwd. */
function tsxLoader(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
}

function waitForExit(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/**
 * Starts the demo app in a child process (`node --import tsx producers/demo-app/main.ts`),
 * which starts the OpenTelemetry SDK before it loads express: auto-instrumentation needs that
 * order, and the SDK's global providers allow one app per process, so each call gets its own
 * process. Resolves once the app printed its address and `/ready` answers 200.
 */
export async function startDemoApp(options: StartDemoAppOptions = {}): Promise<DemoAppHandle> {
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  const args = demoAppArgs({
    port: options.port ?? 0,
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.serviceName === undefined ? {} : { serviceName: options.serviceName }),
    ...(options.otlpHttpEndpoint === undefined ? {} : { otlpHttpEndpoint: options.otlpHttpEndpoint }),
    ...(options.metricIntervalMs === undefined ? {} : { metricIntervalMs: options.metricIntervalMs }),
    ...(options.spanDelayMs === undefined ? {} : { spanDelayMs: options.spanDelayMs }),
    ...(options.readyDelayMs === undefined ? {} : { readyDelayMs: options.readyDelayMs }),
    ...(options.schedule === undefined ? {} : { schedule: options.schedule }),
    ...(options.inventoryUrl === undefined ? {} : { inventoryUrl: options.inventoryUrl }),
  });
  const child = spawn(process.execPath, [...(compiled ? [] : ['--import', tsxLoader()]), entry, ...(options.role === 'inventory' ? ['inventory'] : []), ...args], {
    env: { ...process.env, ...options.env },
    // The IPC channel lets the app notice a parent that died without stopping it.
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const exited = waitForExit(child);
  let stderrTail = '';
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => {
    stderrTail = `${stderrTail}${line}\n`.slice(-4_000);
    options.onLog?.(line);
  });
  const stdout = createInterface({ input: child.stdout as NodeJS.ReadableStream });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      }
      stdout.close();
    })();
    return stopping;
  };
  const fail = async (why: string): Promise<never> => {
    await stop();
    throw new Error(`demo app did not start: ${why}${stderrTail ? `\n${stderrTail}` : ''}`);
  };

  const listening = await new Promise<ListeningEvent | string>((resolve) => {
    const timer = setTimeout(() => resolve(`no address within ${timeoutMs} ms`), timeoutMs);
    stdout.on('line', (line) => {
      try {
        const event = JSON.parse(line) as Partial<ListeningEvent>;
        if (event.event === 'listening') {
          clearTimeout(timer);
          resolve(event as ListeningEvent);
        }
      } catch {
        // Not ours: ignore anything else the child prints.
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      resolve(`exited with code ${code}`);
    });
  });
  if (typeof listening === 'string') return fail(listening);

  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) return fail(`exited with code ${child.exitCode}`);
    const status = await fetch(`${listening.url}/ready`, { signal: AbortSignal.timeout(2_000) }).then(
      async (r) => {
        await r.arrayBuffer();
        return r.status;
      },
      () => 0,
    );
    if (status === 200) break;
    if (Date.now() > deadline) return fail(`not ready within ${timeoutMs} ms (last /ready status ${status || 'unreachable'})`);
    await sleep(100);
  }
  return { url: listening.url, port: listening.port, pid: listening.pid, serviceName: listening.serviceName, stop };
}
