import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../runtime/logger.js';
import { demoAdminMode, demoAppUsage, parseDemoAppArgs } from './config.js';
import type { DemoAppConfig } from './config.js';
import { FaultRegistry } from './faults.js';
import { inventoryServiceName } from './inventory.js';
import { startDemoApp } from './launcher.js';
import type { DemoAppHandle } from './launcher.js';
import { startFaultSchedule } from './schedule.js';
import { startDemoTelemetry } from './telemetry.js';

/** The line the app prints on stdout once it listens (one JSON object). */
export interface ListeningEvent {
  readonly event: 'listening';
  readonly url: string;
  readonly port: number;
  readonly serviceName: string;
  readonly pid: number;
}

function listening(server: Server): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.once('listening', () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** Resolves when the process is asked to stop: SIGINT, SIGTERM, the parent gone, or `signal`. */
function stopRequested(signal: AbortSignal | undefined): { promise: Promise<string>; dispose(): void } {
  let dispose = (): void => undefined;
  const promise = new Promise<string>((resolve) => {
    const onSigint = (): void => resolve('SIGINT');
    const onSigterm = (): void => resolve('SIGTERM');
    const onDisconnect = (): void => resolve('parent disconnected');
    const onAbort = (): void => resolve('aborted');
    process.once('SIGINT', onSigint);
    process.once('SIGTERM', onSigterm);
    // Started by startDemoApp with an IPC channel: a parent that dies without stopping us (a
    // crashed test run) must not leave the app behind. The channel alone keeps nothing alive.
    if (process.channel) {
      process.channel.unref();
      process.once('disconnect', onDisconnect);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) resolve('aborted');
    dispose = () => {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      process.off('disconnect', onDisconnect);
      signal?.removeEventListener('abort', onAbort);
    };
  });
  return { promise, dispose: () => dispose() };
}

/** `host:port` of a URL, as the HTTP instrumentation sees an outgoing request's target. */
function hostPort(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
}

/**
 * Runs the demo app in this process until SIGINT/SIGTERM (or `signal`): starts the OpenTelemetry
 * SDK, then loads the app (so that express and http are instrumented), listens, prints a
 * {@link ListeningEvent} line on stdout, runs the fault schedule, and answers `/ready` with 200
 * once `readyDelayMs` passed. On stop it turns not-ready, closes the server and flushes telemetry.
 *
 * The shop calls the inventory service for every order: at `--inventory-url`, else one it starts
 * itself first as a child process on a free loopback port (`service.name` inventory), stopped
 * with the shop.
 *
 * One per process: the SDK registers global providers and patches modules as they load. For a
 * future `aiops demo-app` command; `startDemoApp` runs it in a child process.
 */
export async function runDemoApp(argv: string[], options: { signal?: AbortSignal } = {}): Promise<number> {
  const config = parseDemoAppArgs(argv);
  if (!config) {
    process.stdout.write(demoAppUsage);
    return 0;
  }
  return serve(config, options.signal, 'shop');
}

/** Runs the inventory service (see inventory.ts) in this process, with the demo app's options. */
export async function runInventory(argv: string[], options: { signal?: AbortSignal } = {}): Promise<number> {
  const config = parseDemoAppArgs(argv);
  if (!config) {
    process.stdout.write(demoAppUsage);
    return 0;
  }
  return serve(config, options.signal, 'inventory');
}

async function serve(config: DemoAppConfig, signal: AbortSignal | undefined, role: 'shop' | 'inventory'): Promise<number> {
  const log = createLogger(role === 'shop' ? 'demo-app' : 'demo-inventory');
  const stop = stopRequested(signal);
  let inventory: DemoAppHandle | undefined;
  let telemetry: { shutdown(): Promise<void> } | undefined;
  try {
    // The inventory child starts while this process loads the SDK and the app; its address
    // joins the peer map (read at each outgoing request) once it listens.
    const peers = new Map<string, string>();
    if (config.inventoryUrl) peers.set(hostPort(config.inventoryUrl), inventoryServiceName);
    const startingInventory =
      role === 'shop' && !config.inventoryUrl
        ? startDemoApp({
            role: 'inventory',
            host: '127.0.0.1',
            serviceName: inventoryServiceName,
            otlpHttpEndpoint: config.otlpHttpEndpoint,
            metricIntervalMs: config.metricIntervalMs,
            spanDelayMs: config.spanDelayMs,
            onLog: (line) => process.stderr.write(`${line}\n`),
          })
        : undefined;
    telemetry = startDemoTelemetry({ ...config, peerServices: peers });
    let ready = false;
    const faults = new FaultRegistry();
    // Only now: express must be required after the SDK patched the module loader.
    const [shop, inventoryApp] = await Promise.all([role === 'shop' ? import('./app.js') : undefined, role === 'inventory' ? import('./inventory.js') : undefined]);
    inventory = await startingInventory;
    const inventoryUrl = inventory?.url ?? config.inventoryUrl;
    if (inventory) peers.set(hostPort(inventory.url), inventoryServiceName);
    const app = shop
      ? shop.createDemoApp({ faults, isReady: () => ready, admin: demoAdminMode(config), ...(inventoryUrl ? { inventoryUrl } : {}) }).app
      : inventoryApp?.createInventoryApp();
    if (!app) throw new Error(`demo ${role}: no app`);
    const server = app.listen(config.port, config.host);
    const address = await Promise.race([listening(server), stop.promise.then(() => undefined)]);
    if (!address) {
      await closeServer(server, 0);
      return 0;
    }
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`;
    const schedule = startFaultSchedule(faults, role === 'shop' ? config.schedule : [], {
      onFire: (entry) => log.info({ fault: entry }, `scheduled fault on ${entry.route} for ${entry.durationMs} ms`),
    });
    const readyTimer = setTimeout(() => {
      ready = true;
    }, config.readyDelayMs);
    const event: ListeningEvent = { event: 'listening', url, port: address.port, serviceName: config.serviceName, pid: process.pid };
    process.stdout.write(`${JSON.stringify(event)}\n`);
    log.info({ url, serviceName: config.serviceName, otlp: config.otlpHttpEndpoint, scheduled: config.schedule.length, inventory: inventoryUrl }, `demo ${role} listening`);

    const reason = await stop.promise;
    log.info({ reason }, `demo ${role} stopping`);
    ready = false;
    clearTimeout(readyTimer);
    await schedule.stop();
    await closeServer(server, 2_000);
    return 0;
  } finally {
    stop.dispose();
    await telemetry?.shutdown().catch((error: unknown) => log.warn({ err: error }, 'telemetry shutdown failed'));
    await inventory?.stop();
  }
}
