import { metrics } from '@opentelemetry/api';
import type { Meter } from '@opentelemetry/api';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { RunnerStats } from './runner.js';

/** A reader that collects on demand, for `/metrics`. */
class PullReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** A process's own metrics, rendered in the Prometheus text format on request. */
export interface Telemetry {
  readonly meter: Meter;
  /** The current metrics in the Prometheus exposition format. */
  render(): Promise<string>;
  shutdown(): Promise<void>;
}

/**
 * Self-telemetry of a platform process through the OpenTelemetry metrics SDK: the runner's
 * counters and gauges as `aiops.<component>.*` instruments, exported by pull on `/metrics`.
 */
export function createTelemetry(component: string, stats: () => Promise<RunnerStats>): Telemetry {
  const reader = new PullReader();
  const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': `aiops-${component}` }), readers: [reader] });
  const meter = provider.getMeter(`aiops.${component}`);
  const counters = meter.createObservableCounter(`aiops.${component}.events`, { description: 'Records, points, commits, dead letters and skips, by kind', unit: '{event}' });
  const lag = meter.createObservableGauge(`aiops.${component}.lag`, { description: 'Records behind the end of each input partition', unit: '{record}' });
  const stateBytes = meter.createObservableGauge(`aiops.${component}.state.size`, { description: 'Approximate bytes of state held', unit: 'By' });
  const stateEntries = meter.createObservableGauge(`aiops.${component}.state.entries`, { description: 'Entries in the state stores', unit: '{entry}' });
  meter.addBatchObservableCallback(
    async (result) => {
      const s = await stats();
      for (const [kind, value] of Object.entries(s.counters)) result.observe(counters, value, { kind });
      for (const [partition, value] of Object.entries(s.lag)) result.observe(lag, value, { partition });
      result.observe(stateBytes, s.stateBytes);
      result.observe(stateEntries, s.stateEntries);
    },
    [counters, lag, stateBytes, stateEntries],
  );
  const serializer = new PrometheusSerializer();
  return {
    meter,
    async render() {
      const { resourceMetrics } = await reader.collect();
      return serializer.serialize(resourceMetrics);
    },
    shutdown: () => provider.shutdown(),
  };
}

/** The global meter, for code that only records (no-op until an SDK is registered). */
export function globalMeter(name: string): Meter {
  return metrics.getMeter(name);
}
