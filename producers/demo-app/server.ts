import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../runtime/logger.js';
import { demoAdminMode, demoAppUsage, parseDemoAppArgs } from './config.js';
import type { DemoAppConfig } from './config.js';
import { FaultRegistry } from './faults.js';
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

/**
 * Runs the demo app in this process until SIGINT/SIGTERM (or `signal`): starts the OpenTelemetry
 * SDK, then loads the app (so that express and http are instrumented), listens, prints a
 * {@link ListeningEvent} line on stdout, runs the fault schedule, and answers `/ready` with 200
 * once `readyDelayMs` passed. On stop it turns not-ready, closes the server and flushes telemetry.
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
  return serveDemoApp(config, options.signal);
}

async function serveDemoApp(config: DemoAppConfig, signal: AbortSignal | undefined): Promise<number> {
  const log = createLogger('demo-app');
  const stop = stopRequested(signal);
  const telemetry = startDemoTelemetry(config);
  try {
    // Only now: express must be required after the SDK patched the module loader.
    const { createDemoApp } = await import('./app.js');
    let ready = false;
    const faults = new FaultRegistry();
    const { app } = createDemoApp({ faults, isReady: () => ready, admin: demoAdminMode(config) });
    const server = app.listen(config.port, config.host);
    const address = await Promise.race([listening(server), stop.promise.then(() => undefined)]);
    if (!address) {
      await closeServer(server, 0);
      return 0;
    }
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`;
    const schedule = startFaultSchedule(faults, config.schedule, {
      onFire: (entry) => log.info({ fault: entry }, `scheduled fault on ${entry.route} for ${entry.durationMs} ms`),
    });
    const readyTimer = setTimeout(() => {
      ready = true;
    }, config.readyDelayMs);
    const event: ListeningEvent = { event: 'listening', url, port: address.port, serviceName: config.serviceName, pid: process.pid };
    process.stdout.write(`${JSON.stringify(event)}\n`);
    log.info({ url, serviceName: config.serviceName, otlp: config.otlpHttpEndpoint, scheduled: config.schedule.length }, 'demo app listening');

    const reason = await stop.promise;
    log.info({ reason }, 'demo app stopping');
    ready = false;
    clearTimeout(readyTimer);
    await schedule.stop();
    await closeServer(server, 2_000);
    return 0;
  } finally {
    stop.dispose();
    await telemetry.shutdown().catch((error: unknown) => log.warn({ err: error }, 'telemetry shutdown failed'));
  }
}
