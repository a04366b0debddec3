import { metrics } from '@opentelemetry/api';
import type { Meter } from '@opentelemetry/api';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { RunnerStats } from './runner.js';
import { PullReader, runtimeMetricsEndpoint } from './runtime-metrics.js';

/** A process's own metrics, rendered in the Prometheus text format on request. */
export interface Telemetry {
  readonly meter: Meter;
  /** The current metrics in the Prometheus exposition format. */
  render(): Promise<string>;
  shutdown(): Promise<void>;
}

/**
 * Self-telemetry of a platform process through the OpenTelemetry metrics SDK: the runner's
 * counters and gauges as `aiops.process.*` instruments with the process name as the `process`
 * attribute (so dashboards and alerts select any process by label, whatever it is called), its
 * readiness as `aiops.process.ready` 1/0 when `ready` is given (the alert rules watch it), plus
 * whatever the processor registers on {@link Telemetry.meter}; exported by pull on `/metrics`.
 * Beside them the Node.js runtime and process metrics (runtime/runtime-metrics.ts), from a
 * provider of their own whose `process` resource attribute becomes a label on each of them
 * (`v8js_memory_heap_used{process="ingest",...}`; this serializer adds no unit suffixes).
 */
export function createTelemetry(processName: string, stats: () => Promise<RunnerStats>, ready?: () => boolean | Promise<boolean>): Telemetry {
  const reader = new PullReader();
  const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': `aiops-${processName}` }), readers: [reader] });
  const meter = provider.getMeter('aiops.process');
  const counters = meter.createObservableCounter('aiops.process.events', { description: 'Records, points, commits, dead letters and skips, by kind', unit: '{event}' });
  const lag = meter.createObservableGauge('aiops.process.lag', { description: 'Records behind the end of each input partition', unit: '{record}' });
  const stateBytes = meter.createObservableGauge('aiops.process.state.size', { description: 'Approximate bytes of state held', unit: 'By' });
  const stateEntries = meter.createObservableGauge('aiops.process.state.entries', { description: 'Entries in the state stores', unit: '{entry}' });
  // 1 while /ready answers 200 (group joined, every assigned partition restored), else 0.
  const readyGauge = meter.createObservableGauge('aiops.process.ready', { description: 'Whether the process is ready (1) or not (0), as /ready answers' });
  const labels = { process: processName };
  meter.addBatchObservableCallback(
    async (result) => {
      const s = await stats();
      for (const [kind, value] of Object.entries(s.counters)) result.observe(counters, value, { ...labels, kind });
      for (const [partition, value] of Object.entries(s.lag)) result.observe(lag, value, { ...labels, partition });
      result.observe(stateBytes, s.stateBytes, labels);
      result.observe(stateEntries, s.stateEntries, labels);
      if (ready) result.observe(readyGauge, (await ready()) ? 1 : 0, labels);
    },
    [counters, lag, stateBytes, stateEntries, readyGauge],
  );
  const serializer = new PrometheusSerializer();
  const runtime = runtimeMetricsEndpoint(processName);
  return {
    meter,
    async render() {
      const [own, rt] = await Promise.all([reader.collect(), runtime.render()]);
      return `${serializer.serialize(own.resourceMetrics)}${rt}`;
    },
    shutdown: async () => {
      await Promise.all([provider.shutdown(), runtime.shutdown()]);
    },
  };
}

/** The global meter, for code that only records (no-op until an SDK is registered). */
export function globalMeter(name: string): Meter {
  return metrics.getMeter(name);
}
