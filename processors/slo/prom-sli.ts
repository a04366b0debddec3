/**
 * How an SLI reads in PromQL (for the exported rules, rules.ts): as the spec wrote it, or, for
 * native sources, with the names the collector's Prometheus exporter gives OTel metrics; and the
 * small formatting helpers the rules share (durations, `le` values).
 */
import { HTTP_DURATION_BUCKETS } from '../../runtime/otlp/workload-catalog.js';
import type { Sli, SloSelector, StatusClass } from './types.js';

/** Bucket boundaries per OTel metric for latency thresholds (see rules.ts RuleOptions). */
export interface PromSliOptions {
  readonly buckets?: Readonly<Record<string, readonly number[]>>;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A Prometheus duration in its largest whole unit: 5m, 1h, 30d, 90m, 1500ms. */
export function promDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms <= 0) throw new Error(`not a positive whole number of milliseconds: ${ms}`);
  const units: readonly (readonly [string, number])[] = [['d', DAY], ['h', HOUR], ['m', MINUTE], ['s', 1000]];
  for (const [suffix, size] of units) if (ms % size === 0) return `${ms / size}${suffix}`;
  return `${ms}ms`;
}

/**
 * An `le` label value as Prometheus client libraries write it (Go's strconv 'g', shortest):
 * 0.25, 1, 2.5, 10, 100000, 1e+06, 1e-05.
 */
export function leValue(t: number): string {
  if (t === Infinity) return '+Inf';
  if (!Number.isFinite(t)) throw new Error(`not a bucket boundary: ${t}`);
  if (t === 0) return '0';
  const [mantissa = '', expText = '0'] = t.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const digits = String(Math.abs(exp)).padStart(2, '0');
    return `${mantissa}e${exp < 0 ? '-' : '+'}${digits}`;
  }
  return String(t);
}

// --- OTel → Prometheus names ---------------------------------------------------------------------

interface KnownMetric {
  /** Prometheus base name, with the unit suffix the collector's exporter adds. */
  readonly base: string;
  readonly kind: 'histogram' | 'counter';
  /** Units of the metric per second (1 for s, 1000 for ms). */
  readonly perSecond: number;
  /** Default bucket boundaries, in the metric's unit. */
  readonly buckets?: readonly number[];
}

/** OTel SDKs' default explicit boundaries (for histograms recorded in ms). */
const SDK_DEFAULT_BUCKETS: readonly number[] = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

/**
 * Metrics whose unit is known: the collector's Prometheus exporter appends the unit (s → _seconds,
 * ms → _milliseconds). Any other metric: `.` → `_`, no unit suffix, assumed a histogram in seconds.
 */
const KNOWN_METRICS: Readonly<Record<string, KnownMetric>> = {
  'http.server.request.duration': { base: 'http_server_request_duration_seconds', kind: 'histogram', perSecond: 1, buckets: HTTP_DURATION_BUCKETS },
  'http.client.request.duration': { base: 'http_client_request_duration_seconds', kind: 'histogram', perSecond: 1, buckets: HTTP_DURATION_BUCKETS },
  'http.server.duration': { base: 'http_server_duration_milliseconds', kind: 'histogram', perSecond: 1000, buckets: SDK_DEFAULT_BUCKETS },
  'http.client.duration': { base: 'http_client_duration_milliseconds', kind: 'histogram', perSecond: 1000, buckets: SDK_DEFAULT_BUCKETS },
  'rpc.server.duration': { base: 'rpc_server_duration_milliseconds', kind: 'histogram', perSecond: 1000, buckets: SDK_DEFAULT_BUCKETS },
  'rpc.client.duration': { base: 'rpc_client_duration_milliseconds', kind: 'histogram', perSecond: 1000, buckets: SDK_DEFAULT_BUCKETS },
};

/** Prometheus base name of an OTel metric: http.server.request.duration → http_server_request_duration_seconds. */
export function promMetricName(otelName: string): string {
  return KNOWN_METRICS[otelName]?.base ?? sanitize(otelName, /[^a-zA-Z0-9_:]/g);
}

/** Prometheus label of an OTel attribute: service.name → job, service.instance.id → instance, http.route → http_route. */
export function promLabelName(attribute: string): string {
  if (attribute === 'service.name') return 'job';
  if (attribute === 'service.instance.id') return 'instance';
  return sanitize(attribute, /[^a-zA-Z0-9_]/g);
}

export function sanitize(name: string, invalid: RegExp): string {
  const s = name.replace(invalid, '_');
  return /^[0-9]/.test(s) ? `key_${s}` : s;
}

/** A PromQL double-quoted string literal. */
export function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function escapeRegex(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/** One matcher: `label="v"` for one value, `label=~"v1|v2"` (metacharacters escaped) for several. */
function matcher(label: string, values: readonly string[]): string {
  if (values.length === 0) throw new Error(`selector on ${label} lists no values`);
  const unique = [...new Set(values)];
  if (unique.length === 1) return `${label}=${quote(unique[0] as string)}`;
  return `${label}=~${quote(unique.map(escapeRegex).join('|'))}`;
}

/**
 * The label matchers of an SLI's selector, without braces: `job="checkout",http_route=~"/a|/b"`.
 * `job` first, then the other labels alphabetically, so equal SLOs give equal rules.
 */
export function promSelector(sli: Pick<Sli, 'selector'>): string {
  return selectorMatchers(sli.selector);
}

function selectorMatchers(selector: SloSelector): string {
  const byLabel = new Map<string, string[]>();
  for (const [attribute, values] of Object.entries(selector)) {
    const label = promLabelName(attribute);
    byLabel.set(label, [...(byLabel.get(label) ?? []), ...values]);
  }
  const labels = [...byLabel.keys()].sort((a, b) => (a === 'job' ? -1 : b === 'job' ? 1 : a < b ? -1 : a > b ? 1 : 0));
  return labels.map((label) => matcher(label, byLabel.get(label) ?? [])).join(',');
}

/** `metric{m1,m2}`, or `metric` alone when there are no matchers. */
function vectorSelector(metric: string, ...matchers: string[]): string {
  const body = matchers.filter((m) => m !== '').join(',');
  return body === '' ? metric : `${metric}{${body}}`;
}

/** The matcher selecting bad status classes: [4] → `=~"5.."`, [3, 4] → `=~"4..|5.."`; class 5 as a missing label. */
export function statusMatcher(statusAttribute: string, badClasses: readonly StatusClass[]): string {
  const classes = [...new Set(badClasses)].sort((a, b) => a - b);
  if (classes.length === 0) throw new Error('an availability SLI needs at least one bad status class');
  const label = promLabelName(statusAttribute);
  if (classes.length === 1 && classes[0] === 5) return `${label}=""`;
  // An empty alternative matches the empty value, which is how a missing label matches.
  const alternatives = classes.map((c) => (c === 5 ? '' : `${c + 1}..`));
  return `${label}=~${quote(alternatives.join('|'))}`;
}

/** How an SLI reads in PromQL. `errorRatio(w)` is the expression recorded as `slo:sli_error:ratio_rate<w>`. */
export interface PromSli {
  /** Series counting every event of the SLI (a histogram's `_count`, a counter's `_total`, or a native histogram). */
  readonly total: string;
  readonly errorRatio: (window: string) => string;
  /** Every event over a window, one number (the low-traffic guard). */
  readonly events: (window: string) => string;
  /** What Prometheus cannot express exactly. */
  readonly notes: readonly string[];
}

/**
 * An SLI written in PromQL, read back exactly as written: the spec's metric and label names and
 * matchers, with one guard: `or on() vector(0)` on the bad (or good) side, so a service that
 * has never answered with a bad status has an error ratio of 0 rather than no sample.
 */
function writtenSli(sli: Sli, prom: NonNullable<Sli['prom']>): PromSli {
  const rate = (selector: string, window: string): string => `sum(rate(${selector}[${window}]))`;
  const events = (w: string): string => `sum(increase(${prom.total}[${w}]))`;
  if (prom.nativeThreshold !== undefined) return nativeLatency(prom.total, prom.nativeThreshold, []);
  if (prom.bad !== undefined) {
    const bad = prom.bad;
    return { total: prom.total, notes: [], events, errorRatio: (w) => `(${rate(bad, w)} or on() vector(0)) / (${rate(prom.total, w)})` };
  }
  const good = prom.good;
  if (good === undefined) throw new Error(`SLI on ${sli.metric}: neither good nor bad series`);
  return { total: prom.total, notes: [], events, errorRatio: (w) => `1 - ((${rate(good, w)} or on() vector(0)) / (${rate(prom.total, w)}))` };
}

/**
 * A latency SLI over a native histogram: the share of requests above the threshold is
 * `1 - histogram_fraction(0, T, ...)` of the summed rate (Prometheus interpolates within the
 * bucket holding T); events are its histogram_count.
 */
function nativeLatency(histogram: string, threshold: number, notes: string[]): PromSli {
  return {
    total: histogram,
    notes,
    events: (w) => `histogram_count(sum(increase(${histogram}[${w}])))`,
    errorRatio: (w) => `1 - histogram_fraction(0, ${tidyFine(threshold)}, sum(rate(${histogram}[${w}])))`,
  };
}

/** Maps an SLI onto PromQL: as written when the spec wrote PromQL, else from the OTel names. */
export function promSli(sli: Sli, options: PromSliOptions = {}): PromSli {
  if (sli.prom !== undefined) return writtenSli(sli, sli.prom);
  const known = KNOWN_METRICS[sli.metric];
  const base = promMetricName(sli.metric);
  const sel = promSelector(sli);
  const notes: string[] = [];
  if (known === undefined) notes.push(`${sli.metric} is not a known metric: assumed a histogram exported as ${base}_count/_bucket with no unit suffix`);
  const kind = known?.kind ?? 'histogram';
  const native = sli.promHistogram === 'native' && kind === 'histogram';
  const total = native ? vectorSelector(base, sel) : vectorSelector(kind === 'counter' ? `${base}_total` : `${base}_count`, sel);
  const rate = (selector: string, window: string): string => (native ? `histogram_count(sum(rate(${selector}[${window}])))` : `sum(rate(${selector}[${window}]))`);
  const events = (w: string): string => (native ? `histogram_count(sum(increase(${total}[${w}])))` : `sum(increase(${total}[${w}]))`);
  if (native && sli.kind === 'latency') return nativeLatency(total, sli.thresholdSeconds * (known?.perSecond ?? 1), notes);

  if (sli.kind === 'availability') {
    const bad = statusMatcher(sli.statusAttribute, sli.badClasses);
    if (sli.badClasses.includes(5)) {
      notes.push(`status class 5 (unknown) is matched as a missing ${promLabelName(sli.statusAttribute)} label; values present but not a 1xx-5xx code count as unknown in the engine but are not matched here`);
    }
    const badSelector = vectorSelector(native ? base : kind === 'counter' ? `${base}_total` : `${base}_count`, sel, bad);
    // `or on() vector(0)`: a service that has never answered with a bad status has no bad series
    // at all; without it the ratio would have no sample (not 0) until the first error.
    return { total, notes, events, errorRatio: (w) => `(${rate(badSelector, w)} or on() vector(0)) / (${rate(total, w)})` };
  }

  if (kind !== 'histogram') throw new Error(`latency SLI on ${sli.metric}: not a histogram`);
  const perSecond = known?.perSecond ?? 1;
  const threshold = tidyFine(sli.thresholdSeconds * perSecond);
  const bounds = options.buckets?.[sli.metric] ?? known?.buckets;
  let le = threshold;
  if (bounds === undefined) {
    notes.push(`bucket boundaries of ${sli.metric} are unknown: assumed a bucket le="${leValue(threshold)}" exists`);
  } else {
    const atOrBelow = bounds.filter((b) => b <= threshold * (1 + 1e-12)).sort((a, b) => a - b);
    const nearest = atOrBelow[atOrBelow.length - 1];
    if (nearest === undefined) {
      notes.push(`latency threshold ${sli.thresholdSeconds}s is below the lowest bucket boundary: le="${leValue(threshold)}" exists only if the histogram is configured with it`);
    } else if (Math.abs(nearest - threshold) > Math.abs(threshold) * 1e-12) {
      le = nearest;
      notes.push(
        `latency threshold ${sli.thresholdSeconds}s is not a bucket boundary: Prometheus counts requests in le="${leValue(nearest)}" as good ` +
          `(stricter than the threshold); the engine interpolates linearly within the bucket instead`,
      );
    }
  }
  const good = vectorSelector(`${base}_bucket`, sel, `le=${quote(leValue(le))}`);
  return { total, notes, events, errorRatio: (w) => `1 - ((${rate(good, w)}) / (${rate(total, w)}))` };
}

function tidyFine(x: number): number {
  return Number(x.toPrecision(15));
}

