import type { Meter } from '@opentelemetry/api';
import type { Kafka } from 'kafkajs';
import { buildHealthServer } from './http/health-server.js';
import { createLogger } from './logger.js';
import type { Logger } from './logger.js';
import { ProcessorRunner } from './runner.js';
import type { RunnerOptions } from './runner.js';
import { createTelemetry } from './telemetry.js';

export interface ProcessOptions extends Omit<RunnerOptions, 'log'> {
  /** Port of the /health, /ready and /metrics server (0: none). */
  readonly port: number;
  readonly host?: string;
  readonly log?: Logger;
  /** Registers the processor's own instruments (e.g. gauges) on the process's meter, served on /metrics. */
  readonly instruments?: (meter: Meter) => void;
}

/** Address of a process's HTTP endpoints: `AIOPS_<COMPONENT>_HOST`, else `AIOPS_HTTP_HOST` (the image: 0.0.0.0), else loopback. */
export function httpHost(component: string, env: NodeJS.ProcessEnv = process.env): string {
  return env[`AIOPS_${component.toUpperCase()}_HOST`] ?? env.AIOPS_HTTP_HOST ?? '127.0.0.1';
}

/** A running platform process. */
export interface RunningProcess {
  readonly runner: ProcessorRunner;
  /** The address the HTTP server listens on, if any. */
  readonly address: string | undefined;
  /** Stops consuming after the batch in flight, closes tasks and the server. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a processor as a platform process: the runner, the HTTP server with health, readiness
 * and metrics, and a clean stop on SIGTERM/SIGINT (when `handleSignals`).
 */
export async function runProcess(options: ProcessOptions & { handleSignals?: boolean; kafka: Kafka }): Promise<RunningProcess> {
  const log = options.log ?? createLogger(`aiops.${options.name}`);
  const runner = new ProcessorRunner({ ...options, log });
  const telemetry = createTelemetry(options.name, () => runner.stats(), () => runner.ready());
  options.instruments?.(telemetry.meter);
  const server = buildHealthServer({
    live: () => runner.failure() === undefined,
    ready: () => runner.ready(),
    metrics: () => telemetry.render(),
    detail: async () => ({ partitions: (await runner.stats()).partitions, ...(runner.brokerProblem() ? { broker: runner.brokerProblem() } : {}) }),
  });
  let address: string | undefined;
  if (options.port > 0) address = await server.listen({ port: options.port, host: options.host ?? '127.0.0.1' });
  try {
    await runner.start();
  } catch (error) {
    // A start that fails (wrong Kafka credentials or certificates) must not leave the server
    // holding the process open: the command ends with the error.
    await server.close().catch(() => undefined);
    await telemetry.shutdown().catch(() => undefined);
    throw error;
  }
  log.info({ address, input: options.inputTopic }, 'started');
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      log.info('stopping');
      await runner.stop();
      await server.close();
      await telemetry.shutdown();
    })();
    return stopping;
  };
  if (options.handleSignals) {
    const onSignal = (signal: NodeJS.Signals): void => {
      log.info({ signal }, 'signal received');
      void stop().then(() => process.exit(0));
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  return { runner, address, stop };
}
