import type { AnnotationSpec, LinkSpec, VariableSpec } from './model.js';

/*
 * What the dashboards share: metric names, selectors, variables, annotations and links.
 *
 * Metric names come from four places:
 * - the services' OpenTelemetry metrics through the collector's Prometheus exporter, `job` = the
 *   service name (`http_server_request_duration_seconds_*`; the runtime metrics
 *   `process_cpu_time_seconds_total`, `v8js_memory_heap_used_bytes`, ... with unit suffixes);
 * - the collector's span metrics connector (`traces_span_metrics_*`, labels `service_name`,
 *   `span_name`, `span_kind`, `status_code`, `peer_service`, ...);
 * - evaluate's gauges (`aiops_anomaly_*`, `aiops_slo_*`);
 * - every platform process's own /metrics (`aiops_process_*`, `aiops_sink_*`, and the runtime
 *   metrics without unit suffixes: `process_cpu_time_total{process=...}`, `v8js_memory_heap_used`).
 */

export const http = 'http_server_request_duration_seconds';
export const spans = 'traces_span_metrics';
export const svc = 'job="$service", http_route=~"$route"';
export const rate = (selector: string): string => `rate(${selector}[$__rate_interval])`;

export const serviceVariable: VariableSpec = { name: 'service', label: 'Service', query: `label_values(${http}_count, job)` };
export const routeVariable: VariableSpec = { name: 'route', label: 'Route', query: `label_values(${http}_count{job="$service"}, http_route)`, multi: true, includeAll: true };
export const anomalyAnnotations: AnnotationSpec = { name: 'Anomalies', color: 'orange', tags: ['aiops', 'anomaly', 'service:$service'] };
export const sloAnnotations: AnnotationSpec = { name: 'SLO alerts', color: 'red', tags: ['aiops', 'slo', 'service:$service'] };

/** Links that open another dashboard on the same service (and routes) and time range. */
const withService = '${service:queryparam}&${__url_time_range}';
const withRoutes = '${service:queryparam}&${route:queryparam}&${__url_time_range}';
export const links = {
  service: { title: 'Service performance', url: `/d/aiops-service?${withService}` },
  serviceRoutes: { title: 'Service performance', url: `/d/aiops-service?${withRoutes}` },
  traces: { title: 'Traces', url: `/d/aiops-traces?${withRoutes}` },
  tracesOfService: { title: 'Traces', url: `/d/aiops-traces?${withService}` },
  slo: { title: 'SLOs', url: `/d/aiops-slo?${withService}` },
} satisfies Record<string, LinkSpec>;
