/** Which model produced a point: robust warm-up statistics, the seasonal model, or none (a gap). */
export type DetectorMode = 'warmup' | 'seasonal' | 'gap';

/**
 * The detector behind a point's score: `robust-z` (a warm-up residual from the median/MAD),
 * `holt-winters` (a novel residual of the seasonal model), `likelihood` (a sustained rise of
 * residual sizes), `level-shift` (a persistent move of the deseasonalised level) or `range` (a
 * value beyond every value seen so far).
 */
export type DetectorName = 'none' | 'robust-z' | 'holt-winters' | 'likelihood' | 'level-shift' | 'range';

/** Severity of a point, from its (undamped) score. */
export type Severity = 'none' | 'info' | 'warning' | 'critical';

/** What {@link DetectorBank.update} fills in for each point; reuse one instance. */
export class DetectorResult {
  /** Value the model expected (NaN before the first point). */
  expected = Number.NaN;
  /** Prediction interval: expected -/+ intervalSigmas residual standard deviations. */
  lower = Number.NaN;
  upper = Number.NaN;
  /** Actual minus expected. */
  deviation = 0;
  /** Deviation in residual standard deviations. */
  sigmas = 0;
  /**
   * Anomaly score in [0, 1]. Once a point of a series has scored, repeats of the same or a lower
   * score are damped for `suppressPoints` points, so one incident alerts once.
   */
  score = 0;
  /** The score before that damping: use it to keep an event open while the incident lasts. */
  rawScore = 0;
  /** How far the model trusts this point's verdict, in [0, 1]: lower while warming up or barely outside. */
  confidence = 0;
  mode: DetectorMode = 'warmup';
  detector: DetectorName = 'none';
  severity: Severity = 'none';

  /** Fills in a gap (a non-finite value or timestamp): nothing scored, `expected` the model's level. */
  gap(expected: number): void {
    this.expected = expected;
    this.lower = Number.NaN;
    this.upper = Number.NaN;
    this.deviation = 0;
    this.sigmas = 0;
    this.score = 0;
    this.rawScore = 0;
    this.confidence = 0;
    this.mode = 'gap';
    this.detector = 'none';
    this.severity = 'none';
  }
}
