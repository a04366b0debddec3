import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  FaultRegistry,
  clearFaults,
  createDemoApp,
  demoAdminMode,
  demoAppArgs,
  demoAppDefaults,
  faultDelayMs,
  faultFails,
  getFaults,
  parseDemoAppArgs,
  parseFaultSpec,
  parseSchedule,
  setFault,
  startFaultSchedule,
} from '../../../producers/demo-app/index.js';
import { AiopsError } from '../../../runtime/errors.js';

describe('fault registry', () => {
  it('holds one fault per route, falls back to *, and clears by route or all', () => {
    const faults = new FaultRegistry();
    faults.set({ route: '/api/users', latencyMs: 800 });
    faults.set({ route: '/api/users', errorRate: 0.5 });
    expect(faults.forRoute('/api/users')).toMatchObject({ route: '/api/users', latencyMs: 0, jitterMs: 0, errorRate: 0.5, source: 'admin' });
    expect(faults.forRoute('/api/orders')).toBeUndefined();
    faults.set({ route: '*', latencyMs: 100 }, 'schedule');
    expect(faults.forRoute('/api/orders')).toMatchObject({ route: '*', latencyMs: 100, source: 'schedule' });
    expect(faults.forRoute('/api/users')?.route).toBe('/api/users');
    expect(faults.clear('/api/users')).toBe(1);
    expect(faults.clear('/api/users')).toBe(0);
    expect(faults.forRoute('/api/users')?.route).toBe('*');
    expect(faults.clear()).toBe(1);
    expect(faults.list()).toEqual([]);
  });

  it('lifts a fault with a duration once it is over', () => {
    let now = 1_000;
    const faults = new FaultRegistry({ now: () => now });
    expect(faults.set({ route: '/api/checkout', latencyMs: 50, durationMs: 500 })).toMatchObject({ since: 1_000, until: 1_500 });
    now = 1_499;
    expect(faults.forRoute('/api/checkout')).toBeDefined();
    now = 1_500;
    expect(faults.forRoute('/api/checkout')).toBeUndefined();
    expect(faults.list()).toEqual([]);
  });

  it('adds jitter on top of the latency and fails at the error rate', () => {
    expect(faultDelayMs({ latencyMs: 100, jitterMs: 50 }, () => 0.5)).toBe(125);
    expect(faultDelayMs({ latencyMs: 100, jitterMs: 0 }, () => 0.9)).toBe(100);
    expect(faultFails({ errorRate: 0 }, () => 0)).toBe(false);
    expect(faultFails({ errorRate: 0.3 }, () => 0.29)).toBe(true);
    expect(faultFails({ errorRate: 0.3 }, () => 0.3)).toBe(false);
    expect(faultFails({ errorRate: 1 }, () => 0.999)).toBe(true);
  });

  it('validates fault requests, reporting every problem', () => {
    expect(parseFaultSpec({ route: '/api/users', latencyMs: 800, errorRate: 0 }, ['/api/users']).spec).toEqual({ route: '/api/users', latencyMs: 800, errorRate: 0 });
    const { spec, problems } = parseFaultSpec({ route: '/api/users/1', latencyMs: -1, errorRate: 2, color: 'red' }, ['/api/users', '/api/users/:id']);
    expect(spec).toBeUndefined();
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/color[\s\S]*\/api\/users\/1" is not a route[\s\S]*latencyMs[\s\S]*errorRate/);
    expect(parseFaultSpec('nope').problems).toHaveLength(1);
  });
});

describe('fault schedule', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('validates entries: exactly one of atMs or cron, a duration, a known route', () => {
    const entries = parseSchedule(
      [
        { atMs: 1_000, route: '/api/users', latencyMs: 500, durationMs: 2_000 },
        { cron: '*/5 * * * *', route: '*', errorRate: 0.2, durationMs: 60_000 },
      ],
      ['/api/users'],
    );
    expect(entries).toEqual([
      { atMs: 1_000, route: '/api/users', latencyMs: 500, durationMs: 2_000 },
      { cron: '*/5 * * * *', route: '*', errorRate: 0.2, durationMs: 60_000 },
    ]);
    let message = '';
    try {
      parseSchedule(
        [
          { route: '/api/users', durationMs: 1 },
          { atMs: 1, cron: '* * * * *', route: '/api/users', durationMs: 1 },
          { cron: 'every minute', route: '/api/users', durationMs: 1 },
          { atMs: 5, route: '/api/nope' },
        ],
        ['/api/users'],
      );
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/\[0\] expected exactly one of atMs/);
    expect(message).toMatch(/\[1\] expected exactly one of atMs/);
    expect(message).toMatch(/\[2\] cron: "every minute" is not a valid cron expression/);
    expect(message).toMatch(/\[3\] route: "\/api\/nope" is not a route/);
    expect(message).toMatch(/\[3\] durationMs: required/);
    expect(() => parseSchedule({})).toThrow(/expected a JSON array/);
  });

  it('puts timed faults in force at their offset, for their duration', async () => {
    vi.useFakeTimers({ now: 0 });
    const faults = new FaultRegistry();
    const fired: string[] = [];
    const schedule = startFaultSchedule(faults, parseSchedule([{ atMs: 1_000, route: '/api/orders', latencyMs: 300, durationMs: 2_000 }]), {
      onFire: (entry) => fired.push(entry.route),
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(faults.forRoute('/api/orders')).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(faults.forRoute('/api/orders')).toMatchObject({ latencyMs: 300, source: 'schedule', since: 1_000, until: 3_000 });
    expect(fired).toEqual(['/api/orders']);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(faults.forRoute('/api/orders')).toBeUndefined();
    await schedule.stop();
  });

  it('cancels pending entries on stop', async () => {
    vi.useFakeTimers({ now: 0 });
    const faults = new FaultRegistry();
    const schedule = startFaultSchedule(faults, parseSchedule([{ atMs: 500, route: '/api/users', errorRate: 1, durationMs: 1_000 }]));
    await schedule.stop();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(faults.list()).toEqual([]);
  });

  it('fires cron entries through node-cron', async () => {
    const faults = new FaultRegistry();
    // Every second (node-cron's 6-field form).
    const schedule = startFaultSchedule(faults, parseSchedule([{ cron: '* * * * * *', route: '/api/checkout', errorRate: 1, durationMs: 60_000 }]));
    try {
      const deadline = Date.now() + 4_000;
      while (!faults.forRoute('/api/checkout') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(faults.forRoute('/api/checkout')).toMatchObject({ errorRate: 1, source: 'schedule' });
    } finally {
      await schedule.stop();
    }
  }, 10_000);
});

describe('demo app configuration', () => {
  it('takes flags over the environment over defaults', () => {
    expect(parseDemoAppArgs([], {})).toEqual({ ...demoAppDefaults, schedule: [] });
    const env = { OTEL_SERVICE_NAME: 'from-env', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_METRIC_EXPORT_INTERVAL: '5000', AIOPS_DEMO_PORT: '9000' };
    expect(parseDemoAppArgs(['--service-name', 'from-flag', '--port', '0'], env)).toMatchObject({
      serviceName: 'from-flag',
      port: 0,
      otlpHttpEndpoint: 'http://collector:4318',
      metricIntervalMs: 5_000,
    });
    expect(parseDemoAppArgs(['--help'], {})).toBeUndefined();
  });

  it('round-trips through the flags a child process gets', () => {
    const config = {
      port: 0,
      host: '127.0.0.1',
      serviceName: 'svc',
      otlpHttpEndpoint: 'http://127.0.0.1:4318',
      metricIntervalMs: 1_000,
      spanDelayMs: 500,
      readyDelayMs: 100,
      schedule: [{ atMs: 10, route: '/api/users', latencyMs: 5, durationMs: 100 }],
    };
    expect(parseDemoAppArgs(demoAppArgs(config), {})).toEqual(config);
  });

  it('reports every bad value at once, and unknown flags as usage errors', () => {
    let error: unknown;
    try {
      parseDemoAppArgs(['--port', '70000', '--metric-interval-ms', 'soon', '--otlp-endpoint', 'nowhere', '--schedule', '[{"atMs":1}]'], {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AiopsError);
    expect((error as AiopsError).code).toBe('AIOPS_ERR_CONFIG_INVALID');
    expect((error as Error).message).toMatch(/port[\s\S]*metric-interval-ms[\s\S]*otlp-endpoint[\s\S]*schedule/);
    expect(() => parseDemoAppArgs(['--colour'], {})).toThrow(/Unknown option '--colour'/);
  });
});

describe('demo app HTTP API (in process, no SDK: telemetry is a no-op)', () => {
  let ready = false;
  const faults = new FaultRegistry();
  const { app } = createDemoApp({ faults, isReady: () => ready, dbLatencyMs: [0, 1] });
  let server: Server;
  let url: string;

  beforeAll(async () => {
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  afterEach(() => {
    faults.clear();
  });

  const get = async (path: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> => {
    const response = await fetch(`${url}${path}`, init);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('answers liveness always and readiness only once ready', async () => {
    expect(await get('/health')).toEqual({ status: 200, body: { status: 'ok' } });
    expect((await get('/ready')).status).toBe(503);
    ready = true;
    expect(await get('/ready')).toEqual({ status: 200, body: { status: 'ready' } });
  });

  it('serves users, one user, and 404 for an unknown one', async () => {
    const list = await get('/api/users');
    expect(list.status).toBe(200);
    expect(list.body.users).toHaveLength(5);
    expect(await get('/api/users/3')).toMatchObject({ status: 200, body: { user: { id: 3, name: 'Grace Hopper' } } });
    expect(await get('/api/users/99')).toEqual({ status: 404, body: { error: 'user not found' } });
    expect(await get('/nowhere')).toEqual({ status: 404, body: { error: 'not found' } });
  });

  it('creates orders, rejects invalid ones, and treats malformed JSON as a client error', async () => {
    const json = { 'content-type': 'application/json' };
    const created = await get('/api/orders', { method: 'POST', headers: json, body: JSON.stringify({ userId: 2, items: 3, value: 42.5 }) });
    expect(created).toMatchObject({ status: 201, body: { order: { userId: 2, items: 3, value: 42.5 } } });
    const defaults = await get('/api/orders', { method: 'POST' });
    expect(defaults.status).toBe(201);
    expect(await get('/api/orders', { method: 'POST', headers: json, body: '{"items":0}' })).toMatchObject({ status: 400, body: { problems: ['items: expected a positive integer'] } });
    expect((await get('/api/orders', { method: 'POST', headers: json, body: '{oops' })).status).toBe(400);
    expect(await get('/api/checkout')).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('injects errors through the admin API, on the faulted route only, and clears them', async () => {
    expect(await setFault(url, { route: '/api/users', errorRate: 1 })).toMatchObject({ route: '/api/users', errorRate: 1, source: 'admin' });
    expect(await get('/api/users')).toEqual({ status: 500, body: { error: 'injected fault on /api/users', injected: true } });
    expect((await get('/api/users/1')).status).toBe(200);
    expect(await getFaults(url)).toHaveLength(1);
    expect(await clearFaults(url)).toBe(1);
    expect((await get('/api/users')).status).toBe(200);
  });

  it('never faults the probes or the admin API, even with a fault on every route', async () => {
    await setFault(url, { route: '*', errorRate: 1 });
    expect((await get('/api/checkout')).status).toBe(500);
    expect((await get('/api/orders', { method: 'POST' })).status).toBe(500);
    expect((await get('/health')).status).toBe(200);
    expect((await get('/ready')).status).toBe(200);
    expect((await get('/admin/faults')).status).toBe(200);
    expect(await clearFaults(url, '*')).toBe(1);
  });

  it('adds latency to the faulted route', async () => {
    await setFault(url, { route: '/api/users/:id', latencyMs: 200 });
    const started = performance.now();
    expect((await get('/api/users/1')).status).toBe(200);
    // Timers never fire early by more than a rounding millisecond: a lower bound only.
    expect(performance.now() - started).toBeGreaterThanOrEqual(195);
  });

  it('rejects an invalid fault with the problems', async () => {
    await expect(setFault(url, { route: '/api/users/1', errorRate: 5 })).rejects.toThrow(/HTTP 400: route: "\/api\/users\/1" is not a route.*errorRate/);
  });
});

describe('demo app admin API outside local development', () => {
  const token = 'a-long-enough-token-for-tests';

  it('is open on loopback, off elsewhere, and token-guarded when a token is given', () => {
    expect(demoAdminMode({ host: '127.0.0.1' })).toEqual({ mode: 'open' });
    expect(demoAdminMode({ host: '::1' })).toEqual({ mode: 'open' });
    expect(demoAdminMode({ host: '0.0.0.0' })).toEqual({ mode: 'off' });
    expect(demoAdminMode({ host: '0.0.0.0', faultsToken: token })).toEqual({ mode: 'token', token });
    const config = parseDemoAppArgs([], { AIOPS_HTTP_HOST: '0.0.0.0', AIOPS_DEMO_FAULTS_TOKEN: token });
    expect(config).toMatchObject({ host: '0.0.0.0', faultsToken: token });
    expect(parseDemoAppArgs([], { AIOPS_HTTP_HOST: '0.0.0.0', AIOPS_DEMO_HOST: '127.0.0.2' })?.host).toBe('127.0.0.2');
    expect(() => parseDemoAppArgs([], { AIOPS_DEMO_FAULTS_TOKEN: 'short' })).toThrow(/at least 16 characters/);
  });

  async function serve(admin: Parameters<typeof createDemoApp>[0]): Promise<{ url: string; close: () => Promise<void> }> {
    const { app } = createDemoApp({ ...admin, dbLatencyMs: [0, 1] });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: async () => {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  }

  it('answers 404 on every admin call when off, and still serves the shop', async () => {
    const app = await serve({ admin: { mode: 'off' } });
    try {
      for (const method of ['GET', 'PUT', 'DELETE']) expect((await fetch(`${app.url}/admin/faults`, { method })).status).toBe(404);
      expect((await fetch(`${app.url}/api/users`)).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('needs the bearer token, which the client sends from AIOPS_DEMO_FAULTS_TOKEN', async () => {
    const app = await serve({ admin: { mode: 'token', token } });
    try {
      expect((await fetch(`${app.url}/admin/faults`)).status).toBe(401);
      expect((await fetch(`${app.url}/admin/faults`, { headers: { authorization: 'Bearer wrong-token-of-some-length' } })).status).toBe(401);
      await expect(setFault(app.url, { route: '/api/users', latencyMs: 1 })).rejects.toThrow(/HTTP 401/);
      vi.stubEnv('AIOPS_DEMO_FAULTS_TOKEN', token);
      try {
        await setFault(app.url, { route: '/api/users', latencyMs: 1 });
        expect(await getFaults(app.url)).toHaveLength(1);
      } finally {
        vi.unstubAllEnvs();
      }
    } finally {
      await app.close();
    }
  });
});
