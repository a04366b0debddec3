import { SpanKind, trace } from '@opentelemetry/api';
import type { Express } from 'express';
import { sleep } from '../../runtime/retry.js';
import { loadExpress } from './express-loader.js';

/** service.name of the inventory service the shop calls (the service graph's second node). */
export const inventoryServiceName = 'inventory';

/** The inventory service's one API route, as an Express pattern. */
export const inventoryRoute = '/api/reservations';

export interface InventoryAppOptions {
  readonly random?: () => number;
  /** Simulated stock lookup latency range in ms (default 1..4). */
  readonly latencyMs?: readonly [number, number];
}

/**
 * The inventory service: a second, separately instrumented service the demo shop calls over
 * HTTP for every order (`POST /api/reservations`), so that traces span two services and the
 * service graph has an edge. It reserves whatever it is asked for after a short, random delay.
 */
export function createInventoryApp(options: InventoryAppOptions = {}): Express {
  const express = loadExpress();
  const random = options.random ?? Math.random;
  const [min, max] = options.latencyMs ?? [1, 4];
  const tracer = trace.getTracer('aiops-demo-inventory');
  let nextId = 1;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(express.json({ limit: '4kb' }));
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/ready', (_req, res) => {
    res.json({ status: 'ready' });
  });
  app.post(inventoryRoute, async (req, res) => {
    const items = (req.body as { items?: unknown } | undefined)?.items;
    if (!(Number.isInteger(items) && (items as number) > 0)) {
      res.status(400).json({ error: 'items: expected a positive integer' });
      return;
    }
    await tracer.startActiveSpan('inventory.reserve', { kind: SpanKind.INTERNAL, attributes: { 'inventory.items': items as number } }, async (span) => {
      await sleep(min + random() * (max - min));
      span.end();
    });
    res.status(201).json({ reservation: { id: nextId++, items } });
  });
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  return app;
}
