/**
 * The platform's normalised SLO: what an OpenSLO v1 or a Sloth prometheus/v1 file becomes once
 * parsed and mapped onto OTLP metrics. Two files that describe the same SLO normalise to equal
 * objects (apart from `source`), and so drive the engine identically.
 */

/** HTTP status classes as evaluate counts them: index 0 = 1xx ... 4 = 5xx, 5 = unknown/missing. */
export type StatusClass = 0 | 1 | 2 | 3 | 4 | 5;

/**
 * Which points count: OTel attribute name → the values it may have (any of them). Empty: all
 * points of the metric. Resource attributes (service.name) and point attributes (http.route)
 * are looked up alike.
 */
export type SloSelector = Readonly<Record<string, readonly string[]>>;

/** A matcher on an OTel attribute, with PromQL's meaning (a missing attribute is the empty value; regexes are anchored). */
export interface AttributeMatcher {
  readonly attribute: string;
  readonly op: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

/**
 * The series a PromQL-written SLI reads, exactly as the spec wrote them (metric and label names
 * and matchers; canonical spacing): what the exported rules query.
 */
export interface PromQueries {
  /** Every event. */
  readonly total: string;
  /** Bad events (availability), when the spec gave bad events. */
  readonly bad?: string;
  /** Good events (availability or a latency bucket), when the spec gave good events. */
  readonly good?: string;
  /**
   * `total` is a Prometheus native histogram (`X{...}`, no `_bucket`/`_count` series) and the
   * SLI is latency with this upper bound, in the histogram's unit: the rules read it with
   * `histogram_fraction(0, nativeThreshold, ...)` and `histogram_count(...)`.
   */
  readonly nativeThreshold?: number;
}

/** How Prometheus holds a latency histogram: classic `_bucket`/`_count` series, or one native histogram series. */
export type PromHistogramForm = 'classic' | 'native';

/** What an SLI written in PromQL reads beyond the OTel view: for the stream and the rules. */
interface PromSource {
  /**
   * Prometheus name of the OTLP metric the stream reads (histogram base name, or the counter's
   * `_total` name): OTLP metrics are matched by the name the Collector's Prometheus exporter
   * would give them (processors/slo/names.ts), so OTel-instrumented and scraped metrics both match.
   */
  readonly prometheusName?: string;
  readonly prom?: PromQueries;
  /**
   * For SLIs not written in PromQL (native sources, OpenSLO thresholdMetric with the
   * `aiops.prometheusHistogram` annotation): how Prometheus holds the histogram. Default classic.
   */
  readonly promHistogram?: PromHistogramForm;
  /** Matchers other than the equality sets of `selector` (`!=`, `!~`, regexes that are not alternations of literals). */
  readonly matchers?: readonly AttributeMatcher[];
}

/** Availability: a request is bad when its status class is one of `badClasses` (default 5xx only). */
export interface AvailabilitySli extends PromSource {
  readonly kind: 'availability';
  /** OTel metric counting requests: a histogram (its count) or a counter; default http.server.request.duration. */
  readonly metric: string;
  readonly selector: SloSelector;
  /** Attribute holding the HTTP status code. */
  readonly statusAttribute: string;
  /** Sorted, unique. */
  readonly badClasses: readonly StatusClass[];
  /**
   * Bad events selected by a matcher that is not whole status classes (e.g. `code=~"5..|429"`,
   * `grpc_code!="OK"`): when given, it decides instead of `badClasses`.
   */
  readonly badMatcher?: AttributeMatcher;
}

/**
 * Latency: a request is good when its duration is at most `thresholdSeconds`, read from the
 * histogram; a threshold between bucket boundaries is interpolated linearly within its bucket.
 */
export interface LatencySli extends PromSource {
  readonly kind: 'latency';
  /** OTel histogram of request durations in seconds; default http.server.request.duration. */
  readonly metric: string;
  readonly selector: SloSelector;
  readonly statusAttribute: string;
  readonly thresholdSeconds: number;
}

export type Sli = AvailabilitySli | LatencySli;

/** A rolling window of fixed length, or calendar-aligned periods in a time zone. */
export type SloWindow =
  | { readonly kind: 'rolling'; readonly durationMs: number }
  | {
      readonly kind: 'calendar';
      /** Period unit and count, e.g. 1 month, 1 week, 1 quarter (3 months). */
      readonly unit: 'day' | 'week' | 'month' | 'year';
      readonly count: number;
      /** IANA time zone the calendar is aligned in, e.g. Europe/Berlin. */
      readonly timeZone: string;
      /** Local start of one period (Unix ms of that instant); periods repeat from it. */
      readonly startMs: number;
    };

/** One custom multiwindow rule (Sloth's AlertWindows): burning `budgetShare` of the budget over `longMs`. */
export interface AlertWindow {
  readonly tier: 'page' | 'ticket';
  readonly longMs: number;
  readonly shortMs: number;
  readonly budgetShare: number;
}

/** Alerting of one SLO. */
export interface SloAlerting {
  /** Multiwindow multi-burn-rate page alerts (14.4x over 1h+5m, 6x over 6h+30m, scaled to the period). */
  readonly page: boolean;
  /** Ticket alerts (3x over 1d+2h, 1x over 3d+6h, scaled). */
  readonly ticket: boolean;
  /** Alert name (Sloth's alerting.name); default derived from the SLO name. */
  readonly name: string;
  /** Extra labels and annotations carried to alerts. */
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** Custom rules (Sloth's AlertWindows) instead of the built-in catalogue (burn-rates.ts). */
  readonly windows?: readonly AlertWindow[];
  /** Labels and annotations of one tier's alerts only (Sloth's page_alert / ticket_alert), over the shared ones. */
  readonly tiers?: Readonly<Record<'page' | 'ticket', { readonly labels: Readonly<Record<string, string>>; readonly annotations: Readonly<Record<string, string>> }>>;
}

export interface SloSpec {
  /** Unique name: letters, digits, '-', '_', '.'. */
  readonly name: string;
  /** The SLO's own name in its file (Sloth's `slos[].name`, the `sloth_slo` label); default `name`. */
  readonly shortName?: string;
  /** service.name of the service the SLO is about. */
  readonly service: string;
  readonly description: string;
  /** Target ratio of good events, in (0, 1), e.g. 0.999. */
  readonly objective: number;
  readonly sli: Sli;
  readonly window: SloWindow;
  /**
   * Occurrences: every request is one event. Timeslices: every slice of `timeslices.windowMs`
   * with traffic is one event, good when its good ratio reaches `timeslices.target`.
   * RatioTimeslices: every slice with traffic is one event worth its good ratio.
   */
  readonly budgeting: 'Occurrences' | 'Timeslices' | 'RatioTimeslices';
  /** The slices of Timeslices and RatioTimeslices budgeting. */
  readonly timeslices?: { readonly windowMs: number; readonly target?: number };
  /** Fewer events than this in an alert's long window never fire it (low-traffic guard). */
  readonly minEvents: number;
  readonly alerting: SloAlerting;
  /** Extra labels of the SLO (Sloth's labels, OpenSLO's metadata.labels). */
  readonly labels: Readonly<Record<string, string>>;
  /** Where it came from. */
  readonly source: { readonly file: string; readonly format: 'openslo' | 'sloth'; readonly index: number };
}
