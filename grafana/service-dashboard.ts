import { prom } from './model.js';
import type { DashboardSpec, PanelSpec } from './model.js';
import { anomalyAnnotations, http, links, rate, routeVariable, serviceVariable, sloAnnotations, svc } from './queries.js';

/** Dashed, unfilled band edges and a filled area between them (Grafana's fill-below-to). */
const bandOverrides = [
  { matcher: { id: 'byRegexp', options: '.*upper.*' }, properties: [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [6, 4] } }, { id: 'custom.fillBelowTo', value: 'lower' }, { id: 'color', value: { mode: 'fixed', fixedColor: 'blue' } }] },
  { matcher: { id: 'byRegexp', options: '.*lower.*' }, properties: [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [6, 4] } }, { id: 'color', value: { mode: 'fixed', fixedColor: 'blue' } }] },
  { matcher: { id: 'byRegexp', options: '.*actual.*' }, properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: 'orange' } }, { id: 'custom.lineWidth', value: 2 }] },
];

const band = (metric: string, title: string, unit: string): PanelSpec => ({
  title,
  type: 'timeseries',
  description: `The detector's expected value and prediction interval for ${metric} of each route, with the actual value. Orange regions are anomaly events (annotations from the Grafana sink).`,
  w: 12,
  h: 9,
  unit,
  targets: [
    prom(`aiops_anomaly_actual{service="$service", endpoint=~"$route", metric="${metric}"}`, '{{endpoint}} actual'),
    prom(`aiops_anomaly_expected{service="$service", endpoint=~"$route", metric="${metric}"}`, '{{endpoint}} expected'),
    prom(`aiops_anomaly_lower{service="$service", endpoint=~"$route", metric="${metric}"}`, '{{endpoint}} lower'),
    prom(`aiops_anomaly_upper{service="$service", endpoint=~"$route", metric="${metric}"}`, '{{endpoint}} upper'),
  ],
  overrides: bandOverrides,
});

/** The service's own process: its OpenTelemetry runtime metrics through the collector (`instance` = service.instance.id). */
const job = 'job="$service"';
const resourcePanels: PanelSpec[] = [
  {
    title: 'CPU (cores)',
    type: 'timeseries',
    description: 'CPU seconds per second of each instance of the service (process.cpu.time, user + system): 1 = one core busy.',
    w: 6,
    h: 7,
    unit: 'short',
    min: 0,
    targets: [prom(`sum by (instance) (${rate(`process_cpu_time_seconds_total{${job}}`)})`, '{{instance}}')],
  },
  {
    title: 'Memory: resident and heap used',
    type: 'timeseries',
    description: 'Resident set size (process.memory.usage) and V8 heap in use over all heap spaces (v8js.memory.heap.used) of each instance.',
    w: 6,
    h: 7,
    unit: 'bytes',
    min: 0,
    targets: [prom(`sum by (instance) (process_memory_usage_bytes{${job}})`, '{{instance}} resident'), prom(`sum by (instance) (v8js_memory_heap_used_bytes{${job}})`, '{{instance}} heap used')],
  },
  {
    title: 'Time in GC pauses',
    type: 'timeseries',
    description: 'Share of wall time spent in garbage collection pauses, by kind (v8js.gc.duration): sustained values above a few percent mean allocation pressure.',
    w: 6,
    h: 7,
    unit: 'percentunit',
    min: 0,
    targets: [prom(`sum by (v8js_gc_type) (${rate(`v8js_gc_duration_seconds_sum{${job}}`)})`, '{{v8js_gc_type}}')],
  },
  {
    title: 'Event-loop delay p99',
    type: 'timeseries',
    description: 'The 99th percentile of the event loop\'s delay (nodejs.eventloop.delay.p99, 10 ms resolution): requests wait at least this long when it rises.',
    w: 6,
    h: 7,
    unit: 's',
    min: 0,
    targets: [prom(`max by (instance) (nodejs_eventloop_delay_p99_seconds{${job}})`, '{{instance}}')],
  },
];

export const serviceDashboard: DashboardSpec = {
  uid: 'aiops-service',
  title: 'AIOps / Service performance',
  description: 'Traffic, errors and latency of one service from its OpenTelemetry metrics, with the anomaly detector\'s expected bands and events, and the service\'s resource use.',
  firstLook:
    '**Error ratio** and **Latency p95** first: an orange region is an anomaly the detector opened, a red one an SLO alert. ' +
    'Then the **heatmap** (a new band of slow requests, or everything slower?) and the **expected bands** (how far outside normal). ' +
    'If latency rose with **CPU**, **GC** or **event-loop delay**, the process itself is saturated; if not, follow the panel links to the traces of the same routes.',
  tags: ['aiops', 'performance'],
  variables: [serviceVariable, routeVariable],
  annotations: [anomalyAnnotations, sloAnnotations],
  links: [links.traces, links.slo],
  panels: [
    {
      title: 'Requests per second',
      type: 'timeseries',
      description: 'Server requests per second by route.',
      w: 8,
      h: 8,
      unit: 'reqps',
      targets: [prom(`sum by (http_route) (${rate(`${http}_count{${svc}}`)})`, '{{http_route}}')],
    },
    {
      title: 'Error ratio (5xx)',
      type: 'timeseries',
      description: 'Share of requests answered with a 5xx status, by route. The link opens the error traces of the same routes.',
      w: 8,
      h: 8,
      unit: 'percentunit',
      min: 0,
      targets: [prom(`sum by (http_route) (${rate(`${http}_count{${svc}, http_response_status_code=~"5.."}`)}) / sum by (http_route) (${rate(`${http}_count{${svc}}`)})`, '{{http_route}}')],
      links: [{ ...links.traces, title: 'Error traces of these routes' }],
    },
    {
      title: 'Latency p95',
      type: 'timeseries',
      description: '95th percentile of server request duration by route, from the histogram buckets (linear interpolation inside a bucket).',
      w: 8,
      h: 8,
      unit: 's',
      targets: [prom(`histogram_quantile(0.95, sum by (le, http_route) (${rate(`${http}_bucket{${svc}}`)}))`, '{{http_route}}')],
      links: [{ ...links.traces, title: 'Traces and latency per operation' }],
    },
    {
      title: 'Request duration heatmap',
      type: 'heatmap',
      description: 'Requests per histogram bucket of http.server.request.duration over time (the buckets as the SDK exports them): a new band above the usual one is a slow path, a shift of the whole band a slower service.',
      w: 12,
      h: 8,
      unit: 's',
      targets: [{ ...prom(`sum by (le) (increase(${http}_bucket{${svc}}[$__rate_interval]))`, '{{le}}'), format: 'heatmap' }],
    },
    {
      title: 'Latency percentiles (all routes)',
      type: 'timeseries',
      description: 'p50, p95 and p99 of server request duration over the selected routes.',
      w: 12,
      h: 8,
      unit: 's',
      targets: [0.5, 0.95, 0.99].map((q) => prom(`histogram_quantile(${q}, sum by (le) (${rate(`${http}_bucket{${svc}}`)}))`, `p${Math.round(q * 100)}`)),
    },
    {
      title: 'Responses by status code',
      type: 'timeseries',
      description: 'Responses per second by HTTP status code.',
      w: 24,
      h: 7,
      unit: 'reqps',
      targets: [prom(`sum by (http_response_status_code) (${rate(`${http}_count{${svc}}`)})`, '{{http_response_status_code}}')],
    },
    band('http.p95', 'p95 latency: expected band (anomaly detector)', 's'),
    band('http.errorRatio', 'Error ratio: expected band (anomaly detector)', 'percentunit'),
    {
      title: 'Anomaly score',
      type: 'timeseries',
      description: 'The detector\'s score of the latest point of each signal, in [0, 1]; events open at 0.5.',
      w: 24,
      h: 7,
      min: 0,
      max: 1,
      thresholds: [
        { value: null, color: 'green' },
        { value: 0.5, color: 'orange' },
        { value: 0.9, color: 'red' },
      ],
      targets: [prom('max by (endpoint, metric) (aiops_anomaly_score{service="$service", endpoint=~"$route"})', '{{metric}} {{endpoint}}')],
    },
    ...resourcePanels,
  ],
};
