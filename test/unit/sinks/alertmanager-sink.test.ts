import { createServer } from 'node:http';
import type { Server } from 'node:http';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AnomalyEvent } from '../../../schemas/anomalies.js';
import type { SloEvent } from '../../../schemas/slo.js';
import { AlertmanagerSink } from '../../../sinks/alertmanager/alertmanager-sink.js';
import type { PostableAlert } from '../../../sinks/alertmanager/alertmanager-sink.js';
import type { SinkEvent } from '../../../sinks/runtime.js';

const T = Date.UTC(2025, 0, 2, 3, 4, 5);
const log = pino({ level: 'silent' });

function anomaly(id: string, state: AnomalyEvent['state']): SinkEvent {
  return {
    kind: 'anomaly', topic: 'aiops.anomalies.v1', partition: 0, offset: '0',
    event: {
      id, timestamp: T, metric: 'http.p95', signal: `http{service.name="${id}"}`, expected_value: 0.12, actual_value: 2.4, lower: 0.08, upper: 0.16, deviation: 2.28,
      score: 0.97, confidence: 0.8, severity: 'critical', state, detector: 'holt-winters', mode: 'seasonal', started_at: T, context: { service: id, endpoint: '/api/pay', dimensions: {} },
    },
  };
}

function slo(id: string, state: SloEvent['state']): SinkEvent {
  return {
    kind: 'slo', topic: 'aiops.slo.v1', partition: 0, offset: '0',
    event: {
      id, timestamp: T, slo: id, service: 'payments', description: '', sli: 'availability', objective: 0.999, period: '30d rolling', period_ms: 30 * 86_400_000,
      tier: 'page', state, long_window_ms: 3_600_000, short_window_ms: 300_000, factor: 14.4, long_burn_rate: 20, short_burn_rate: 300, budget_remaining: 0.6,
      projected_exhaustion: null, started_at: T, labels: {},
    },
  };
}

/** The Alertmanager sink's active set and staleness against a stand-in Alertmanager that records every post. */
describe('AlertmanagerSink staleness', () => {
  let server: Server;
  let url = '';
  const posts: PostableAlert[][] = [];
  let now = T;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        posts.push(JSON.parse(body) as PostableAlert[]);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    posts.length = 0;
    now = T;
  });

  function sink(): AlertmanagerSink {
    return new AlertmanagerSink({ url, resendIntervalMs: 60_000, staleness: { anomalyMs: 600_000, sloMs: 1_200_000 }, now: () => now, log });
  }

  it('resolves an alert whose source went silent, with endsAt now and the stale reason, per kind', async () => {
    const s = sink();
    await s.deliver([anomaly('a1', 'OPEN'), slo('s1', 'FIRING')]);
    expect([...s.active.keys()].sort()).toEqual(['a1', 's1']);
    now = T + 599_999;
    expect(await s.resolveStale()).toBe(0);
    now = T + 600_000;
    posts.length = 0;
    expect(await s.resolveStale()).toBe(1);
    expect(posts).toHaveLength(1);
    const [ended] = posts[0] ?? [];
    expect(ended?.labels.service).toBe('a1');
    expect(ended?.endsAt).toBe(new Date(T + 600_000).toISOString());
    expect(ended?.annotations.resolved_reason).toBe('stale');
    expect(ended?.annotations.stale_reason).toBe('no event about it for 10m (stale after 10m)');
    expect([...s.active.keys()]).toEqual(['s1']);
    expect(s.stats.stale).toEqual({ anomaly: 1, slo: 0 });
    now = T + 1_200_000;
    expect(await s.resolveStale()).toBe(1);
    expect(s.active.size).toBe(0);
    expect(s.stats.stale).toEqual({ anomaly: 1, slo: 1 });
    await s.close();
  });

  it('keeps an alert whose source keeps repeating it, and forgets one its source resolved', async () => {
    const s = sink();
    await s.deliver([anomaly('a1', 'OPEN'), anomaly('a2', 'OPEN')]);
    now = T + 500_000;
    await s.deliver([anomaly('a1', 'UPDATE'), anomaly('a2', 'RESOLVED')]);
    now = T + 1_000_000;
    expect(await s.resolveStale()).toBe(0);
    expect([...s.active.keys()]).toEqual(['a1']);
    now = T + 1_100_000;
    expect(await s.resolveStale()).toBe(1);
    expect(s.stats.stale.anomaly).toBe(1);
    await s.close();
  });

  it('makes an alert active again when its source speaks after it was resolved as stale', async () => {
    const s = sink();
    await s.deliver([anomaly('a1', 'OPEN')]);
    now = T + 600_000;
    await s.resolveStale();
    now = T + 700_000;
    posts.length = 0;
    await s.deliver([anomaly('a1', 'UPDATE')]);
    expect(s.active.has('a1')).toBe(true);
    expect(Date.parse(posts[0]?.[0]?.endsAt ?? '')).toBeGreaterThan(now);
    await s.close();
  });

  it('keeps an alert whose Alertmanager post failed, and resolves it on the next check', async () => {
    const s = new AlertmanagerSink({ url: 'http://127.0.0.1:9', resendIntervalMs: 60_000, staleness: { anomalyMs: 1_000, sloMs: 1_000 }, now: () => now, log });
    await expect(s.deliver([anomaly('a1', 'OPEN')])).rejects.toThrow();
    now = T + 2_000;
    await expect(s.resolveStale()).rejects.toThrow();
    expect(s.active.has('a1')).toBe(true);
    expect(s.stats.stale.anomaly).toBe(0);
    await s.close();
  });
});
