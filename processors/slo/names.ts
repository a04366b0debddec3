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

/**
 * Prometheus label → OTel attribute. `job` and `instance` are the resource's service.name and
 * service.instance.id (the Collector's Prometheus exporter writes them from there, and its
 * `prometheus` receiver puts them back there); `service_name` / `service_instance_id` are the
 * same attributes under resource-to-telemetry conversion; semantic-convention labels map back to
 * their dotted names. Every other label is read as an attribute of the same name: that is what
 * the `prometheus` receiver gives for labels an application wrote (`code`, `handler`, `verb`),
 * and a spec can name another attribute (`attributes` of the SLO, see docs/slo.md).
 */
const knownLabels: Readonly<Record<string, string>> = {
  job: 'service.name',
  service_name: 'service.name',
  instance: 'service.instance.id',
  service_instance_id: 'service.instance.id',
  http_route: 'http.route',
  http_request_method: 'http.request.method',
  http_response_status_code: 'http.response.status_code',
  url_scheme: 'url.scheme',
  server_address: 'server.address',
  server_port: 'server.port',
  network_protocol_name: 'network.protocol.name',
  network_protocol_version: 'network.protocol.version',
  error_type: 'error.type',
  rpc_grpc_status_code: 'rpc.grpc.status_code',
};

/** Labels that hold an HTTP status code: a matcher on one of them may select status classes. */
export const statusLabels: readonly string[] = ['code', 'status', 'status_code', 'http_status_code', 'http_response_status_code', 'response_code'];

/**
 * Labels that name the same thing under the two ways a metric reaches Prometheus: a client
 * library's own label (`code`, `handler`, `method`) and the OTel semantic-convention attribute
 * as the collector's exporter names it (`http_response_status_code`, `http_route`,
 * `http_request_method`). `slo check --prometheus` suggests one when a spec's label is on no
 * series of the metric but its alias is.
 */
export const labelAliases: Readonly<Record<string, readonly string[]>> = {
  code: ['http_response_status_code', 'status_code', 'http_status_code'],
  status_code: ['http_response_status_code', 'code'],
  http_status_code: ['http_response_status_code', 'code'],
  http_response_status_code: ['code', 'status_code', 'http_status_code'],
  handler: ['http_route'],
  route: ['http_route'],
  http_route: ['handler', 'route'],
  method: ['http_request_method'],
  http_request_method: ['method'],
};

/** Overrides of the label → attribute mapping given by a spec (`label: attribute`). */
export type AttributeOverrides = Readonly<Record<string, string>>;

/** The OTel attribute behind a label (see `knownLabels`); `le` is the bucket bound. */
export function otelAttribute(label: string, overrides: AttributeOverrides = {}): { attribute: string } | { bucketBound: true } | { error: string } {
  if (label === 'le') return { bucketBound: true };
  if (label === '__name__') return { error: '__name__ matchers select the metric; give the metric name instead' };
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(label)) return { error: `${JSON.stringify(label)} is not a Prometheus label name` };
  const attribute = overrides[label] ?? knownLabels[label] ?? label;
  return { attribute };
}

// --- OTel → Prometheus, as the Collector's Prometheus exporter names them ----------------------
//
// The rules of the Collector's Prometheus translation (pkg/translator/prometheus, now
// github.com/prometheus/otlptranslator) with `add_metric_suffixes: true` (the default): the name
// is split into tokens at every character other than [a-zA-Z0-9:] (so `.`, `-` and runs of `_`
// become one `_`); the unit's Prometheus word is appended unless a token already is it (s →
// seconds, ms → milliseconds, By → bytes, `{request}` annotations → nothing, `By/s` →
// bytes_per_second); a monotonic sum gets `_total` (an existing `total` token moves to the end);
// a gauge with unit `1` gets `_ratio`; a leading digit gets `_`. Labels: every character other
// than [a-zA-Z0-9_] becomes `_`, a leading digit gets `key_`, a single leading `_` gets `key`.

const unitWords: Readonly<Record<string, string>> = {
  d: 'days', h: 'hours', min: 'minutes', s: 'seconds', ms: 'milliseconds', us: 'microseconds', ns: 'nanoseconds',
  By: 'bytes', KiBy: 'kibibytes', MiBy: 'mebibytes', GiBy: 'gibibytes', TiBy: 'tibibytes', KBy: 'kilobytes', MBy: 'megabytes', GBy: 'gigabytes', TBy: 'terabytes',
  m: 'meters', V: 'volts', A: 'amperes', J: 'joules', W: 'watts', g: 'grams', Cel: 'celsius', Hz: 'hertz', '1': '', '%': 'percent',
};
const perUnitWords: Readonly<Record<string, string>> = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week', mo: 'month', y: 'year' };

/** The kind of OTLP metric, as far as naming goes. */
export type OtlpKind = 'gauge' | 'sum' | 'monotonicSum' | 'histogram' | 'exponentialHistogram' | 'summary';

function unitTokens(unit: string): { main: string; per: string } {
  // Annotations in braces say nothing about the unit.
  const clean = unit.replace(/\{[^}]*\}/g, '').trim();
  if (clean === '') return { main: '', per: '' };
  const [mainUnit = '', perUnit = ''] = clean.split('/', 2);
  const word = (u: string, table: Readonly<Record<string, string>>): string => (table[u] ?? u).replace(/[^a-zA-Z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  const main = mainUnit === '' ? '' : word(mainUnit, unitWords);
  const per = perUnit === '' ? '' : word(perUnit, perUnitWords);
  return { main, per: per === '' ? '' : `per_${per}` };
}

/**
 * The Prometheus metric name the Collector's Prometheus exporter gives an OTLP metric (without
 * the `_bucket`/`_count`/`_sum` of histogram series): http.server.request.duration (s, histogram)
 * → http_server_request_duration_seconds; http_requests_total (monotonic sum, as the
 * `prometheus` receiver scrapes it) → http_requests_total. `addSuffixes: false` is the
 * exporter's `add_metric_suffixes: false`: the name sanitised only.
 */
export function prometheusMetricName(name: string, unit: string, kind: OtlpKind, options: { addSuffixes?: boolean } = {}): string {
  let tokens = name.split(/[^a-zA-Z0-9:]+/).filter((t) => t !== '');
  if (options.addSuffixes ?? true) {
    const { main, per } = unitTokens(unit);
    if (main !== '' && !tokens.includes(main)) tokens.push(main);
    if (per !== '' && !tokens.includes(per)) tokens.push(per);
    if (kind === 'monotonicSum') tokens = [...tokens.filter((t) => t !== 'total'), 'total'];
    if (unit === '1' && kind === 'gauge') tokens = [...tokens.filter((t) => t !== 'ratio'), 'ratio'];
  }
  const out = tokens.join('_');
  return /^[0-9]/.test(out) ? `_${out}` : out;
}

/** The Prometheus label the exporter gives an attribute: service.name → job, http.route → http_route. */
export function prometheusLabelName(attribute: string): string {
  if (attribute === 'service.name') return 'job';
  if (attribute === 'service.instance.id') return 'instance';
  if (attribute === '') return attribute;
  const s = attribute.replace(/[^a-zA-Z0-9_]/g, '_');
  if (/^[0-9]/.test(s)) return `key_${s}`;
  if (s.startsWith('_') && !s.startsWith('__')) return `key${s}`;
  return s;
}

/**
 * What the stream matches a Prometheus series name against: the name of the OTLP metric as the
 * exporter would write it (`prometheusMetricName`) and the series part. `X_bucket`, `X_count`
 * and `X_sum` are parts of the histogram `X`; `X_total` is the counter `X_total`; anything else
 * is the series of a gauge or sum of that name.
 */
export function prometheusSeries(promName: string): { base: string; part: MetricPart } {
  for (const [suffix, part] of partSuffixes) {
    if (part === 'total') continue;
    if (promName.endsWith(suffix) && promName.length > suffix.length) return { base: promName.slice(0, -suffix.length), part };
  }
  return { base: promName, part: promName.endsWith('_total') && promName.length > 6 ? 'total' : 'none' };
}
