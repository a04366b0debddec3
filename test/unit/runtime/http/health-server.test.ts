import { describe, expect, it } from 'vitest';
import { buildHealthServer } from '../../../../runtime/http/health-server.js';
import { createTelemetry } from '../../../../runtime/telemetry.js';
import type { RunnerStats } from '../../../../runtime/runner.js';

describe('health server', () => {
  const stats: RunnerStats = { counters: { records: 42, dead_letters: 2 }, partitions: [0, 1], stateEntries: 7, stateBytes: 1024, lag: { 0: 3, 1: 0 } };
  const telemetry = createTelemetry('ingest', async () => stats);
  let ready = false;
  const app = buildHealthServer({ live: () => true, ready: () => ready, metrics: () => telemetry.render(), detail: () => ({ partitions: [0, 1] }) });

  it('answers /health while alive', async () => {
    const response = await app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', partitions: [0, 1] });
  });

  it('answers /ready with 503 until ready, then 200', async () => {
    expect((await app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(503);
    ready = true;
    expect((await app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
  });

  it('exposes the runner statistics as Prometheus metrics', async () => {
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain');
    const text = response.body;
    // Exact names: the dashboards (compose/grafana/dashboards) query them.
    expect(text).toMatch(/^aiops_process_events_total\{process="ingest",kind="records"[^}]*\} 42$/m);
    expect(text).toMatch(/^aiops_process_events_total\{process="ingest",kind="dead_letters"[^}]*\} 2$/m);
    expect(text).toMatch(/^aiops_process_lag\{process="ingest",partition="0"[^}]*\} 3$/m);
    expect(text).toMatch(/^aiops_process_state_size\{process="ingest"[^}]*\} 1024$/m);
    expect(text).toMatch(/^aiops_process_state_entries\{process="ingest"[^}]*\} 7$/m);
  });
});
