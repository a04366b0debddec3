import { prom } from './model.js';
import type { DashboardSpec, PanelSpec } from './model.js';

/*
 * The platform's Grafana dashboards, as code. `npm run dashboards` writes them to
 * compose/grafana/dashboards/ (provisioned by compose and helm); test/e2e/demo-scenarios.test.ts
 * runs every query of every panel against the real Prometheus and Jaeger after a demo run.
 *
 * Metric names come from three places:
 * - the services' OpenTelemetry metrics through the collector's Prometheus exporter
 *   (`http_server_request_duration_seconds_*`, `job` = the service name);
 * - evaluate's gauges (`aiops_anomaly_*`, `aiops_slo_*`);
 * - every platform process's own metrics (`aiops_process_*`, `aiops_sink_*`).
 */

const http = 'http_server_request_duration_seconds';
const svc = 'job="$service", http_route=~"$route"';
const rate = (selector: string): string => `rate(${selector}[$__rate_interval])`;

const serviceVariable = { name: 'service', label: 'Service', query: `label_values(${http}_count, job)` };
const routeVariable = { name: 'route', label: 'Route', query: `label_values(${http}_count{job="$service"}, http_route)`, multi: true, includeAll: true };
const anomalyAnnotations = { name: 'Anomalies', color: 'orange', tags: ['aiops', 'anomaly', 'service:$service'] };
const sloAnnotations = { name: 'SLO alerts', color: 'red', tags: ['aiops', 'slo', 'service:$service'] };

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

export const serviceDashboard: DashboardSpec = {
  uid: 'aiops-service',
  title: 'AIOps / Service performance',
  description: 'Traffic, errors and latency of one service from its OpenTelemetry metrics, with the anomaly detector\'s expected bands and events.',
  tags: ['aiops', 'performance'],
  variables: [serviceVariable, routeVariable],
  annotations: [anomalyAnnotations, sloAnnotations],
  links: [{ title: 'Traces', url: '/d/aiops-traces?${service:queryparam}' }, { title: 'SLOs', url: '/d/aiops-slo?${service:queryparam}' }],
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
      description: 'Share of requests answered with a 5xx status, by route.',
      w: 8,
      h: 8,
      unit: 'percentunit',
      min: 0,
      targets: [prom(`sum by (http_route) (${rate(`${http}_count{${svc}, http_response_status_code=~"5.."}`)}) / sum by (http_route) (${rate(`${http}_count{${svc}}`)})`, '{{http_route}}')],
    },
    {
      title: 'Latency p95',
      type: 'timeseries',
      description: '95th percentile of server request duration by route, from the histogram buckets (linear interpolation inside a bucket).',
      w: 8,
      h: 8,
      unit: 's',
      targets: [prom(`histogram_quantile(0.95, sum by (le, http_route) (${rate(`${http}_bucket{${svc}}`)}))`, '{{http_route}}')],
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
      w: 12,
      h: 8,
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
  ],
};

const slo = 'service="$service", slo=~"$slo"';

export const sloDashboard: DashboardSpec = {
  uid: 'aiops-slo',
  title: 'AIOps / SLOs',
  description: 'Error budgets and multi-window burn rates as the streaming SLO engine computes them (evaluate\'s gauges), with its alerts.',
  tags: ['aiops', 'slo'],
  variables: [
    { name: 'service', label: 'Service', query: 'label_values(aiops_slo_objective, service)' },
    { name: 'slo', label: 'SLO', query: 'label_values(aiops_slo_objective{service="$service"}, slo)', multi: true, includeAll: true },
  ],
  annotations: [sloAnnotations],
  links: [{ title: 'Service performance', url: '/d/aiops-service?${service:queryparam}' }],
  panels: [
    {
      title: 'Error budget remaining',
      type: 'stat',
      description: 'Share of the period\'s error budget left; negative when overspent.',
      w: 8,
      h: 6,
      unit: 'percentunit',
      thresholds: [
        { value: null, color: 'red' },
        { value: 0.25, color: 'orange' },
        { value: 0.5, color: 'green' },
      ],
      targets: [prom(`aiops_slo_budget_remaining{${slo}}`, '{{slo}}', true)],
    },
    {
      title: 'Objective',
      type: 'stat',
      description: 'Target share of good events.',
      w: 8,
      h: 6,
      unit: 'percentunit',
      targets: [prom(`aiops_slo_objective{${slo}}`, '{{slo}}', true)],
    },
    {
      title: 'Events this period',
      type: 'stat',
      description: 'Events counted in the current SLO period (rolling or calendar).',
      w: 8,
      h: 6,
      unit: 'short',
      targets: [prom(`aiops_slo_period_events{${slo}}`, '{{slo}}', true)],
    },
    {
      title: 'Burn rate, page windows (1h, 5m)',
      type: 'timeseries',
      description: 'Burn rate over the page pair of windows; the page fires when both exceed 14.4 (scaled to the period).',
      w: 12,
      h: 8,
      min: 0,
      thresholds: [
        { value: null, color: 'green' },
        { value: 14.4, color: 'red' },
      ],
      targets: [prom(`aiops_slo_burn_rate{${slo}, window=~"1h|5m"}`, '{{slo}} {{window}}')],
    },
    {
      title: 'Burn rate, ticket windows (6h, 30m, 1d, 2h, 3d)',
      type: 'timeseries',
      description: 'Burn rate over the longer windows: 6x over 6h and 30m pages too; 3x over 1d and 2h and 1x over 3d and 6h open tickets.',
      w: 12,
      h: 8,
      min: 0,
      thresholds: [
        { value: null, color: 'green' },
        { value: 1, color: 'orange' },
        { value: 6, color: 'red' },
      ],
      targets: [prom(`aiops_slo_burn_rate{${slo}, window=~"6h|30m|1d|2h|3d"}`, '{{slo}} {{window}}')],
    },
    {
      title: 'Error budget remaining over time',
      type: 'timeseries',
      description: 'Share of the period\'s budget left, as the engine updates it each bucket.',
      w: 12,
      h: 8,
      unit: 'percentunit',
      targets: [prom(`aiops_slo_budget_remaining{${slo}}`, '{{slo}}')],
    },
    {
      title: 'Error ratio by window',
      type: 'timeseries',
      description: 'Share of bad events over each window.',
      w: 12,
      h: 8,
      unit: 'percentunit',
      min: 0,
      targets: [prom(`aiops_slo_error_ratio{${slo}, window=~"5m|1h"}`, '{{slo}} {{window}}')],
    },
    {
      title: 'Alerts firing',
      type: 'state-timeline',
      description: 'Each alert tier of each SLO: 1 while firing (page, ticket, budget exhausted).',
      w: 24,
      h: 7,
      thresholds: [
        { value: null, color: 'green' },
        { value: 1, color: 'red' },
      ],
      targets: [prom(`max by (slo, tier) (aiops_slo_alert{${slo}})`, '{{slo}} {{tier}}')],
    },
  ],
};

export const tracesDashboard: DashboardSpec = {
  uid: 'aiops-traces',
  title: 'AIOps / Traces',
  description: 'Recent and failed traces of a service from the trace store (Jaeger), beside its request rate and latency.',
  tags: ['aiops', 'tracing'],
  variables: [serviceVariable, routeVariable],
  annotations: [anomalyAnnotations],
  links: [{ title: 'Service performance', url: '/d/aiops-service?${service:queryparam}' }],
  panels: [
    {
      title: 'Requests per second',
      type: 'timeseries',
      description: 'Server requests per second by route, to pick the time of the traces below.',
      w: 12,
      h: 7,
      unit: 'reqps',
      targets: [prom(`sum by (http_route) (${rate(`${http}_count{${svc}}`)})`, '{{http_route}}')],
    },
    {
      title: 'Slowest routes (p99)',
      type: 'timeseries',
      description: '99th percentile of server request duration by route.',
      w: 12,
      h: 7,
      unit: 's',
      targets: [prom(`histogram_quantile(0.99, sum by (le, http_route) (${rate(`${http}_bucket{${svc}}`)}))`, '{{http_route}}')],
    },
    {
      title: 'Recent traces',
      type: 'table',
      description: 'The latest traces of the service in Jaeger; a trace id opens the trace.',
      w: 24,
      h: 10,
      targets: [{ kind: 'jaeger', service: '$service', limit: 20 }],
    },
    {
      title: 'Failed requests (HTTP 500)',
      type: 'table',
      description: 'Traces with a server span answered 500 (the span also carries the exception and the ERROR status). Jaeger matches tags exactly; edit the tag for other codes.',
      w: 24,
      h: 10,
      targets: [{ kind: 'jaeger', service: '$service', tags: 'http.response.status_code=500', limit: 20 }],
    },
  ],
};

const proc = 'process=~"$process"';

export const platformDashboard: DashboardSpec = {
  uid: 'aiops-platform',
  title: 'AIOps / Platform',
  description: 'The platform\'s own health: throughput, lag and state of ingest and evaluate, deliveries of the sinks, and the collector.',
  tags: ['aiops', 'platform'],
  variables: [{ name: 'process', label: 'Process', query: 'label_values(aiops_process_events_total, process)', multi: true, includeAll: true }],
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
  ],
};

export const dashboards: readonly DashboardSpec[] = [serviceDashboard, sloDashboard, tracesDashboard, platformDashboard];
