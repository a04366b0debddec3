import type { Attributes, Meter } from '@opentelemetry/api';

/** The latest band of one detector series, as the gauges export it. */
interface Band {
  attributes: Attributes;
  expected: number;
  lower: number;
  upper: number;
  actual: number;
  score: number;
}

/** Compiles glob patterns (`*` matches any run of characters) over signal keys into one test. */
export function signalMatcher(patterns: readonly string[]): (signal: string) => boolean {
  if (patterns.length === 0) return () => false;
  if (patterns.includes('*')) return () => true;
  const escaped = patterns.map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*'));
  const re = new RegExp(`^(?:${escaped.join('|')})$`);
  return (signal) => re.test(signal);
}

/**
 * The expected value, prediction interval, actual value and score of the latest point of each
 * watched series, for the signals that match the configured patterns, exported as gauges so a
 * dashboard can draw the band: `aiops.anomaly.expected`, `.lower`, `.upper`, `.actual`, `.score`
 * (Prometheus: `aiops_anomaly_expected` ...), with attributes signal, metric, service, endpoint.
 * One board serves every partition's detector in a process; at most `maxSeries` bands are held.
 */
export class BandBoard {
  private readonly bands = new Map<string, Band>();
  private readonly matches: (signal: string) => boolean;
  /** Bands not exported because the board was full. */
  dropped = 0;

  constructor(
    patterns: readonly string[],
    private readonly maxSeries: number,
  ) {
    this.matches = signalMatcher(patterns);
  }

  /** Whether the signal's bands are exported. */
  watches(signal: string): boolean {
    return this.maxSeries > 0 && this.matches(signal);
  }

  /** Records the latest point of a series (`id`); false when the board is full. */
  set(id: string, attributes: Attributes, expected: number, lower: number, upper: number, actual: number, score: number): boolean {
    let band = this.bands.get(id);
    if (!band) {
      if (this.bands.size >= this.maxSeries) {
        this.dropped++;
        return false;
      }
      band = { attributes, expected, lower, upper, actual, score };
      this.bands.set(id, band);
      return true;
    }
    band.expected = expected;
    band.lower = lower;
    band.upper = upper;
    band.actual = actual;
    band.score = score;
    return true;
  }

  delete(id: string): void {
    this.bands.delete(id);
  }

  get size(): number {
    return this.bands.size;
  }

  /** The latest band of a series, if exported. */
  get(id: string): Readonly<Band> | undefined {
    return this.bands.get(id);
  }

  /** Registers the gauges on a meter; non-finite values (no model yet, a gap) are left out. */
  register(meter: Meter): void {
    const gauge = (name: string, description: string) => meter.createObservableGauge(`aiops.anomaly.${name}`, { description });
    const expected = gauge('expected', 'Value the detector expected for the latest point of the series');
    const lower = gauge('lower', 'Lower edge of the prediction interval of the latest point');
    const upper = gauge('upper', 'Upper edge of the prediction interval of the latest point');
    const actual = gauge('actual', 'Latest value of the series the detector saw');
    const score = gauge('score', 'Anomaly score of the latest point, in [0, 1]');
    meter.addBatchObservableCallback(
      (result) => {
        for (const band of this.bands.values()) {
          if (Number.isFinite(band.expected)) result.observe(expected, band.expected, band.attributes);
          if (Number.isFinite(band.lower)) result.observe(lower, band.lower, band.attributes);
          if (Number.isFinite(band.upper)) result.observe(upper, band.upper, band.attributes);
          if (Number.isFinite(band.actual)) result.observe(actual, band.actual, band.attributes);
          if (Number.isFinite(band.score)) result.observe(score, band.score, band.attributes);
        }
      },
      [expected, lower, upper, actual, score],
    );
  }
}
