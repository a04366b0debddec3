import { z } from 'zod';
import { aiopsError } from '../../runtime/errors.js';
import type { SeverityConfig, SignificanceConfig } from './significance.js';

/**
 * Detector configuration. Rates are per point of the series. The defaults are one global
 * setting (no per-series tuning): every scale adapts to each series' own level, spread, value
 * resolution, time step and residual distribution.
 */
const detectorSchema = z.object({
  /** Season length (one day by default). */
  seasonMs: z.number().int().min(1_000).default(86_400_000),
  /** Slots per season; a point updates the slot its timestamp falls in (288 = 5 min a slot). */
  seasonSlots: z.number().int().min(1).max(65_536).default(288),
  /** Additive (default) or multiplicative seasonality. */
  seasonality: z.enum(['additive', 'multiplicative']).default('additive'),
  /** Level smoothing. */
  alpha: z.number().gt(0).lt(1).default(0.1),
  /** Trend smoothing. */
  beta: z.number().min(0).lt(1).default(0.01),
  /** Trend damping: the forecast adds phi * trend and the trend decays by phi each point. */
  phi: z.number().min(0).max(1).default(0.98),
  /** Seasonal smoothing, per visit of a slot. */
  gamma: z.number().min(0).lt(1).default(0.2),
  /** Smoothing of the running residual variance (about 1 / points remembered). */
  varianceRate: z.number().gt(0).lt(1).default(0.01),
  /** Residuals are clipped at this many standard deviations before they update the model. */
  clipSigmas: z.number().gt(0).default(6),
  /**
   * Seasonal offsets learnt from a slot's first visit (at the end of warm-up, or later for a slot
   * not seen yet) are clipped at this many deviations: a spike is not learnt as a daily pattern.
   */
  initClipSigmas: z.number().gt(0).default(2),
  /** Half-width of the prediction interval, in residual standard deviations. */
  intervalSigmas: z.number().gt(0).default(3),
  /** Step of the streaming median/MAD used during warm-up, as a fraction of the MAD. */
  warmupRate: z.number().gt(0).lt(1).default(0.05),
  /** Points seen before any score above zero (and so before any alert). */
  minHistory: z.number().int().min(1).default(48),
  /** A time step larger than this many typical steps is a gap: level and trend do not move over it. */
  gapSteps: z.number().gt(1).default(4),
  /** Scale floor relative to the level (constant and near-constant series). */
  relativeFloor: z.number().min(0).default(1e-4),
  /** Residual sizes are calibrated so that this running quantile of |z| maps to the normal one. */
  quantileLevel: z.number().gt(0.5).lt(1).default(0.99),
  /** Speed of that running quantile (relative step per point). */
  quantileRate: z.number().gt(0).lt(1).default(0.02),
  /** Residual (holt-winters) score of a two-sided normal tail probability p: min(1, -log10(p) / scoreDecades). */
  scoreDecades: z.number().gt(0).default(4),
  /**
   * Novelty of a residual: it scores in full only when its size exceeds the largest residual of
   * the recent past by noveltyMargin (relative), and not at all below that largest one. The
   * recent past is a ring of noveltyBlocks blocks; a block closes once it spans noveltyBlockMs,
   * holds noveltyBlockPoints points and holds noveltyHistoryShare / noveltyBlocks of the points
   * seen so far, or else once it spans noveltyMaxMs / noveltyBlocks. So by default the recent
   * past is at least two days, 64 points and a quarter of the series' history, at most 30
   * days: a spike that recurs daily, or a burst like earlier ones, is not news, and the longer
   * a series has been watched the rarer chance records become. 0 blocks disable it. (The
   * ring used to be 16 blocks of at least 6 h, four days or more: an incident smaller than
   * a spike days earlier stayed quiet. Four blocks of 12 h raised the leave-one-category-out
   * cross-validated NAB score from 73.97 to 77.81; see docs/benchmarks.md.)
   */
  noveltyBlocks: z.number().int().min(0).max(64).default(4),
  noveltyBlockMs: z.number().int().min(1).default(12 * 3_600_000),
  noveltyBlockPoints: z.number().int().min(1).default(16),
  noveltyHistoryShare: z.number().min(0).max(1).default(0.25),
  noveltyMaxMs: z.number().int().min(1).default(30 * 86_400_000),
  noveltyMargin: z.number().gt(0).default(0.1),
  /**
   * Sustained change (likelihood) detector; weight 0 disables it. A short-run mean of residual
   * sizes (each mapped to [0, 1] between rawLow and rawHigh calibrated sigmas) is compared with
   * its own long-run mean and variance (floored at likelihoodMeanFloor and likelihoodSdFloor);
   * its score is min(1, weight * -log10(tail probability) / likelihoodDecades). Long-run
   * estimates here and in the level-shift detector start as plain means (no early bias).
   */
  likelihoodWeight: z.number().min(0).max(1).default(1),
  shortRate: z.number().gt(0).lt(1).default(0.1),
  longRate: z.number().gt(0).lt(1).default(0.001),
  rawLow: z.number().min(0).default(1),
  rawHigh: z.number().gt(0).default(4),
  likelihoodMeanFloor: z.number().min(0).default(0),
  likelihoodSdFloor: z.number().gt(0).default(0.05),
  likelihoodDecades: z.number().gt(0).default(10),
  /**
   * Level-shift detector; weight 0 disables it. The deseasonalised value, clipped at shiftClip
   * slow standard deviations around the slow mean, feeds a fast and a slow running mean; their
   * gap is measured in units of its own long-run spread (smoothed at shiftVarRate), and the
   * score is min(1, weight * -log10(two-sided tail probability) / shiftDecades). An alert needs
   * shiftPersist consecutive points at the alerting level (a pair of spikes is not a shift).
   */
  levelShiftWeight: z.number().min(0).max(1).default(1),
  fastRate: z.number().gt(0).lt(1).default(0.05),
  slowRate: z.number().gt(0).lt(1).default(0.005),
  shiftClip: z.number().gt(0).default(3),
  shiftVarRate: z.number().gt(0).lt(1).default(0.002),
  shiftDecades: z.number().gt(0).default(5),
  shiftPersist: z.number().int().min(1).default(5),
  /**
   * Range detector; weight 0 disables it. A value beyond the range of every value seen so far by
   * more than rangeTolerance times that range scores `rangeWeight` (once the first season has
   * been seen; the range learns from the first point).
   */
  rangeWeight: z.number().min(0).max(1).default(1),
  rangeTolerance: z.number().min(0).default(0.05),
  /** After an internal score of at least suppressAbove, scores no higher than the peak are zeroed for suppressPoints points. */
  suppressAbove: z.number().min(0).max(1).default(0.3),
  suppressPoints: z.number().int().min(0).default(25),
  /** Internal score at which an alert is due; published scores map it to 0.5. */
  alertKnee: z.number().gt(0).lt(1).default(0.885),
});

/** Detector configuration; every field has a default (see the schema's doc comments). */
export type DetectorConfig = Readonly<z.infer<typeof detectorSchema>>;

/** Problems of a detector configuration (empty when valid), with the parsed result. */
function checkDetectorConfig(input: unknown): { config?: DetectorConfig; problems: string[] } {
  const result = detectorSchema.safeParse(input ?? {});
  if (!result.success) return { problems: result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`) };
  const d = result.data;
  const problems: string[] = [];
  if (d.seasonMs % d.seasonSlots !== 0) problems.push('seasonSlots: must divide seasonMs into whole milliseconds');
  if (d.rawHigh <= d.rawLow) problems.push('rawHigh: must exceed rawLow');
  if (d.fastRate <= d.slowRate) problems.push('fastRate: must exceed slowRate');
  if (d.noveltyMaxMs < d.noveltyBlockMs * d.noveltyBlocks) problems.push('noveltyMaxMs: must be at least noveltyBlockMs * noveltyBlocks');
  return problems.length > 0 ? { problems } : { config: Object.freeze(d), problems };
}

/** Validates detector configuration, reporting every problem at once; the result is frozen. */
export function parseDetectorConfig(input: unknown = {}): DetectorConfig {
  const { config, problems } = checkDetectorConfig(input);
  if (!config) throw aiopsError('CONFIG_INVALID', [problems.map((p) => `  - ${p}`).join('\n')]);
  return config;
}

/** The default configuration. */
export const defaultDetectorConfig: DetectorConfig = parseDetectorConfig({});

/** Values of a signal the anomaly stage can watch (fields of aiops.signal-values.v1). */
export const signalMetrics = ['rate', 'errorRatio', 'mean', 'p50', 'p95', 'p99', 'min', 'max', 'count'] as const;
export type SignalMetric = (typeof signalMetrics)[number];

const minimumSchema = z.object({ relative: z.number().min(0).default(0), absolute: z.number().min(0).default(0) }).strict();

const stageSchema = z
  .object({
    /** Turns the stage off (evaluate then only writes signal values). */
    enabled: z.boolean().default(true),
    /** Which values of every signal get a detector each: series `<rule>.<metric>` of the signal. */
    metrics: z.array(z.enum(signalMetrics)).min(1).default(['rate', 'errorRatio', 'p95']),
    /** Where events go. */
    topic: z.string().min(1).default('aiops.anomalies.v1'),
    /** Detector configuration (see above). */
    detector: z.record(z.string(), z.unknown()).default({}),
    /** Event state machine: open at openAbove, resolve after closeAfter points below closeBelow. */
    events: z
      .object({
        openAbove: z.number().gt(0).max(1).default(0.5),
        closeBelow: z.number().min(0).max(1).default(0.3),
        closeAfter: z.number().int().min(1).default(3),
        /**
         * Points a significant deviation must last, on one side, before an event opens (the first
         * of them scoring at openAbove): a one-bucket blip is not an incident. 1: open at once.
         */
        confirmPoints: z.number().int().min(1).max(127).default(2),
        /** Keep an event open while the value stays most of the way out (see EventTrackerOptions.holdMaxMs), for at most this long (0: off). */
        holdMaxMs: z.number().int().min(0).default(3_600_000),
      })
      .default({ openAbove: 0.5, closeBelow: 0.3, closeAfter: 3, confirmPoints: 2, holdMaxMs: 3_600_000 }),
    /**
     * Practical significance (processors/anomaly/significance.ts): an event opens, and stays
     * open, only while |actual - expected| reaches the largest of the signal's resolution (half
     * the histogram bucket a quantile falls in, and its rank's counting noise; noiseSigmas *
     * sqrt(N) events for a rate or count; binomial noise for an error ratio) and the metric
     * kind's relative (times |expected|) and absolute minimums. Kinds: rate (rate, count), ratio
     * (errorRatio), quantile (p50, p95, p99), value (mean, min, max).
     */
    significance: z
      .object({
        noiseSigmas: z.number().min(0).default(3),
        rate: minimumSchema.default({ relative: 0.2, absolute: 0 }),
        ratio: minimumSchema.default({ relative: 0, absolute: 0.01 }),
        quantile: minimumSchema.default({ relative: 0.2, absolute: 0 }),
        value: minimumSchema.default({ relative: 0.1, absolute: 0 }),
      })
      .strict()
      .default({ noiseSigmas: 3, rate: { relative: 0.2, absolute: 0 }, ratio: { relative: 0, absolute: 0.01 }, quantile: { relative: 0.2, absolute: 0 }, value: { relative: 0.1, absolute: 0 } }),
    /**
     * Severity from impact (see impactSeverity): the deviation in significance floors from which
     * an event is a warning or critical, the points a critical deviation must last (twice
     * `critical` needs none), and the requests a bucket must hold for a request-based metric to
     * be critical.
     */
    severity: z
      .object({
        warning: z.number().gt(0).default(1.5),
        critical: z.number().gt(0).default(3),
        sustainedPoints: z.number().int().min(1).default(3),
        minRequests: z.number().min(0).default(20),
      })
      .strict()
      .default({ warning: 1.5, critical: 3, sustainedPoints: 3, minRequests: 20 }),
    /**
     * Traffic that falls. A drop of a rate or count opens an event only once it has lasted
     * `confirmDrop` points: a service shut down cleanly stops sending (its series goes silent, a
     * gap, never an anomaly), and its last, partial bucket is the only low point, which is not
     * confirmed; a collapse keeps reporting low or zero traffic and is. With `zeroIsStop`,
     * traffic that falls to exactly zero is taken as stopped on purpose (scale to zero, batch
     * services) and opens nothing.
     */
    traffic: z
      .object({
        confirmDrop: z.number().int().min(1).max(127).default(2),
        zeroIsStop: z.boolean().default(false),
      })
      .strict()
      .default({ confirmDrop: 2, zeroIsStop: false }),
    /** Detector series per evaluate partition; a new series beyond it is counted (`anomaly_series_limited`) and not watched. */
    maxSeries: z.number().int().min(1).default(100_000),
    /** A series with no point for this long (event time) is forgotten; an open event is resolved first. */
    staleSeriesMs: z.number().int().min(1_000).default(86_400_000),
    /**
     * Signals whose expected value and prediction interval are exported as gauges on /metrics
     * (`aiops_anomaly_expected`, `_lower`, `_upper`, `_actual`, `_score`): glob patterns over the
     * signal key, `*` matching anything. Empty: none.
     */
    bands: z.array(z.string().min(1)).default(['*']),
    /** Most band series exported at once (the gauges' cardinality bound); more are counted and not exported. */
    maxBandSeries: z.number().int().min(0).default(1_000),
    /**
     * Where every point of the watched signals (`bands`) goes as a measurement (actual, expected,
     * lower, upper, score), for time-series sinks; empty: nowhere.
     */
    measurementsTopic: z.string().default('aiops.measurements.v1'),
  })
  .strict();

/** Configuration of the anomaly stage that runs inside evaluate. */
export interface AnomalyStageConfig {
  readonly enabled: boolean;
  readonly metrics: readonly SignalMetric[];
  readonly topic: string;
  readonly detector: DetectorConfig;
  readonly events: Readonly<{ openAbove: number; closeBelow: number; closeAfter: number; confirmPoints: number; holdMaxMs: number }>;
  readonly significance: SignificanceConfig;
  readonly severity: SeverityConfig;
  readonly traffic: Readonly<{ confirmDrop: number; zeroIsStop: boolean }>;
  readonly maxSeries: number;
  readonly staleSeriesMs: number;
  readonly bands: readonly string[];
  readonly maxBandSeries: number;
  readonly measurementsTopic: string;
}

/** Validates the anomaly stage's configuration (the `anomaly:` section), every problem at once. */
export function parseAnomalyStageConfig(input: unknown = {}): AnomalyStageConfig {
  const result = stageSchema.safeParse(input ?? {});
  const problems = result.success ? [] : result.error.issues.map((i) => `anomaly.${i.path.join('.')}: ${i.message}`);
  const detector = checkDetectorConfig(result.success ? result.data.detector : ((input ?? {}) as { detector?: unknown }).detector);
  problems.push(...detector.problems.map((p) => `anomaly.detector.${p}`));
  if (result.success && result.data.events.closeBelow > result.data.events.openAbove) problems.push('anomaly.events.closeBelow: must not exceed openAbove');
  if (result.success && result.data.severity.critical < result.data.severity.warning) problems.push('anomaly.severity.critical: must not be below warning');
  if (!result.success || !detector.config || problems.length > 0) throw aiopsError('CONFIG_INVALID', [problems.map((p) => `  - ${p}`).join('\n')]);
  const d = result.data;
  return Object.freeze({ ...d, metrics: Object.freeze([...new Set(d.metrics)]), detector: detector.config, events: Object.freeze({ ...d.events }), significance: Object.freeze({ ...d.significance }), severity: Object.freeze({ ...d.severity }), traffic: Object.freeze({ ...d.traffic }), bands: Object.freeze([...d.bands]) });
}
