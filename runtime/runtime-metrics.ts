import type { Meter, MeterProvider } from '@opentelemetry/api';
import { RuntimeNodeInstrumentation } from '@opentelemetry/instrumentation-runtime-node';

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
