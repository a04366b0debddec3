import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';

/** What the server asks the process. */
export interface HealthSource {
  /** Liveness: false once the process cannot go on (e.g. its consumer stopped for good). */
  live(): boolean | Promise<boolean>;
  /** Readiness: true once every assigned partition's state is restored and it is consuming. */
  ready(): boolean | Promise<boolean>;
  /** Metrics in the Prometheus text format. */
  metrics(): Promise<string>;
  /** Extra detail for /health and /ready bodies. */
  detail?(): Record<string, unknown> | Promise<Record<string, unknown>>;
}

/**
 * The HTTP endpoints of every platform process: `GET /health` (200 while alive, 503 when not),
 * `GET /ready` (200 when ready, 503 while restoring or stopped) and `GET /metrics`. Built
 * without listening, so tests call it with `inject()`.
 */
export function buildHealthServer(source: HealthSource): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/health', async (_request, reply) => {
    const ok = await source.live();
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'failed', ...(await source.detail?.()) });
  });
  app.get('/ready', async (_request, reply) => {
    const ok = await source.ready();
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', ...(await source.detail?.()) });
  });
  app.get('/metrics', async (_request, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(await source.metrics()));
  return app;
}
