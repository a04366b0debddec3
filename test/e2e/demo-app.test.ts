import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearFaults, getFaults, setFault, startDemoApp } from '../../producers/demo-app/index.js';
import type { DemoAppHandle } from '../../producers/demo-app/index.js';
import { inventoryServiceName } from '../../producers/demo-app/inventory.js';
import { decodeMetricsRequest } from '../../runtime/otlp/index.js';
import type { HistogramPoint, Metric, MetricsRequest } from '../../runtime/otlp/index.js';
import { collectMessages, endOffsets, getTrace, kafkaClient, promQuery } from '../../stack/clients/index.js';
import type { Trace, TraceSpan } from '../../stack/clients/index.js';
import { eventually } from '../helpers/eventually.js';
import { stackEndpoints } from '../helpers/stack.js';

function tag(span: TraceSpan | undefined, key: string): unknown {
  return span?.tags.find((t) => t.key === key)?.value;
}

/** The metrics of `serviceName` in one export request. */
function metricsOf(request: MetricsRequest, serviceName: string): Metric[] {
  return request.resourceMetrics.filter((rm) => rm.resource['service.name'] === serviceName).flatMap((rm) => rm.scopeMetrics.flatMap((s) => s.metrics));
}

function durationPoints(metrics: readonly Metric[], route: string): HistogramPoint[] {
  const metric = metrics.find((m) => m.name === 'http.server.request.duration');
  return metric?.kind === 'histogram' ? metric.points.filter((p) => p.attributes['http.route'] === route) : [];
}

/** Waits until the trace store holds the trace with spans of every name in `names`. */
function traceWith(traceQuery: string, traceId: string, names: readonly string[]): Promise<Trace> {
  return eventually(`trace ${traceId} with ${names.join(', ')}`, async () => {
    const trace = await getTrace(traceQuery, traceId);
    return trace && names.every((n) => trace.spans.some((s) => s.operationName === n)) ? trace : undefined;
  });
}

async function timed(url: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const response = await fetch(url);
  await response.arrayBuffer();
  return { status: response.status, ms: performance.now() - started };
}

describe('the demo app, instrumented with the OpenTelemetry Node SDK, on the real stack', () => {
  const endpoints = stackEndpoints();
  const serviceName = `demo-app-${randomUUID().slice(0, 8)}`;
  const kafka = kafkaClient(endpoints.kafkaBrokers);
  let app: DemoAppHandle | undefined;
  let startOffsets: Awaited<ReturnType<typeof endOffsets>>;
  let orderTraceId: string;

  beforeAll(async () => {
    startOffsets = await endOffsets(kafka, 'otlp_metrics');
    // A child process: the SDK must start before express loads, and registers global providers.
    app = await startDemoApp({ serviceName, otlpHttpEndpoint: endpoints.otlpHttp, metricIntervalMs: 1_000, spanDelayMs: 500 });
  });

  afterAll(async () => {
    await app?.stop();
  });

  const url = (path: string): string => `${app?.url}${path}`;

  it('creates an order and returns the trace id of the request', async () => {
    const response = await fetch(url('/api/orders'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 3, items: 2, value: 42 }) });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ order: { userId: 3, items: 2, value: 42 } });
    orderTraceId = response.headers.get('x-trace-id') ?? '';
    expect(orderTraceId).toMatch(/^[0-9a-f]{32}$/);
    expect(response.headers.get('traceresponse')).toMatch(new RegExp(`^00-${orderTraceId}-[0-9a-f]{16}-01$`));
    // Some more traffic, for the metric.
    for (let i = 0; i < 3; i++) expect((await fetch(url('/api/users'))).status).toBe(200);
  });

  it('stores the order trace: the HTTP server span, the Express handler span and the manual db.insert orders span under it, and the inventory call across services', async () => {
    const trace = await traceWith(endpoints.traceQuery, orderTraceId, ['POST /api/orders', 'db.insert orders', 'inventory.reserve']);
    const serviceOf = (s: TraceSpan | undefined): string | undefined => (s ? trace.processes[s.processID]?.serviceName : undefined);
    expect(new Set(trace.spans.map(serviceOf))).toEqual(new Set([serviceName, inventoryServiceName]));
    // The shop's HTTP client span (peer.service inventory) is the parent of inventory's server span.
    const call = trace.spans.find((s) => serviceOf(s) === serviceName && tag(s, 'span.kind') === 'client' && tag(s, 'peer.service') === inventoryServiceName);
    const served = trace.spans.find((s) => serviceOf(s) === inventoryServiceName && tag(s, 'span.kind') === 'server');
    expect(tag(served, 'http.route')).toBe('/api/reservations');
    expect(served?.references[0]?.spanID).toBe(call?.spanID);
    const server = trace.spans.find((s) => s.operationName === 'POST /api/orders');
    expect(tag(server, 'span.kind')).toBe('server');
    expect(tag(server, 'http.route')).toBe('/api/orders');
    expect(tag(server, 'http.response.status_code')).toBe(201);
    expect(server?.references).toEqual([]);
    expect(trace.spans.some((s) => tag(s, 'otel.scope.name') === '@opentelemetry/instrumentation-express')).toBe(true);

    const db = trace.spans.find((s) => s.operationName === 'db.insert orders');
    expect(tag(db, 'span.kind')).toBe('client');
    expect(tag(db, 'db.system.name')).toBe('postgresql');
    expect(tag(db, 'db.collection.name')).toBe('orders');
    expect(tag(db, 'db.operation.name')).toBe('INSERT');
    expect(tag(db, 'peer.service')).toBe('orders-db');
    // Its ancestors lead to the server span.
    const byId = new Map(trace.spans.map((s) => [s.spanID, s]));
    const ancestors: string[] = [];
    for (let s = db; s?.references[0]; s = byId.get(s.references[0].spanID)) ancestors.push(s.references[0].spanID);
    expect(ancestors).toContain(server?.spanID);
  });

  it('sends http.server.request.duration (seconds, with http.route) and the business metrics to Kafka otlp_metrics', async () => {
    const [message] = await collectMessages(kafka, {
      topic: 'otlp_metrics',
      count: 1,
      startOffsets,
      timeoutMs: 60_000,
      // The first export after both routes were called (cumulative temporality: it has them all).
      filter: (m) => {
        if (m.value === null) return false;
        const metrics = metricsOf(decodeMetricsRequest(m.value), serviceName);
        return durationPoints(metrics, '/api/orders').length > 0 && durationPoints(metrics, '/api/users').length > 0;
      },
    });
    const request = decodeMetricsRequest(message?.value ?? Buffer.alloc(0));
    const resource = request.resourceMetrics.find((rm) => rm.resource['service.name'] === serviceName)?.resource;
    expect(resource?.['service.instance.id']).toEqual(expect.any(String));
    const metrics = metricsOf(request, serviceName);
    const duration = metrics.find((m) => m.name === 'http.server.request.duration');
    expect(duration?.kind).toBe('histogram');
    expect(duration?.unit).toBe('s');

    const [orders] = durationPoints(metrics, '/api/orders');
    expect(orders?.attributes).toMatchObject({ 'http.route': '/api/orders', 'http.request.method': 'POST', 'http.response.status_code': 201 });
    expect(orders?.count).toBe(1);
    // Seconds, not milliseconds: a request with a few ms of simulated database time.
    expect(orders?.sum).toBeGreaterThan(0.001);
    expect(orders?.sum).toBeLessThan(5);
    const users = durationPoints(metrics, '/api/users');
    expect(users.map((p) => p.attributes)).toEqual([expect.objectContaining({ 'http.request.method': 'GET', 'http.response.status_code': 200 })]);
    // No probe or admin traffic is measured.
    const routes = new Set(duration?.kind === 'histogram' ? duration.points.map((p) => p.attributes['http.route']) : []);
    expect([...routes].sort()).toEqual(['/api/orders', '/api/users']);

    const created = metrics.find((m) => m.name === 'demo.orders.created');
    expect(created?.kind === 'sum' ? created.points.reduce((n, p) => n + p.value, 0) : undefined).toBe(1);
    const value = metrics.find((m) => m.name === 'demo.order.value');
    expect(value?.kind === 'histogram' ? value.points[0]?.sum : undefined).toBe(42);
  });

  it('is scraped by Prometheus: http_server_request_duration_seconds_count{job=<service>}', async () => {
    const [sample] = await eventually('demo app request count in Prometheus', async () => {
      const result = await promQuery(endpoints.prometheus, `http_server_request_duration_seconds_count{job="${serviceName}", http_route="/api/orders"}`);
      return result.length > 0 ? result : undefined;
    });
    expect(sample?.value).toBe(1);
    expect(sample?.metric).toMatchObject({ http_request_method: 'POST', http_response_status_code: '201' });
  });

  it('turns an injected error into a 500 whose server span has error status and an exception event', async () => {
    await setFault(url(''), { route: '/api/users', errorRate: 1 });
    try {
      const response = await fetch(url('/api/users'));
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({ error: 'injected fault on /api/users', injected: true });
      const traceId = response.headers.get('x-trace-id') ?? '';
      const trace = await traceWith(endpoints.traceQuery, traceId, ['GET /api/users']);
      const server = trace.spans.find((s) => s.operationName === 'GET /api/users');
      expect(tag(server, 'span.kind')).toBe('server');
      expect(tag(server, 'otel.status_code')).toBe('ERROR');
      expect(tag(server, 'otel.status_description')).toBe('injected fault on /api/users');
      expect(tag(server, 'http.response.status_code')).toBe(500);
      const events = (server?.logs ?? []).map((l) => Object.fromEntries(l.fields.map((f) => [f.key, f.value])));
      expect(events).toContainEqual(expect.objectContaining({ event: 'exception', 'exception.type': 'InjectedFaultError', 'exception.message': 'injected fault on /api/users' }));
    } finally {
      expect(await clearFaults(url(''))).toBe(1);
    }
    expect((await fetch(url('/api/users'))).status).toBe(200);
    // The error is in the metric too, as status 500 of the route.
    await eventually('the 500 of /api/users in Prometheus', async () => {
      const r = await promQuery(endpoints.prometheus, `http_server_request_duration_seconds_count{job="${serviceName}", http_route="/api/users", http_response_status_code="500"}`);
      return r.length > 0 && r[0]?.value === 1 ? r : undefined;
    });
  });

  it('adds latency to a route while the fault is in force, and clearing it restores the route', async () => {
    await setFault(url(''), { route: '/api/checkout', latencyMs: 300 });
    expect(await getFaults(url(''))).toEqual([expect.objectContaining({ route: '/api/checkout', latencyMs: 300, errorRate: 0 })]);
    for (let i = 0; i < 2; i++) {
      const slow = await timed(url('/api/checkout'));
      expect(slow.status).toBe(200);
      expect(slow.ms).toBeGreaterThanOrEqual(300);
    }
    // Other routes are not affected.
    expect((await timed(url('/api/users/1'))).status).toBe(200);

    expect(await clearFaults(url(''))).toBe(1);
    expect(await getFaults(url(''))).toEqual([]);
    // The fastest of a few requests: one slow request on a busy machine must not fail the test.
    const after = await Promise.all([1, 2, 3].map(() => timed(url('/api/checkout'))));
    expect(after.every((r) => r.status === 200)).toBe(true);
    expect(Math.min(...after.map((r) => r.ms))).toBeLessThan(300);
  });
});
