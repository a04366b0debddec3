import { prom } from './model.js';
import type { DashboardSpec } from './model.js';

const proc = 'process=~"$process"';

export const platformDashboard: DashboardSpec = {
  uid: 'aiops-platform',
  title: 'AIOps / Platform',
  description: 'The platform\'s own health: throughput, lag and state of ingest and evaluate, deliveries of the sinks, the collector, and each process\'s CPU, memory, GC and event loop.',
  firstLook:
    '**Consumer lag** first: a growing lag means alerts arrive late. Then **records per second** (did the input stop or the processing?) ' +
    'and the process\'s **CPU**, **event-loop delay** and **GC** (saturated?) or **state size** (growing without bound?). ' +
    '**Sink deliveries and retries** tell whether alerts leave the platform.',
  tags: ['aiops', 'platform'],
  // Every platform process exports the runtime metrics (the sinks too, which have no aiops_process_*).
  variables: [{ name: 'process', label: 'Process', query: 'label_values(process_cpu_time_total, process)', multi: true, includeAll: true }],
  annotations: [],
  panels: [
    {
      title: 'Records per second',
      type: 'timeseries',
      description: 'Input records each process handled per second.',
      w: 8,
      h: 8,
      unit: 'short',
      targets: [prom(`sum by (process) (rate(aiops_process_events_total{${proc}, kind="records"}[$__rate_interval]))`, '{{process}}')],
    },
    {
      title: 'Consumer lag',
      type: 'timeseries',
      description: 'Records behind the end of the input topic, summed over partitions.',
      w: 8,
      h: 8,
      unit: 'short',
      min: 0,
      targets: [prom(`sum by (process) (aiops_process_lag{${proc}})`, '{{process}}')],
    },
    {
      title: 'State size',
      type: 'timeseries',
      description: 'Approximate bytes of state each process holds (series, partial buckets, detector and SLO state).',
      w: 8,
      h: 8,
      unit: 'bytes',
      targets: [prom(`sum by (process) (aiops_process_state_size{${proc}})`, '{{process}}')],
    },
    {
      title: 'Processor events by kind',
      type: 'timeseries',
      description: 'Per second, by kind: records, points, outputs, commits, dead letters, skips.',
      w: 12,
      h: 8,
      unit: 'short',
      targets: [prom(`sum by (process, kind) (rate(aiops_process_events_total{${proc}}[$__rate_interval]))`, '{{process}} {{kind}}')],
    },
    {
      title: 'Sink deliveries and retries',
      type: 'timeseries',
      description: 'Events each sink\'s target accepted per second, and refused or unanswered attempts (retried with backoff).',
      w: 12,
      h: 8,
      unit: 'short',
      targets: [
        prom('sum by (sink) (rate(aiops_sink_delivered_total[$__rate_interval]))', '{{sink}} delivered'),
        prom('sum by (sink) (rate(aiops_sink_retries_total[$__rate_interval]))', '{{sink}} retries'),
      ],
    },
    {
      title: 'Collector: metric points in and out',
      type: 'timeseries',
      description: 'Metric points the OpenTelemetry Collector accepted, and sent per exporter (Kafka, Prometheus).',
      w: 12,
      h: 8,
      unit: 'short',
      targets: [
        prom('sum(rate(otelcol_receiver_accepted_metric_points[$__rate_interval]))', 'accepted'),
        prom('sum by (exporter) (rate(otelcol_exporter_sent_metric_points[$__rate_interval]))', 'sent {{exporter}}'),
      ],
    },
    {
      title: 'Collector: spans in and out',
      type: 'timeseries',
      description: 'Spans the collector accepted, and sent to the trace store.',
      w: 12,
      h: 8,
      unit: 'short',
      targets: [
        prom('sum(rate(otelcol_receiver_accepted_spans[$__rate_interval]))', 'accepted'),
        prom('sum by (exporter) (rate(otelcol_exporter_sent_spans[$__rate_interval]))', 'sent {{exporter}}'),
      ],
    },
    {
      title: 'CPU per process (cores)',
      type: 'timeseries',
      description: 'CPU seconds per second of each platform process (process.cpu.time, user + system): 1 = one core busy.',
      w: 6,
      h: 8,
      unit: 'short',
      min: 0,
      targets: [prom(`sum by (process) (rate(process_cpu_time_total{${proc}}[$__rate_interval]))`, '{{process}}')],
    },
    {
      title: 'Memory per process',
      type: 'timeseries',
      description: 'Resident set size (process.memory.usage) and V8 heap in use (v8js.memory.heap.used, all spaces) of each process.',
      w: 6,
      h: 8,
      unit: 'bytes',
      min: 0,
      targets: [prom(`sum by (process) (process_memory_usage{${proc}})`, '{{process}} resident'), prom(`sum by (process) (v8js_memory_heap_used{${proc}})`, '{{process}} heap used')],
    },
    {
      title: 'Time in GC pauses',
      type: 'timeseries',
      description: 'Share of wall time each process spent in garbage collection pauses (v8js.gc.duration, all kinds).',
      w: 6,
      h: 8,
      unit: 'percentunit',
      min: 0,
      targets: [prom(`sum by (process) (rate(v8js_gc_duration_sum{${proc}}[$__rate_interval]))`, '{{process}}')],
    },
    {
      title: 'Event-loop delay p99',
      type: 'timeseries',
      description: 'The 99th percentile of each process\'s event-loop delay (nodejs.eventloop.delay.p99, 10 ms resolution): a busy loop delays every record and probe.',
      w: 6,
      h: 8,
      unit: 's',
      min: 0,
      targets: [prom(`max by (process) (nodejs_eventloop_delay_p99{${proc}})`, '{{process}}')],
    },
  ],
};
