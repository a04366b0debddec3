import { createHash, timingSafeEqual } from 'node:crypto';
import { SpanKind, SpanStatusCode, metrics, trace } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import {
  ATTR_DB_COLLECTION_NAME,
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_QUERY_TEXT,
  ATTR_DB_SYSTEM_NAME,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  DB_SYSTEM_NAME_VALUE_POSTGRESQL,
} from '@opentelemetry/semantic-conventions';
import type { ErrorRequestHandler, Express, NextFunction, Request, RequestHandler, Response } from 'express';
import { sleep } from '../../runtime/retry.js';
import { loadExpress } from './express-loader.js';
import { FaultRegistry, InjectedFaultError, faultDelayMs, faultFails, parseFaultSpec } from './faults.js';
import { reserveInventory } from './inventory-client.js';
import { demoRoutePatterns } from './routes.js';
import { errorMessages, serverSpans } from './server-spans.js';

/** Names of the app's own (business) instruments and manual spans. */
export const demoTelemetryNames = {
  ordersCreated: 'demo.orders.created',
  orderValue: 'demo.order.value',
  dbInsertSpan: 'db.insert orders',
  checkoutSteps: ['checkout.compute_total', 'checkout.reserve_inventory'],
} as const;

export interface DemoAppOptions {
  /** Faults in force; a new, empty registry if absent. */
  readonly faults?: FaultRegistry;
  /** Readiness as `/ready` reports it (default: always ready). */
  readonly isReady?: () => boolean;
  /** Source of randomness for latencies, order values and fault error rates. */
  readonly random?: () => number;
  /** Simulated database latency range in ms (default 2..8). */
  readonly dbLatencyMs?: readonly [number, number];
  /**
   * Who may use `/admin/faults`: `open` (a developer's loopback-bound app), a bearer `token`
   * (compared in constant time), or `off` (404 on every admin call). Default `open`.
   */
  readonly admin?: { readonly mode: 'open' } | { readonly mode: 'off' } | { readonly mode: 'token'; readonly token: string };
  /**
   * Base URL of the inventory service each order reserves its items at (`POST /api/reservations`,
   * an HTTP client span); none: orders reserve nothing (unit tests).
   */
  readonly inventoryUrl?: string;
}

const users = [
  { id: 1, name: 'Ada Lovelace', email: 'ada@example.com' },
  { id: 2, name: 'Alan Turing', email: 'alan@example.com' },
  { id: 3, name: 'Grace Hopper', email: 'grace@example.com' },
  { id: 4, name: 'Edsger Dijkstra', email: 'edsger@example.com' },
  { id: 5, name: 'Barbara Liskov', email: 'barbara@example.com' },
] as const;

function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!match?.[1]) return false;
  const given = createHash('sha256').update(match[1]).digest();
  return timingSafeEqual(given, createHash('sha256').update(token).digest());
}

function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown; statusCode?: unknown } | null)?.status ?? (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : undefined;
}

/**
 * The demo app: a small shop API (users, orders, checkout) with probes, an admin API for faults
 * and an error middleware that records exceptions on the request's server span. Telemetry goes
 * through the global OpenTelemetry API: with the SDK started first (see telemetry.ts) the app is
 * traced and measured; without it, it runs the same with no-op telemetry (as in unit tests).
 */
export function createDemoApp(options: DemoAppOptions = {}): { app: Express; faults: FaultRegistry } {
  const express = loadExpress();
  const faults = options.faults ?? new FaultRegistry();
  const isReady = options.isReady ?? (() => true);
  const random = options.random ?? Math.random;
  const [dbMin, dbMax] = options.dbLatencyMs ?? [2, 8];
  const tracer = trace.getTracer('aiops-demo-app');
  const meter = metrics.getMeter('aiops-demo-app');
  const ordersCreated = meter.createCounter(demoTelemetryNames.ordersCreated, { description: 'Orders created', unit: '{order}' });
  const orderValue = meter.createHistogram(demoTelemetryNames.orderValue, {
    description: 'Value of created orders',
    unit: '{USD}',
    advice: { explicitBucketBoundaries: [5, 10, 25, 50, 100, 250, 500, 1000] },
  });
  let nextOrderId = 1;

  /** Runs `work` inside an active child span, ending it (with the error recorded, if any). */
  async function inSpan<T>(name: string, attributes: Record<string, string | number>, kind: SpanKind, work: (span: Span) => Promise<T>): Promise<T> {
    return tracer.startActiveSpan(name, { kind, attributes }, async (span) => {
      try {
        return await work(span);
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        throw error;
      } finally {
        span.end();
      }
    });
  }

  /** Applies the route's fault: waits the added latency, then fails with the error rate. */
  const faulted =
    (route: string): RequestHandler =>
    async (_req, _res, next) => {
      const fault = faults.forRoute(route);
      if (fault) {
        const delay = faultDelayMs(fault, random);
        const fails = faultFails(fault, random);
        trace.getActiveSpan()?.addEvent('fault.injected', { 'fault.route': fault.route, 'fault.latency_ms': Math.round(delay), 'fault.error': fails });
        if (delay > 0) await sleep(delay);
        if (fails) throw new InjectedFaultError(route);
      }
      next();
    };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(express.json({ limit: '16kb' }));

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/ready', (_req, res) => {
    if (isReady()) res.json({ status: 'ready' });
    else res.status(503).json({ status: 'not ready' });
  });

  const admin = options.admin ?? { mode: 'open' };
  app.use('/admin', (req, res, next) => {
    if (admin.mode === 'open') return next();
    if (admin.mode === 'off') {
      res.status(404).json({ error: 'fault injection is off: set AIOPS_DEMO_FAULTS_TOKEN to enable it' });
      return;
    }
    if (bearerMatches(req.headers.authorization, admin.token)) return next();
    res.status(401).set('www-authenticate', 'Bearer').json({ error: 'fault injection needs Authorization: Bearer <AIOPS_DEMO_FAULTS_TOKEN>' });
  });
  app.get('/admin/faults', (_req, res) => {
    res.json({ faults: faults.list(), routes: demoRoutePatterns });
  });
  app.put('/admin/faults', (req, res) => {
    const { spec, problems } = parseFaultSpec(req.body, demoRoutePatterns);
    if (!spec) {
      res.status(400).json({ error: 'invalid fault', problems });
      return;
    }
    res.json({ fault: faults.set(spec, 'admin') });
  });
  app.delete('/admin/faults', (req, res) => {
    const route = typeof req.query.route === 'string' ? req.query.route : undefined;
    res.json({ cleared: faults.clear(route) });
  });

  app.get('/api/users', faulted('/api/users'), (_req, res) => {
    res.json({ users: users.map((u) => ({ id: u.id, name: u.name })) });
  });

  app.get('/api/users/:id', faulted('/api/users/:id'), (req, res) => {
    const user = users.find((u) => String(u.id) === req.params.id);
    if (!user) res.status(404).json({ error: 'user not found' });
    else res.json({ user });
  });

  app.post('/api/orders', faulted('/api/orders'), async (req: Request, res: Response) => {
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as { userId?: unknown; items?: unknown; value?: unknown };
    const problems: string[] = [];
    if (body.userId !== undefined && !(Number.isInteger(body.userId) && (body.userId as number) > 0)) problems.push('userId: expected a positive integer');
    if (body.items !== undefined && !(Number.isInteger(body.items) && (body.items as number) > 0)) problems.push('items: expected a positive integer');
    if (body.value !== undefined && !(typeof body.value === 'number' && body.value >= 0 && Number.isFinite(body.value))) problems.push('value: expected a number >= 0');
    if (problems.length > 0) {
      res.status(400).json({ error: 'invalid order', problems });
      return;
    }
    const userId = (body.userId as number | undefined) ?? 1 + Math.floor(random() * users.length);
    const items = (body.items as number | undefined) ?? 1 + Math.floor(random() * 5);
    const value = (body.value as number | undefined) ?? Math.round((5 + random() * 195) * 100) / 100;
    const id = nextOrderId++;
    if (options.inventoryUrl) await reserveInventory(options.inventoryUrl, items);
    await inSpan(
      demoTelemetryNames.dbInsertSpan,
      {
        [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_POSTGRESQL,
        [ATTR_DB_NAMESPACE]: 'shop',
        [ATTR_DB_OPERATION_NAME]: 'INSERT',
        [ATTR_DB_COLLECTION_NAME]: 'orders',
        [ATTR_DB_QUERY_TEXT]: 'INSERT INTO orders (id, user_id, items, value) VALUES ($1, $2, $3, $4)',
        [ATTR_SERVER_ADDRESS]: 'orders-db',
        [ATTR_SERVER_PORT]: 5432,
        // The callee as the span metrics' peer dimension (the database has no spans of its own).
        'peer.service': 'orders-db',
      },
      SpanKind.CLIENT,
      async (span) => {
        await sleep(dbMin + random() * (dbMax - dbMin));
        span.setAttribute('db.response.returned_rows', 1);
      },
    );
    ordersCreated.add(1);
    orderValue.record(value);
    res.status(201).json({ order: { id, userId, items, value } });
  });

  app.get('/api/checkout', faulted('/api/checkout'), async (_req, res) => {
    const items = 1 + Math.floor(random() * 5);
    const total = await inSpan(demoTelemetryNames.checkoutSteps[0], { 'checkout.items': items }, SpanKind.INTERNAL, async () => {
      await sleep(1 + random() * 4);
      return Math.round(items * (5 + random() * 45) * 100) / 100;
    });
    await inSpan(demoTelemetryNames.checkoutSteps[1], { 'checkout.items': items }, SpanKind.INTERNAL, async () => {
      await sleep(1 + random() * 4);
    });
    res.json({ status: 'ok', items, total });
  });

  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });

  const onError: ErrorRequestHandler = (err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const error = err instanceof Error ? err : new Error(String(err));
    const clientStatus = httpStatusOf(err);
    if (clientStatus !== undefined && clientStatus < 500) {
      // A bad request (say, malformed JSON) is the client's error, not the server's.
      res.status(clientStatus).json({ error: error.message });
      return;
    }
    // The request's server span (the trace's root); the active span when the SDK is not hooked in.
    const span = serverSpans.get(req) ?? trace.getActiveSpan();
    span?.recordException(error);
    span?.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    errorMessages.set(res, error.message);
    res.status(500).json({ error: error.message, ...(error instanceof InjectedFaultError ? { injected: true } : {}) });
  };
  app.use(onError);

  return { app, faults };
}
