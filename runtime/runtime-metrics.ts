import type { Meter, MeterProvider } from '@opentelemetry/api';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { RuntimeNodeInstrumentation } from '@opentelemetry/instrumentation-runtime-node';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider as SdkMeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';

/**
 * Runtime metrics of a Node.js process under the OpenTelemetry semantic conventions' names:
 * - from `@opentelemetry/instrumentation-runtime-node`: `v8js.memory.heap.used` (and the other
 *   heap space sizes, by `v8js.heap.space.name`), `v8js.gc.duration` (histogram by `v8js.gc.type`,
 *   buckets 5 ms .. 10 s), `nodejs.eventloop.delay.{min,max,mean,stddev,p50,p90,p99}`,
 *   `nodejs.eventloop.utilization`, `nodejs.eventloop.time`, `v8js.resource.active`;
 * - from here: `process.cpu.time` (seconds of CPU, by `cpu.mode` user | system) and
 *   `process.memory.usage` (resident set size in bytes), the process metrics of the conventions
 *   without the host-metrics package's system-wide series.
 */

/** Event-loop delay histogram resolution in ms (the instrumentation's monitoringPrecision). */
const eventLoopPrecisionMs = 10;

/** The runtime instrumentation, for the OpenTelemetry Node SDK's `instrumentations` list. */
export function runtimeInstrumentation(): RuntimeNodeInstrumentation {
  return new RuntimeNodeInstrumentation({ monitoringPrecision: eventLoopPrecisionMs });
}

/** Registers `process.cpu.time` and `process.memory.usage` on `meter`. */
export function registerProcessMetrics(meter: Meter): void {
  const cpu = meter.createObservableCounter('process.cpu.time', { description: 'Total CPU seconds used by the process, by CPU mode', unit: 's' });
  const memory = meter.createObservableUpDownCounter('process.memory.usage', { description: 'Resident set size of the process', unit: 'By' });
  meter.addBatchObservableCallback(
    (result) => {
      const usage = process.cpuUsage();
      result.observe(cpu, usage.user / 1e6, { 'cpu.mode': 'user' });
      result.observe(cpu, usage.system / 1e6, { 'cpu.mode': 'system' });
      result.observe(memory, process.memoryUsage.rss());
    },
    [cpu, memory],
  );
}

/**
 * Starts the runtime and process metrics on `provider` (a provider of the process's own, not the
 * global one); stop() disables the runtime instrumentation's observers.
 */
export function startRuntimeMetrics(provider: MeterProvider): { stop(): void } {
  const instrumentation = runtimeInstrumentation();
  instrumentation.setMeterProvider(provider);
  registerProcessMetrics(provider.getMeter('aiops.runtime'));
  return { stop: () => instrumentation.disable() };
}

/** A reader that collects on demand, for `/metrics`. */
export class PullReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** The runtime and process metrics of this process in the Prometheus text format, for a `/metrics`. */
export interface RuntimeMetricsEndpoint {
  /** The metrics, each with a `process` label; no target_info or scope info (the caller's own text may carry them). */
  render(): Promise<string>;
  shutdown(): Promise<void>;
}

/**
 * The runtime and process metrics on a meter provider of their own, whose `process` resource
 * attribute becomes a label on every series (`v8js_memory_heap_used{process="sinks",...}`). The
 * serializer adds no unit suffixes: `process_cpu_time_total`, `nodejs_eventloop_delay_p99`.
 */
export function runtimeMetricsEndpoint(processName: string): RuntimeMetricsEndpoint {
  const reader = new PullReader();
  const provider = new SdkMeterProvider({ resource: resourceFromAttributes({ process: processName }), readers: [reader] });
  const runtime = startRuntimeMetrics(provider);
  const serializer = new PrometheusSerializer(undefined, false, /^process$/, true, true);
  return {
    async render() {
      const { resourceMetrics } = await reader.collect();
      return serializer.serialize(resourceMetrics);
    },
    async shutdown() {
      runtime.stop();
      await provider.shutdown();
    },
  };
}
