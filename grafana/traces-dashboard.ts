import { prom } from './model.js';
import type { DashboardSpec } from './model.js';
import { anomalyAnnotations, http, links, rate, routeVariable, serviceVariable, sloAnnotations, spans, svc } from './queries.js';

/** Span metrics of the selected service (the collector's span metrics connector). */
const own = 'service_name="$service"';

export const tracesDashboard: DashboardSpec = {
  uid: 'aiops-traces',
  title: 'AIOps / Traces',
  description: 'Recent and failed traces of a service from the trace store (Jaeger), the call graph between services, and request rate, errors and latency per service and operation from the span metrics.',
  firstLook:
    'The **error traces** (red, beside the latest ones): open one from its trace id and read the span with the exception. ' +
    'The **service graph** and **calls between services** show whether the failures or the time come from a callee; ' +
    '**latency per operation** shows which span (route, database, downstream call) grew.',
  tags: ['aiops', 'tracing'],
  variables: [serviceVariable, routeVariable],
  annotations: [anomalyAnnotations, sloAnnotations],
  links: [links.serviceRoutes, links.slo],
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
      links: [links.serviceRoutes],
    },
    {
      title: 'Recent traces',
      type: 'table',
      description: 'The latest traces of the service in Jaeger; a trace id opens the trace.',
      w: 12,
      h: 10,
      targets: [{ kind: 'jaeger', service: '$service', limit: 20 }],
    },
    {
      title: 'Error traces (HTTP 500)',
      type: 'table',
      description: 'Traces of the service with a server span answered 500 (it also carries the exception and status ERROR), in red beside the latest ones; a trace id opens the trace. Jaeger matches tags exactly: edit the tag for other codes (error=true does not match on the memory store, see docs/dashboards.md).',
      w: 12,
      h: 10,
      color: 'red',
      targets: [{ kind: 'jaeger', service: '$service', tags: 'http.response.status_code=500', limit: 20 }],
    },
    {
      title: 'Service graph (trace store)',
      type: 'nodeGraph',
      description: 'Which service calls which over the time range, with call counts: Jaeger derives the dependencies from parent and child spans of different services.',
      w: 12,
      h: 10,
      targets: [{ kind: 'jaeger-dependencies' }],
    },
    {
      title: 'Calls between services',
      type: 'timeseries',
      description: 'Client calls per second from each service to each peer (span metrics of client spans with peer.service: the inventory service, the orders database): the edges of the service graph over time, including callees that send no spans of their own.',
      w: 12,
      h: 10,
      unit: 'reqps',
      targets: [prom(`sum by (service_name, peer_service) (${rate(`${spans}_calls_total{span_kind="SPAN_KIND_CLIENT", peer_service!=""}`)})`, '{{service_name}} → {{peer_service}}')],
    },
    {
      title: 'Latency p95 per operation',
      type: 'timeseries',
      description: 'The 95th percentile duration of each operation (span name and kind) of the service, from the span metrics: where the time of a slow request goes.',
      w: 12,
      h: 9,
      unit: 's',
      targets: [prom(`histogram_quantile(0.95, sum by (le, span_name, span_kind) (${rate(`${spans}_duration_seconds_bucket{${own}}`)}))`, '{{span_name}} ({{span_kind}})')],
      links: [links.serviceRoutes],
    },
    {
      title: 'Latency p95 per service (server spans)',
      type: 'timeseries',
      description: 'The 95th percentile duration of the server spans of every service: a callee that slows down shows here before its callers do.',
      w: 12,
      h: 9,
      unit: 's',
      targets: [prom(`histogram_quantile(0.95, sum by (le, service_name) (${rate(`${spans}_duration_seconds_bucket{span_kind="SPAN_KIND_SERVER"}`)}))`, '{{service_name}}')],
    },
    {
      title: 'Calls and errors per operation',
      type: 'timeseries',
      description: 'Spans per second of each operation of the service, and those with status ERROR.',
      w: 24,
      h: 8,
      unit: 'short',
      targets: [
        prom(`sum by (span_name) (${rate(`${spans}_calls_total{${own}}`)})`, '{{span_name}}'),
        prom(`sum by (span_name) (${rate(`${spans}_calls_total{${own}, status_code="STATUS_CODE_ERROR"}`)})`, '{{span_name}} errors'),
      ],
    },
  ],
};
