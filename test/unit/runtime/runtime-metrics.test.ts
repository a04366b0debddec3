import { describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/eventually.js';
import { runtimeMetricsEndpoint } from '../../../runtime/runtime-metrics.js';
import { createTelemetry } from '../../../runtime/telemetry.js';
import type { RunnerStats } from '../../../runtime/runner.js';

/** Sample lines (`name{labels} value`) of a Prometheus exposition text. */
function samples(text: string): string[] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

describe('runtime metrics on a platform process\'s /metrics', () => {
  it('render CPU, memory, heap and event-loop delay under the OpenTelemetry names, each labelled with the process', async () => {
    const endpoint = runtimeMetricsEndpoint('sinks');
    try {
      // The event-loop delay has a value once its histogram holds 5 samples (10 ms apart) since the last scrape.
      const lines = await eventually('a render with the event-loop delay', async () => {
        const rendered = samples(await endpoint.render());
        return rendered.some((l) => l.startsWith('nodejs_eventloop_delay_p99{')) ? rendered : undefined;
      }, { timeoutMs: 10_000, intervalMs: 100 });
      for (const name of ['process_cpu_time_total', 'process_memory_usage', 'v8js_memory_heap_used', 'nodejs_eventloop_delay_p99', 'nodejs_eventloop_utilization']) {
        const mine = lines.filter((l) => l.startsWith(`${name}{`));
        expect(mine.length, name).toBeGreaterThan(0);
        for (const l of mine) expect(l, name).toMatch(/[{,]process="sinks"[,}]/);
      }
      const cpu = lines.filter((l) => l.startsWith('process_cpu_time_total{'));
      expect(cpu.map((l) => l.match(/cpu_mode="(\w+)"/)?.[1]).sort()).toEqual(['system', 'user']);
      const rss = Number(lines.find((l) => l.startsWith('process_memory_usage{'))?.split(' ').at(-1));
      expect(rss).toBeGreaterThan(10 * 1024 * 1024);
      // The caller's text carries the resource's target_info; this one adds none.
      expect(lines.some((l) => l.startsWith('target_info'))).toBe(false);
    } finally {
      await endpoint.shutdown();
    }
  });

  it('come after the process\'s own aiops_process_* metrics, with one target_info and no metric family twice', async () => {
    const stats: RunnerStats = { counters: { records: 3 }, lag: {}, stateBytes: 10, stateEntries: 1 } as unknown as RunnerStats;
    const telemetry = createTelemetry('evaluate', async () => stats);
    try {
      const text = await telemetry.render();
      const types = text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]);
      expect(new Set(types).size).toBe(types.length);
      expect(types.filter((t) => t === 'target_info')).toHaveLength(1);
      expect(samples(text)).toContain('aiops_process_events_total{process="evaluate",kind="records",otel_scope_name="aiops.process"} 3');
      expect(samples(text).some((l) => /^v8js_memory_heap_used\{.*process="evaluate"/.test(l))).toBe(true);
    } finally {
      await telemetry.shutdown();
    }
  });
});
