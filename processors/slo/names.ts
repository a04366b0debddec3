/**
 * Prometheus names back to OTel ones: `http_server_request_duration_seconds_count` is the count
 * of the OTel histogram `http.server.request.duration` (unit s); `job` is `service.name`.
 */

/** The series kind a Prometheus name ends in: histogram parts, counter `_total`, or none. */
export type MetricPart = 'count' | 'bucket' | 'sum' | 'total' | 'none';

/** An OTel metric behind a Prometheus name. `unit` is UCUM (s, ms, By) when the name carries one. */
export interface OtelMetric {
  readonly metric: string;
  readonly part: MetricPart;
  readonly unit: string | undefined;
}

/** Names whose OTel form the general rule would get wrong, or that are common enough to pin. */
const knownMetrics: Readonly<Record<string, { metric: string; unit: string | undefined }>> = {
  http_server_request_duration_seconds: { metric: 'http.server.request.duration', unit: 's' },
  http_client_request_duration_seconds: { metric: 'http.client.request.duration', unit: 's' },
  http_server_duration_milliseconds: { metric: 'http.server.duration', unit: 'ms' },
  http_server_request_body_size_bytes: { metric: 'http.server.request.body.size', unit: 'By' },
  http_server_response_body_size_bytes: { metric: 'http.server.response.body.size', unit: 'By' },
  http_server_active_requests: { metric: 'http.server.active_requests', unit: undefined },
};

const partSuffixes: readonly [string, MetricPart][] = [
  ['_bucket', 'bucket'],
  ['_count', 'count'],
  ['_sum', 'sum'],
  ['_total', 'total'],
];
const unitSuffixes: readonly [string, string][] = [
  ['_milliseconds', 'ms'],
  ['_seconds', 's'],
  ['_bytes', 'By'],
];

/**
 * The OTel metric behind a Prometheus name: the part suffix (`_count`, `_bucket`, `_sum`,
 * `_total`) and a unit suffix (`_seconds`, `_milliseconds`, `_bytes`) are stripped and `_`
 * becomes `.`, except for the names in a table of known metrics.
 */
export function otelMetric(promName: string): OtelMetric | { error: string } {
  if (promName.includes(':')) return { error: `${promName} is a recording rule, not a metric an OTel exporter writes` };
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(promName)) return { error: `${JSON.stringify(promName)} is not a Prometheus metric name` };
  let base = promName;
  let part: MetricPart = 'none';
  for (const [suffix, p] of partSuffixes) {
    if (base.endsWith(suffix) && base.length > suffix.length) {
      base = base.slice(0, -suffix.length);
      part = p;
      break;
    }
  }
  const known = knownMetrics[base];
  if (known) return { ...known, part };
  let unit: string | undefined;
  for (const [suffix, u] of unitSuffixes) {
    if (base.endsWith(suffix) && base.length > suffix.length) {
      base = base.slice(0, -suffix.length);
      unit = u;
      break;
    }
  }
  return { metric: base.split('_').filter((s) => s !== '').join('.'), part, unit };
}

/** Prometheus label → OTel attribute, as the Collector's Prometheus exporter writes them. */
const knownLabels: Readonly<Record<string, string>> = {
  job: 'service.name',
  service_name: 'service.name',
  instance: 'service.instance.id',
  service_instance_id: 'service.instance.id',
  http_route: 'http.route',
  http_request_method: 'http.request.method',
  http_response_status_code: 'http.response.status_code',
  code: 'http.response.status_code',
  status_code: 'http.response.status_code',
  status: 'http.response.status_code',
  url_scheme: 'url.scheme',
  server_address: 'server.address',
  server_port: 'server.port',
  network_protocol_name: 'network.protocol.name',
  network_protocol_version: 'network.protocol.version',
  error_type: 'error.type',
};

/** The OTel attribute behind a label; `le` is the bucket bound; unknown labels are errors, not guesses. */
export function otelAttribute(label: string): { attribute: string } | { bucketBound: true } | { error: string } {
  if (label === 'le') return { bucketBound: true };
  const attribute = knownLabels[label];
  if (attribute !== undefined) return { attribute };
  return { error: `unknown label ${label}: no known OTel attribute (known: le, ${Object.keys(knownLabels).join(', ')})` };
}

