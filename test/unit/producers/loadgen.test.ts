import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { WeightedPicker, dueRequests, parseDuration, parseMix, parseMixSpec, plannedRequests, quantile, runLoad, runLoadgen } from '../../../producers/loadgen/index.js';

/** A tiny target: counts requests by "METHOD path", tracks concurrency, answers after `delayMs`. */
class Target {
  readonly received = new Map<string, number>();
  readonly bodies: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  delayMs = 0;
  readonly server: Server;

  constructor() {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const key = `${req.method} ${req.url}`;
        this.received.set(key, (this.received.get(key) ?? 0) + 1);
        if (chunks.length > 0) this.bodies.push(Buffer.concat(chunks).toString());
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        setTimeout(() => {
          this.inFlight--;
          const status = req.url?.startsWith('/fail') ? 500 : req.url?.startsWith('/missing') ? 404 : 200;
          res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
        }, this.delayMs);
      });
    });
  }

  reset(): void {
    this.received.clear();
    this.bodies.length = 0;
    this.inFlight = 0;
    this.maxInFlight = 0;
    this.delayMs = 0;
  }

  total(): number {
    return [...this.received.values()].reduce((a, b) => a + b, 0);
  }
}

describe('load generator scheduling', () => {
  it('smooth weighted round robin follows the weights within one request, from the start', () => {
    const picker = new WeightedPicker([
      { key: 'a', weight: 5 },
      { key: 'b', weight: 2 },
      { key: 'c', weight: 1 },
    ]);
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let n = 1; n <= 800; n++) {
      const key = picker.next().key;
      counts[key] = (counts[key] ?? 0) + 1;
      expect(Math.abs((counts.a ?? 0) - (n * 5) / 8)).toBeLessThanOrEqual(1);
      expect(Math.abs((counts.b ?? 0) - (n * 2) / 8)).toBeLessThanOrEqual(1);
      expect(Math.abs((counts.c ?? 0) - n / 8)).toBeLessThanOrEqual(1);
    }
    expect(counts).toEqual({ a: 500, b: 200, c: 100 });
  });

  it('plans rate × duration requests, one at once and then evenly spaced', () => {
    expect(plannedRequests(10, 1_000)).toBe(10);
    expect(plannedRequests(3, 500)).toBe(2);
    expect(dueRequests(0, 10, 1_000)).toBe(1);
    expect(dueRequests(99, 10, 1_000)).toBe(1);
    expect(dueRequests(100, 10, 1_000)).toBe(2);
    expect(dueRequests(950, 10, 1_000)).toBe(10);
    expect(dueRequests(60_000, 10, 1_000)).toBe(10);
  });

  it('takes nearest-rank quantiles', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(sorted, 0.5)).toBe(50);
    expect(quantile(sorted, 0.95)).toBe(95);
    expect(quantile([], 0.5)).toBe(0);
  });

  it('rejects a malformed mix with every problem', () => {
    expect(() => parseMix({ 'GET /a': 1, 'FETCH /b': 1, nopath: 1, 'GET /c': -1 })).toThrow(/FETCH.*nopath.*GET \/c/);
    expect(() => parseMix({ 'GET /a': 0 })).toThrow(/at least one entry/);
    expect(parseMix({ 'post /orders': 2 })).toEqual([{ key: 'post /orders', method: 'POST', path: '/orders', weight: 2 }]);
  });

  it('parses durations and mix specs', () => {
    expect(parseDuration('1500')).toBe(1_500);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('soon')).toBeUndefined();
    expect(parseMixSpec('GET /api/users=5, POST /api/orders=2,GET /x')).toEqual({ 'GET /api/users': 5, 'POST /api/orders': 2, 'GET /x': 1 });
    expect(() => parseMixSpec('GET /a=x')).toThrow(/weight/);
  });
});

describe('runLoad against a local HTTP server', () => {
  const target = new Target();
  let baseUrl: string;

  beforeAll(async () => {
    await new Promise<void>((resolve) => target.server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(target.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    target.server.closeAllConnections();
    await new Promise((resolve) => target.server.close(resolve));
  });
  afterEach(() => {
    target.reset();
    vi.restoreAllMocks();
  });

  it('sends rate × duration requests in the weighted mix, never ahead of the schedule', async () => {
    const starts: number[] = [];
    const realFetch = globalThis.fetch;
    vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
      starts.push(performance.now());
      return realFetch(input, init);
    });
    const rate = 40;
    const result = await runLoad({ baseUrl, ratePerSecond: rate, durationMs: 1_000, mix: { 'GET /a': 3, 'POST /b': 1 }, body: () => ({ hello: 'world' }) });

    // Every planned request is either sent or (on a starved event loop) skipped; never more.
    expect(result.sent + result.skipped).toBe(40);
    expect(result.sent).toBeGreaterThanOrEqual(20);
    expect(result.ok).toBe(result.sent);
    expect(result.errors).toBe(0);
    // The server saw exactly what was sent, in the mix's proportions (within one request).
    expect(target.total()).toBe(result.sent);
    expect(target.received.get('GET /a')).toBe(result.byRoute['GET /a']?.sent);
    expect(target.received.get('POST /b')).toBe(result.byRoute['POST /b']?.sent);
    expect(Math.abs((result.byRoute['GET /a']?.sent ?? 0) - (result.sent * 3) / 4)).toBeLessThanOrEqual(1);
    expect(target.bodies.every((b) => b === '{"hello":"world"}')).toBe(true);
    expect(target.bodies).toHaveLength(result.byRoute['POST /b']?.sent ?? -1);
    expect(result.byRoute['GET /a']?.statuses).toEqual({ '200': result.byRoute['GET /a']?.sent });

    // Rate bound: the k-th request never starts before (k - 1) / rate seconds into the run.
    // (Start times as the client made them, so no network timing is involved; +1 for the origin.)
    expect(starts).toHaveLength(result.sent);
    const first = starts[0] ?? 0;
    starts.forEach((t, i) => expect(i + 1).toBeLessThanOrEqual(Math.floor(((t - first) * rate) / 1000) + 2));
    expect(result.latencyMs.p50).toBeGreaterThan(0);
    expect(result.latencyMs.p95).toBeGreaterThanOrEqual(result.latencyMs.p50);
  });

  it('caps concurrent requests and skips what is due at the cap instead of queueing it', async () => {
    target.delayMs = 250;
    const result = await runLoad({ baseUrl, ratePerSecond: 100, durationMs: 500, mix: { 'GET /slow': 1 }, maxInFlight: 3 });
    expect(target.maxInFlight).toBeLessThanOrEqual(3);
    expect(result.sent + result.skipped).toBe(50);
    // 3 at a time for ~0.5 s of 250 ms requests: a handful sent, most skipped.
    expect(result.sent).toBeGreaterThanOrEqual(3);
    expect(result.sent).toBeLessThanOrEqual(12);
    expect(result.skipped).toBeGreaterThanOrEqual(38);
    expect(result.ok).toBe(result.sent);
  });

  it('does not catch up in a burst after the event loop was blocked: what is far overdue is skipped', async () => {
    const starts: number[] = [];
    const realFetch = globalThis.fetch;
    vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
      starts.push(performance.now());
      return realFetch(input, init);
    });
    let unblocked = 0;
    setTimeout(() => {
      const until = performance.now() + 400;
      while (performance.now() < until) {
        // Busy: nothing else runs for 400 ms (about 40 requests' worth at 100/s).
      }
      unblocked = performance.now();
    }, 100);
    const result = await runLoad({ baseUrl, ratePerSecond: 100, durationMs: 1_000, mix: { 'GET /a': 1 } });
    expect(result.sent + result.skipped).toBe(100);
    // At most 100 ms worth (10 requests) of the backlog is sent; the other ~30 are skipped.
    expect(result.skipped).toBeGreaterThanOrEqual(25);
    expect(starts.filter((t) => t >= unblocked && t < unblocked + 5).length).toBeLessThanOrEqual(12);
  });

  it('counts error statuses and fills path parameters', async () => {
    const result = await runLoad({
      baseUrl,
      ratePerSecond: 50,
      durationMs: 400,
      mix: { 'GET /fail': 1, 'GET /missing/:id': 1, 'GET /users/:id': 2 },
      params: { id: () => 7 },
    });
    expect(result.sent + result.skipped).toBe(20);
    const fail = result.byRoute['GET /fail'];
    const missing = result.byRoute['GET /missing/:id'];
    expect(fail?.statuses).toEqual({ '500': fail?.sent });
    expect(missing?.statuses).toEqual({ '404': missing?.sent });
    expect(result.errors).toBe((fail?.sent ?? 0) + (missing?.sent ?? 0));
    expect(result.ok).toBe(result.byRoute['GET /users/:id']?.sent);
    expect(target.received.get('GET /users/7')).toBe(result.byRoute['GET /users/:id']?.sent);
  });

  it('counts network errors when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await runLoad({ baseUrl: `http://127.0.0.1:${port}`, ratePerSecond: 20, durationMs: 200, mix: { 'GET /': 1 } });
    expect(result.sent).toBeGreaterThan(0);
    expect(result.ok).toBe(0);
    expect(result.errors).toBe(result.sent);
    expect(result.byRoute['GET /']?.statuses).toEqual({ network: result.sent });
  });

  it('stops early on abort and reports what was sent until then', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const result = await runLoad({ baseUrl, ratePerSecond: 20, durationMs: 60_000, mix: { 'GET /a': 1 }, signal: controller.signal });
    expect(result.sent).toBeGreaterThan(0);
    expect(result.sent + result.skipped).toBeLessThan(1_200);
    expect(target.total()).toBeLessThanOrEqual(result.sent);
  });

  it('runLoadgen prints the result as JSON and rejects bad flags', async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    const code = await runLoadgen(['--url', baseUrl, '--rate', '20', '--duration', '250ms', '--mix', 'GET /a=1,GET /fail=1', '--json']);
    vi.mocked(process.stdout.write).mockRestore();
    expect(code).toBe(0);
    const result = JSON.parse(out.join('')) as { sent: number; skipped: number; ok: number; errors: number };
    expect(result.sent + result.skipped).toBe(5);
    expect(result.ok + result.errors).toBe(result.sent);
    await expect(runLoadgen(['--rate=0', '--duration', 'forever'])).rejects.toThrow(/url.*\n.*rate.*\n.*duration/);
  });
});
