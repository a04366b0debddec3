import { z } from 'zod';
import { aiopsError } from '../../runtime/errors.js';

/**
 * A signal rule: which metric feeds the signal, how its points are grouped, and how they are
 * aggregated. Dimension values are looked up in the point's attributes, then the resource's.
 */
const matcherSchema = z.object({ attribute: z.string().min(1), op: z.enum(['=', '!=', '=~', '!~']), value: z.string() });

const ruleSchema = z.object({
  /** Rule name; the first part of every signal key it produces. */
  name: z.string().min(1).regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only'),
  /** OTel metric name. */
  metric: z.string().min(1),
  /**
   * http: request count, errors (status >= 500), status classes and the latency histogram from
   * a histogram (or a counter) of requests; counter: increase of a sum; gauge: mean/min/max.
   */
  kind: z.enum(['http', 'counter', 'gauge']),
  /** Attributes that identify the signal, e.g. service.name and http.route. */
  groupBy: z.array(z.string().min(1)).min(1),
  /** Attribute holding the HTTP status code (http rules). */
  statusAttribute: z.string().default('http.response.status_code'),
  /**
   * Only points whose attributes (point, else resource) have one of the listed values for every
   * key feed the rule, e.g. `{ service.name: [checkout] }`. Empty: every point of the metric.
   */
  filter: z.record(z.string().min(1), z.array(z.string()).min(1)).default({}),
  /**
   * Match the metric by the name the Collector's Prometheus exporter would give it (histogram
   * base name, or a counter's `_total` name) instead of `metric`: OTel-instrumented metrics and
   * metrics scraped by the collector's `prometheus` receiver then both match (SLO rules).
   */
  prometheusName: z.string().min(1).optional(),
  /** Further matchers with PromQL's meaning (a missing attribute is ''; regexes anchored); all must hold. */
  matchers: z.array(matcherSchema).optional(),
  /** http rules: series this matcher selects count as errors (class 5xx), the rest as 2xx, instead of reading statusAttribute. */
  badWhen: matcherSchema.optional(),
});

const ingestSchema = z.object({
  /** Event-time bucket length. Make it at least the exporters' interval. */
  bucketMs: z.number().int().min(1_000).default(10_000),
  /** How far behind the newest event time a point may arrive and still be counted. */
  allowedLatenessMs: z.number().int().min(0).default(5_000),
  /** A caught-up partition with no input for this long closes its open buckets. */
  idleTimeoutMs: z.number().int().min(10).default(5_000),
  /** Series kept per input partition; points of further new series are counted and dropped. */
  maxSeries: z.number().int().min(1).default(200_000),
  /**
   * The first point of a series never seen before counts from zero only if its start time is
   * at most this old; an older start means the series ran before the platform saw it, and its
   * first point only sets the baseline (its increase cannot be placed in time).
   */
  firstPointMaxAgeMs: z.number().int().min(0).default(300_000),
  /** Series with no point for this long (event time) are forgotten. */
  staleSeriesMs: z.number().int().min(1_000).default(900_000),
  /** Topic the partials and watermarks go to. */
  signalsTopic: z.string().min(1).default('aiops.signals.v1'),
  /** Input encoding on otlp_metrics. */
  encoding: z.enum(['otlp_proto', 'otlp_json']).default('otlp_proto'),
  rules: z.array(ruleSchema).min(1),
});

export type SignalRule = z.infer<typeof ruleSchema>;
export type AttributeMatch = z.infer<typeof matcherSchema>;
export type IngestConfig = Readonly<z.infer<typeof ingestSchema>>;

/** The default rule set: HTTP server signals per service and route from the semantic conventions. */
export const defaultRules: SignalRule[] = [
  { name: 'http', metric: 'http.server.request.duration', kind: 'http', groupBy: ['service.name', 'http.route'], statusAttribute: 'http.response.status_code', filter: {} },
];

/** Validates ingest configuration, reporting every problem at once; the result is frozen. */
export function parseIngestConfig(input: unknown): IngestConfig {
  const result = ingestSchema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw aiopsError('CONFIG_INVALID', [lines.join('\n')]);
  }
  const names = result.data.rules.map((r) => r.name);
  const dup = names.filter((n, i) => names.indexOf(n) !== i);
  if (dup.length > 0) throw aiopsError('CONFIG_INVALID', [`  - rules: duplicate rule names ${[...new Set(dup)].join(', ')}`]);
  return Object.freeze({ ...result.data, rules: Object.freeze(result.data.rules.map((r) => Object.freeze({ ...r, groupBy: [...r.groupBy] }))) as SignalRule[] });
}
