import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoFaults } from '../../cli/demo-command.js';
import { dashboards } from '../../grafana/dashboards.js';
import { resolveQueries } from '../../grafana/model.js';
import { inventoryServiceName } from '../../producers/demo-app/inventory.js';
import { sleep } from '../../runtime/retry.js';
import { externalEndpoints } from '../../stack/clients/index.js';
import { projectRoot } from '../../stack/index.js';
import { stackEndpoints } from '../helpers/stack.js';

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
}

interface JaegerSpan {
  operationName: string;
  tags: { key: string; value: unknown }[];
  logs: { fields: { key: string; value: unknown }[] }[];
}

/**
 * The main job end to end, as `npm run demo` runs it: the platform's own processes, the demo shop
 * under load, a latency spike and an error burst. While it runs, this test watches the real
 * Alertmanager and the trace store on its own:
 * - anomaly: the latency spike becomes an anomaly event and an AiopsAnomaly alert (p95 of /api/users);
 * - error path: failed orders leave error traces with the exception in Jaeger, and page;
 * - SLO breach: the error burst pages, and evaluate projects when the budget runs out;
 * - two services: the shop calls inventory for every order, an edge of the service graph.
 * (The happy path, request → trace → metrics in Prometheus and on Kafka, is test/e2e/demo-app.test.ts.)
 * Then every query of the Grafana dashboards runs against the real Prometheus and Jaeger over the
 * demo's time range, and each must return data.
 */
describe.skipIf(externalEndpoints() !== undefined)('the main job: faults in live traffic become anomaly and SLO alerts in Alertmanager', () => {
  const endpoints = stackEndpoints();

  it('runs the demo to its summary with an anomaly alert and an SLO page seen in Alertmanager, and no budget alert from minutes of a 7-day period', async () => {
    const started = Date.now();
    const child = spawn(process.execPath, [join(projectRoot, 'bin/aiops.js'), 'demo', '--duration', '180', '--rate', '20'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AIOPS_LOG_LEVEL: 'warn' } });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));

    const seen = new Map<string, AmAlert>();
    /** The demo shop's alerts that started before this run: a clean view has none (a first look is taken before the faults). */
    const earlier = new Map<string, AmAlert>();
    let watching = true;
    const watch = (async () => {
      while (watching) {
        const response = await fetch(`${endpoints.alertmanager}/api/v2/alerts?active=true`).catch(() => undefined);
        if (response?.ok) {
          for (const a of (await response.json()) as AmAlert[]) {
            // The demo's service; the demo's own output (below) shows that this run raised them.
            if (a.labels.service === 'demo-shop') {
              // Ingest reads from the end at the run's start: nothing of this run starts before its first 5 s bucket.
              // Looked at once the platform is up (the demo ends what earlier runs left before it starts it).
              if (/ready; logs in/.test(output) && Date.parse(a.startsAt) < started - 5_000) earlier.set(JSON.stringify(a.labels), a);
              seen.set(`${a.labels.alertname}|${a.labels.slo ?? a.labels.metric ?? ''}|${a.labels.tier ?? a.labels.endpoint ?? ''}`, a);
            }
          }
        }
        await sleep(2_000);
      }
    })();
    const code = await exited;
    watching = false;
    await watch;

    expect(code, output).toBe(0);
    expect(output).toMatch(/5\/5 summary/);
    // A clean Alertmanager view of its own run: no demo-shop alert of an earlier run was active while it ran.
    expect([...earlier.values()].map((a) => `${a.labels.alertname} ${a.startsAt}`)).toEqual([]);
    // Events this run's evaluate wrote (the demo reads the topics from the end at its start).
    expect(output).toMatch(/anomaly OPEN\s+http\.p95 of \/api\/users/);
    expect(output).toMatch(/SLO demo-shop-availability page FIRING/);
    // Minutes of a 7-day period are no measure of its budget: the budget tier waits until a tenth
    // of the period was observed, however much of the little seen so far the burst used.
    expect(output).not.toMatch(/SLO demo-shop-[a-z-]+ budget FIRING/);
    expect(output).toMatch(/budget left [\d.]+% of the 0\.\d+% of the period observed/);

    const anomaly = seen.get('AiopsAnomaly|http.p95|/api/users');
    expect(anomaly?.labels, JSON.stringify([...seen.keys()])).toMatchObject({ service: 'demo-shop', severity: expect.any(String) });
    expect(anomaly?.annotations.description).toMatch(/expected/);
    const page = seen.get('AiopsSloBurnRate|demo-shop-availability|page');
    expect(page?.labels, JSON.stringify([...seen.keys()])).toMatchObject({ severity: 'critical', team: 'shop' });
    expect([...seen.keys()].filter((k) => k.startsWith('AiopsSloErrorBudgetExhausted|'))).toEqual([]);

    // The error path in the trace store: a failed order with its exception.
    const response = await fetch(`${endpoints.traceQuery}/api/traces?service=demo-shop&operation=${encodeURIComponent('POST /api/orders')}&start=${started * 1000}&limit=1000`);
    const traces = ((await response.json()) as { data: { spans: JaegerSpan[] }[] }).data;
    const failed = traces
      .flatMap((t) => t.spans)
      .find((s) => s.operationName === 'POST /api/orders' && s.tags.some((t) => t.key === 'otel.status_code' && t.value === 'ERROR') && s.logs.some((l) => l.fields.some((f) => f.key === 'event' && f.value === 'exception')));
    expect(failed, `error traces: ${traces.length}`).toBeDefined();

    // The projected budget exhaustion from the error burst (demoFaults[1]) on: evaluate's gauge
    // holds a Unix time from the burst (now, once the few minutes' budget is overspent) to at
    // most the 7-day period ahead. Before the burst no bad event, so no projection.
    const burstFrom = (started + demoFaults[1].at) / 1000;
    const projection = (await promRange(endpoints.prometheus, 'aiops_slo_budget_exhausted_at_seconds{service="demo-shop", slo="demo-shop-availability"}', started / 1000, Date.now() / 1000)).flatMap((r) => r.values);
    expect(projection.length, 'aiops_slo_budget_exhausted_at_seconds after the error burst').toBeGreaterThan(0);
    for (const [at, value] of projection) {
      expect(Number(value)).toBeGreaterThanOrEqual(burstFrom);
      expect(Number(value)).toBeLessThanOrEqual(at + 7 * 86_400);
    }

    // The service graph's edge, shop → inventory: in Jaeger's dependencies and in the span metrics.
    const deps = await fetch(`${endpoints.traceQuery}/api/dependencies?endTs=${Date.now()}&lookback=${Date.now() - started}`);
    const links = ((await deps.json()) as { data: { parent: string; child: string; callCount: number }[] }).data;
    expect(links.find((l) => l.parent === 'demo-shop' && l.child === inventoryServiceName)?.callCount, JSON.stringify(links)).toBeGreaterThan(0);
    const edge = await promRange(endpoints.prometheus, `traces_span_metrics_calls_total{service_name="demo-shop", span_kind="SPAN_KIND_CLIENT", peer_service="${inventoryServiceName}"}`, started / 1000, Date.now() / 1000);
    expect(edge.length).toBeGreaterThan(0);

    await checkDashboardQueries(endpoints, 'demo-shop', started, Date.now());
  }, 480_000);
});

async function promRange(prometheus: string, query: string, startS: number, endS: number): Promise<{ metric: Record<string, string>; values: [number, string][] }[]> {
  const response = await fetch(`${prometheus}/api/v1/query_range?${new URLSearchParams({ query, start: String(startS), end: String(endS), step: '5' })}`);
  const body = (await response.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; values: [number, string][] }[] } };
  expect(body.status, `${query}: ${body.error ?? ''}`).toBe('success');
  return body.data.result;
}

/**
 * Runs every query of every dashboard as Grafana would for the demo's service and time range:
 * variable queries as label-value lookups, panel queries as range queries on Prometheus, trace
 * panels as searches on Jaeger's HTTP API, the node graph as Jaeger's dependencies over the range.
 * Each must succeed and return data.
 */
async function checkDashboardQueries(endpoints: ReturnType<typeof stackEndpoints>, service: string, fromMs: number, toMs: number): Promise<void> {
  const values = { service, route: '.*', slo: '.*', process: '.*', __url_time_range: `from=${fromMs}&to=${toMs}`, __rate_interval: '30s', __interval: '5s', __range: `${Math.ceil((toMs - fromMs) / 1000)}s`, __range_s: String(Math.ceil((toMs - fromMs) / 1000)) };
  const empty: string[] = [];
  for (const q of resolveQueries(dashboards, values)) {
    const where = `${q.dashboard} / ${q.panel}`;
    if (q.target.kind === 'jaeger-dependencies') {
      // What Grafana's Jaeger data source asks for a dependencyGraph query: end and lookback in ms.
      const response = await fetch(`${endpoints.traceQuery}/api/dependencies?endTs=${toMs}&lookback=${toMs - fromMs}`);
      expect(response.status, where).toBe(200);
      const body = (await response.json()) as { data: { parent: string; child: string }[] | null };
      if (!(body.data ?? []).some((l) => l.parent === service && l.child !== service)) empty.push(`${where}: no edge from ${service} in ${JSON.stringify(body.data)}`);
      continue;
    }
    if (q.target.kind === 'jaeger') {
      const tags = q.target.tags ? Object.fromEntries(q.target.tags.split(' ').map((kv) => kv.split('=') as [string, string])) : undefined;
      const params = new URLSearchParams({ service: q.target.service, limit: String(q.target.limit), start: String(fromMs * 1000), end: String(toMs * 1000), ...(tags ? { tags: JSON.stringify(tags) } : {}) });
      const response = await fetch(`${endpoints.traceQuery}/api/traces?${params}`);
      expect(response.status, where).toBe(200);
      const body = (await response.json()) as { data: unknown[] | null };
      if ((body.data ?? []).length === 0) empty.push(`${where}: ${params}`);
      continue;
    }
    const expr = q.target.expr;
    const variable = expr.match(/^label_values\((?:(.+), )?(\w+)\)$/);
    const url = variable
      ? `${endpoints.prometheus}/api/v1/label/${variable[2]}/values?${new URLSearchParams({ ...(variable[1] ? { 'match[]': variable[1] } : {}), start: String(fromMs / 1000), end: String(toMs / 1000) })}`
      : `${endpoints.prometheus}/api/v1/query_range?${new URLSearchParams({ query: expr, start: String(fromMs / 1000), end: String(toMs / 1000), step: '5' })}`;
    const response = await fetch(url);
    const body = (await response.json()) as { status: string; error?: string; data: unknown[] | { result: unknown[] } };
    expect(body.status, `${where}: ${expr}: ${body.error ?? ''}`).toBe('success');
    const rows = Array.isArray(body.data) ? body.data : body.data.result;
    if (rows.length === 0) empty.push(`${where}: ${expr}`);
  }
  expect(empty, 'dashboard queries that returned no data over the demo').toEqual([]);
}
