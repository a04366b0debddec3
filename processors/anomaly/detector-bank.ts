import { defaultDetectorConfig } from './config.js';
import type { DetectorConfig } from './config.js';
import { normalTailLog10 } from './stats.js';

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
}

const MODE_WARMUP = 0;
const MODE_SEASONAL = 1;
/** Absolute floor of every scale, so constant series divide by something. */
const SCALE_FLOOR = 1e-9;
/** Points whose plain mean and mean deviation start the streaming median and MAD. */
const BOOTSTRAP_POINTS = 8;
const MAD_TO_SD = 1.4826;
const LOG10_2 = Math.log10(2);
/** Per-series columns: float64 values, uint32 counters, one uint8 mode (see the constructor). */
const F64_COLUMNS = 25;
const U32_COLUMNS = 4;

/**
 * Online anomaly detection for many series, one slot each. State lives in typed-array columns
 * indexed by slot (structure of arrays) plus a season matrix of `seasonSlots` float32 and a
 * novelty ring of `noveltyBlocks` float32 per series; an update is O(1) amortised and allocates
 * nothing. Capacity grows by doubling up to `maxSeries`.
 *
 * Model. Holt-Winters with a damped additive trend and an additive (or multiplicative) season,
 * in error-correction form. The season is kept at slot resolution (default 288 slots a day); a
 * point updates the slot its timestamp falls in. Residuals are clipped at `clipSigmas` before
 * they update the model, so an outlier moves it little. The residual variance is a running
 * (exponentially weighted) mean of clipped squared residuals.
 *
 * Warm-up. Until one season has elapsed since the first point, the prediction is a streaming
 * median with a MAD interval, and the season matrix collects each slot's raw values; then the
 * level starts as their mean and the season as their offsets, clipped to `initClipSigmas`
 * deviations (a spike on day one is not learnt as a daily pattern; a slot first visited later
 * is clipped the same way).
 *
 * Gaps. A non-finite value changes nothing. A time step over `gapSteps` typical steps does not
 * update level or trend (the season and variance still learn from the point).
 *
 * Score. Each point's score is the largest of four detectors' scores, each in [0, 1]:
 * - `holt-winters` (`robust-z` in warm-up): the residual in standard deviations, calibrated per
 *   series so that a running estimate of its `quantileLevel` quantile maps to the normal
 *   distribution's (heavy-tailed series become as quiet as well-behaved ones); the two-sided
 *   normal tail probability p gives min(1, -log10(p) / scoreDecades). It counts only when the
 *   residual is novel: larger than any residual of the recent past (at least four days by
 *   default) by `noveltyMargin`, so recurring spikes and bursts like earlier ones stay quiet.
 * - `likelihood`: a short-run mean of residual sizes against its own long-run mean and
 *   variance (a sustained rise of surprise, as in an anomaly likelihood).
 * - `level-shift`: fast against slow mean of the deseasonalised, clipped values, in units of
 *   the long-run spread of their gap; it must hold for `shiftPersist` points.
 * - `range`: a value beyond every value seen so far by `rangeTolerance` of that range.
 * Internally `alertKnee` is the alerting level; the published score maps it to 0.5. After a
 * point scores, scores no higher are damped for `suppressPoints` points (one alert per
 * incident). Scale floors: half the smallest change seen between consecutive values (quantised
 * metrics) and `relativeFloor` times the level.
 */
export class DetectorBank {
  readonly config: DetectorConfig;
  readonly slots: number;
  private readonly slotMs: number;
  /** |z| of a standard normal exceeded with probability 1 - quantileLevel. */
  private readonly qz: number;
  private readonly ringSize: number;
  private readonly maxSeries: number;
  private cap: number;
  private used = 0;

  // Holt-Winters and warm-up.
  private level: Float64Array;
  private trend: Float64Array;
  private variance: Float64Array;
  private median: Float64Array;
  private mad: Float64Array;
  private firstTs: Float64Array;
  private lastTs: Float64Array;
  private step: Float64Array;
  private count: Float64Array;
  private prevValue: Float64Array;
  private quantum: Float64Array;
  /** Running quantile of |z| (calibration). */
  private zq: Float64Array;
  // Suppression.
  private peak: Float64Array;
  private hold: Uint32Array;
  // Likelihood.
  private shortA: Float64Array;
  private longMean: Float64Array;
  private longVar: Float64Array;
  // Level shift.
  private shiftFast: Float64Array;
  private shiftSlow: Float64Array;
  private shiftSlowVar: Float64Array;
  private shiftGapVar: Float64Array;
  private shiftRun: Uint32Array;
  // Range.
  private minValue: Float64Array;
  private maxValue: Float64Array;
  // Novelty: the open block's largest residual, the ring's largest, the block's start and size.
  private blockMax: Float64Array;
  private ringMax: Float64Array;
  private blockStart: Float64Array;
  private blockPoints: Uint32Array;
  private blockIndex: Uint32Array;
  private ring: Float32Array;
  private mode: Uint8Array;
  private season: Float32Array;

  constructor(config: DetectorConfig = defaultDetectorConfig, options: { initialSeries?: number; maxSeries?: number } = {}) {
    this.config = config;
    this.slots = config.seasonSlots;
    this.slotMs = config.seasonMs / config.seasonSlots;
    this.qz = twoSidedQuantile(config.quantileLevel);
    this.ringSize = config.noveltyBlocks;
    this.maxSeries = options.maxSeries ?? 1 << 24;
    this.cap = Math.max(1, Math.min(options.initialSeries ?? 1024, this.maxSeries));
    const n = this.cap;
    this.level = new Float64Array(n);
    this.trend = new Float64Array(n);
    this.variance = new Float64Array(n);
    this.median = new Float64Array(n);
    this.mad = new Float64Array(n);
    this.firstTs = new Float64Array(n);
    this.lastTs = new Float64Array(n);
    this.step = new Float64Array(n);
    this.count = new Float64Array(n);
    this.prevValue = new Float64Array(n);
    this.quantum = new Float64Array(n);
    this.zq = new Float64Array(n);
    this.peak = new Float64Array(n);
    this.hold = new Uint32Array(n);
    this.shortA = new Float64Array(n);
    this.longMean = new Float64Array(n);
    this.longVar = new Float64Array(n);
    this.shiftFast = new Float64Array(n);
    this.shiftSlow = new Float64Array(n);
    this.shiftSlowVar = new Float64Array(n);
    this.shiftGapVar = new Float64Array(n);
    this.shiftRun = new Uint32Array(n);
    this.minValue = new Float64Array(n);
    this.maxValue = new Float64Array(n);
    this.blockMax = new Float64Array(n);
    this.ringMax = new Float64Array(n);
    this.blockStart = new Float64Array(n);
    this.blockPoints = new Uint32Array(n);
    this.blockIndex = new Uint32Array(n);
    this.ring = new Float32Array(n * this.ringSize);
    this.mode = new Uint8Array(n);
    this.season = new Float32Array(n * this.slots);
  }

  /** Series slots allocated so far (slots are 0 .. size-1). */
  get size(): number {
    return this.used;
  }

  /** Slots the columns can hold without growing. */
  get capacity(): number {
    return this.cap;
  }

  /** Bytes of state per series: the columns plus the season row and the novelty ring. */
  get bytesPerSeries(): number {
    return F64_COLUMNS * 8 + U32_COLUMNS * 4 + 1 + 4 * this.slots + 4 * this.ringSize;
  }

  /** Bytes held by the columns at the current capacity. */
  get byteLength(): number {
    return this.cap * this.bytesPerSeries;
  }

  /** Allocates a fresh series slot; throws a RangeError when `maxSeries` is reached. */
  allocate(): number {
    if (this.used >= this.cap) this.grow();
    const slot = this.used++;
    this.reset(slot);
    return slot;
  }

  /** Forgets a series' state; the slot starts over as a new series. */
  reset(slot: number): void {
    this.level[slot] = 0;
    this.trend[slot] = 0;
    this.variance[slot] = 0;
    this.median[slot] = 0;
    this.mad[slot] = 0;
    this.firstTs[slot] = 0;
    this.lastTs[slot] = 0;
    this.step[slot] = 0;
    this.count[slot] = 0;
    this.prevValue[slot] = 0;
    this.quantum[slot] = 0;
    this.zq[slot] = this.qz;
    this.peak[slot] = 0;
    this.hold[slot] = 0;
    this.shortA[slot] = 0;
    this.longMean[slot] = 0;
    this.longVar[slot] = 0;
    this.shiftFast[slot] = 0;
    this.shiftSlow[slot] = 0;
    this.shiftSlowVar[slot] = 0;
    this.shiftGapVar[slot] = 0;
    this.shiftRun[slot] = 0;
    this.minValue[slot] = 0;
    this.maxValue[slot] = 0;
    this.blockMax[slot] = 0;
    this.ringMax[slot] = 0;
    this.blockStart[slot] = Number.NaN;
    this.blockPoints[slot] = 0;
    this.blockIndex[slot] = 0;
    this.ring.fill(0, slot * this.ringSize, (slot + 1) * this.ringSize);
    this.mode[slot] = MODE_WARMUP;
    this.season.fill(Number.NaN, slot * this.slots, (slot + 1) * this.slots);
  }

  /** Event time of the slot's last point (0 before any). */
  lastTimestamp(slot: number): number {
    return this.lastTs[slot] as number;
  }

  /** Bytes {@link writeSlot} writes for one series. */
  get slotStateBytes(): number {
    return this.bytesPerSeries;
  }

  /**
   * Writes the slot's whole state (columns, season row, novelty ring) into `target` at `offset`,
   * little-endian, and returns the bytes written ({@link slotStateBytes}). {@link readSlot} of a
   * bank with the same seasonSlots and noveltyBlocks restores it exactly.
   */
  writeSlot(slot: number, target: Buffer, offset = 0): number {
    let o = offset;
    for (const column of this.f64Columns()) o = target.writeDoubleLE(column[slot] as number, o);
    for (const column of this.u32Columns()) o = target.writeUInt32LE(column[slot] as number, o);
    o = target.writeUInt8(this.mode[slot] as number, o);
    for (let i = slot * this.slots, end = i + this.slots; i < end; i++) o = target.writeFloatLE(this.season[i] as number, o);
    for (let i = slot * this.ringSize, end = i + this.ringSize; i < end; i++) o = target.writeFloatLE(this.ring[i] as number, o);
    return o - offset;
  }

  /** Restores a slot written by {@link writeSlot}; returns the bytes read. */
  readSlot(slot: number, source: Buffer, offset = 0): number {
    if (source.length - offset < this.bytesPerSeries) throw new RangeError(`slot state needs ${this.bytesPerSeries} bytes, got ${source.length - offset}`);
    let o = offset;
    for (const column of this.f64Columns()) {
      column[slot] = source.readDoubleLE(o);
      o += 8;
    }
    for (const column of this.u32Columns()) {
      column[slot] = source.readUInt32LE(o);
      o += 4;
    }
    this.mode[slot] = source.readUInt8(o++);
    for (let i = slot * this.slots, end = i + this.slots; i < end; i++, o += 4) this.season[i] = source.readFloatLE(o);
    for (let i = slot * this.ringSize, end = i + this.ringSize; i < end; i++, o += 4) this.ring[i] = source.readFloatLE(o);
    return o - offset;
  }

  /** The float64 columns in their serialised order (F64_COLUMNS of them). */
  private f64Columns(): Float64Array[] {
    return [
      this.level, this.trend, this.variance, this.median, this.mad, this.firstTs, this.lastTs, this.step, this.count, this.prevValue, this.quantum, this.zq, this.peak,
      this.shortA, this.longMean, this.longVar, this.shiftFast, this.shiftSlow, this.shiftSlowVar, this.shiftGapVar, this.minValue, this.maxValue, this.blockMax,
      this.ringMax, this.blockStart,
    ];
  }

  /** The uint32 columns in their serialised order (U32_COLUMNS of them). */
  private u32Columns(): Uint32Array[] {
    return [this.hold, this.shiftRun, this.blockPoints, this.blockIndex];
  }

  /** Model state of a slot (for tests and inspection; copies the season row). */
  inspect(slot: number): { level: number; trend: number; variance: number; count: number; mode: DetectorMode; season: Float32Array } {
    return {
      level: this.level[slot] as number,
      trend: this.trend[slot] as number,
      variance: this.variance[slot] as number,
      count: this.count[slot] as number,
      mode: this.mode[slot] === MODE_SEASONAL ? 'seasonal' : 'warmup',
      season: this.season.slice(slot * this.slots, (slot + 1) * this.slots),
    };
  }

  private grow(): void {
    if (this.cap >= this.maxSeries) throw new RangeError(`detector bank is full (${this.maxSeries} series)`);
    const n = Math.min(this.cap * 2, this.maxSeries);
    const f64 = (a: Float64Array): Float64Array => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    const u32 = (a: Uint32Array): Uint32Array => {
      const b = new Uint32Array(n);
      b.set(a);
      return b;
    };
    this.level = f64(this.level);
    this.trend = f64(this.trend);
    this.variance = f64(this.variance);
    this.median = f64(this.median);
    this.mad = f64(this.mad);
    this.firstTs = f64(this.firstTs);
    this.lastTs = f64(this.lastTs);
    this.step = f64(this.step);
    this.count = f64(this.count);
    this.prevValue = f64(this.prevValue);
    this.quantum = f64(this.quantum);
    this.zq = f64(this.zq);
    this.peak = f64(this.peak);
    this.hold = u32(this.hold);
    this.shortA = f64(this.shortA);
    this.longMean = f64(this.longMean);
    this.longVar = f64(this.longVar);
    this.shiftFast = f64(this.shiftFast);
    this.shiftSlow = f64(this.shiftSlow);
    this.shiftSlowVar = f64(this.shiftSlowVar);
    this.shiftGapVar = f64(this.shiftGapVar);
    this.shiftRun = u32(this.shiftRun);
    this.minValue = f64(this.minValue);
    this.maxValue = f64(this.maxValue);
    this.blockMax = f64(this.blockMax);
    this.ringMax = f64(this.ringMax);
    this.blockStart = f64(this.blockStart);
    this.blockPoints = u32(this.blockPoints);
    this.blockIndex = u32(this.blockIndex);
    const ring = new Float32Array(n * this.ringSize);
    ring.set(this.ring);
    this.ring = ring;
    const mode = new Uint8Array(n);
    mode.set(this.mode);
    this.mode = mode;
    const season = new Float32Array(n * this.slots);
    season.set(this.season);
    this.season = season;
    this.cap = n;
  }

  /**
   * Feeds one point of the series in `slot` and fills `out` (returned). Points are taken in
   * arrival order, whatever their timestamps; a non-finite value or timestamp is a gap: it
   * changes nothing and scores 0.
   */
  update(slot: number, timestampMs: number, value: number, out: DetectorResult): DetectorResult {
    const c = this.config;
    const n = this.count[slot] as number;
    if (!Number.isFinite(value) || !Number.isFinite(timestampMs)) {
      this.gapResult(slot, out);
      return out;
    }
    // Typical step between points, and whether this point follows a gap.
    let gap = false;
    if (n > 0) {
      const dt = timestampMs - (this.lastTs[slot] as number);
      const step = this.step[slot] as number;
      if (dt > 0) {
        if (step === 0) this.step[slot] = dt;
        else {
          gap = dt > c.gapSteps * step;
          this.step[slot] = step + 0.05 * (Math.min(dt, c.gapSteps * step) - step);
        }
      }
      // Resolution of the values: the smallest change seen between consecutive points.
      const change = Math.abs(value - (this.prevValue[slot] as number));
      const quantum = this.quantum[slot] as number;
      if (change > 0 && (change < quantum || quantum === 0)) this.quantum[slot] = change;
    } else {
      this.firstTs[slot] = timestampMs;
    }
    this.lastTs[slot] = timestampMs;
    this.prevValue[slot] = value;
    const phase = timestampMs - Math.floor(timestampMs / c.seasonMs) * c.seasonMs;
    let s = Math.floor(phase / this.slotMs);
    if (s >= this.slots) s = this.slots - 1;
    const k = slot * this.slots + s;
    if (this.mode[slot] === MODE_WARMUP && timestampMs - (this.firstTs[slot] as number) >= c.seasonMs) this.startSeason(slot);

    const quantumFloor = 0.5 * (this.quantum[slot] as number);
    let expected: number;
    let sd: number;
    let z = 0;
    let scored = n > 0;
    /** The seasonal offset of this point's slot (additive season only), for the level-shift detector. */
    let seasonal = 0;
    if (this.mode[slot] === MODE_WARMUP) {
      const med = this.median[slot] as number;
      const mad = this.mad[slot] as number;
      expected = n === 0 ? value : med;
      sd = Math.max(MAD_TO_SD * mad, SCALE_FLOOR + c.relativeFloor * Math.abs(med), quantumFloor);
      const dev = value - med;
      if (n > 0) z = dev / sd;
      // Streaming median and MAD: plain means while bootstrapping, then bounded steps.
      if (n === 0) {
        // The first point is the median; it says nothing about the spread yet.
        this.median[slot] = value;
        this.mad[slot] = 0;
      } else if (n < BOOTSTRAP_POINTS) {
        const w = 1 / n;
        this.median[slot] = med + dev * w;
        this.mad[slot] = mad + (Math.abs(dev) - mad) * w;
      } else {
        const stepM = c.warmupRate * Math.max(MAD_TO_SD * mad, SCALE_FLOOR * (1 + Math.abs(med)));
        this.median[slot] = med + (dev > stepM ? stepM : dev < -stepM ? -stepM : dev);
        const ad = Math.abs(dev) - mad;
        this.mad[slot] = mad + (ad > stepM ? stepM : ad < -stepM ? -stepM : ad);
      }
      const prev = this.season[k] as number;
      this.season[k] = Number.isNaN(prev) ? value : 0.5 * (prev + value);
      out.mode = 'warmup';
    } else {
      const level = this.level[slot] as number;
      const trend = this.trend[slot] as number;
      const mult = c.seasonality === 'multiplicative';
      let sv = this.season[k] as number;
      const fresh = Number.isNaN(sv); // a slot never visited yet: learn it, do not score
      if (fresh) sv = mult ? 1 : 0;
      if (!mult) seasonal = sv;
      const base = level + c.phi * trend;
      expected = mult ? base * sv : base + sv;
      const variance = this.variance[slot] as number;
      sd = Math.max(Math.sqrt(variance), SCALE_FLOOR + c.relativeFloor * Math.abs(base), quantumFloor);
      const r = value - expected;
      if (!fresh) z = r / sd;
      scored = !fresh;
      const lim = c.clipSigmas * sd;
      const rc = r > lim ? lim : r < -lim ? -lim : r;
      const initLim = c.initClipSigmas * sd;
      if (mult) {
        const newLevel = gap ? level : base + (c.alpha * rc) / (sv === 0 ? 1 : sv);
        this.level[slot] = newLevel;
        if (!gap) this.trend[slot] = c.phi * trend + c.beta * (newLevel - level - c.phi * trend);
        const lv = newLevel === 0 ? 1 : newLevel;
        this.season[k] = fresh ? 1 + clip(value - lv, initLim) / lv : sv + (c.gamma * (1 - c.alpha) * rc) / lv;
      } else {
        if (!gap) {
          this.level[slot] = base + c.alpha * rc;
          this.trend[slot] = c.phi * trend + c.alpha * c.beta * rc;
        }
        this.season[k] = fresh ? clip(value - base, initLim) : sv + c.gamma * (1 - c.alpha) * rc;
      }
      if (!fresh) this.variance[slot] = variance + c.varianceRate * (rc * rc - variance);
      out.mode = 'seasonal';
    }
    this.count[slot] = n + 1;

    // Residual score, calibrated by the series' own running quantile of |z|, counted only when novel.
    const az = Math.abs(z);
    const q = this.zq[slot] as number;
    const calibrated = (az * this.qz) / q;
    if (scored) {
      this.zq[slot] = az > q ? q * (1 + c.quantileRate * c.quantileLevel) : Math.max(q * (1 - c.quantileRate * (1 - c.quantileLevel)), this.qz);
    }
    const pointLog = normalTailLog10(calibrated) - LOG10_2; // two-sided
    let score = pointLog > 0 ? Math.min(1, pointLog / c.scoreDecades) : 0;
    if (scored && this.ringSize > 0) score *= this.novelty(slot, Math.abs(value - expected), timestampMs);
    let detector: DetectorName = out.mode === 'warmup' ? 'robust-z' : 'holt-winters';

    if (c.likelihoodWeight > 0) {
      const sLike = this.likelihood(slot, calibrated, n);
      if (sLike > score) {
        score = sLike;
        detector = 'likelihood';
      }
    }
    if (c.levelShiftWeight > 0) {
      const sShift = this.levelShift(slot, value - seasonal, n, quantumFloor);
      if (sShift > score) {
        score = sShift;
        detector = 'level-shift';
      }
    }
    if (c.rangeWeight > 0 && this.outOfRange(slot, value, n) && out.mode === 'seasonal' && c.rangeWeight > score) {
      score = c.rangeWeight;
      detector = 'range';
    }
    if (n + 1 < c.minHistory) score = 0;

    const internal = score;
    // Suppression: after a score of at least suppressAbove, scores no higher than the peak so
    // far are zeroed for suppressPoints points; a higher one passes and restarts the hold.
    const hold = this.hold[slot] as number;
    if (hold > 0) {
      const peak = this.peak[slot] as number;
      if (score > peak) {
        this.peak[slot] = score;
        this.hold[slot] = c.suppressPoints;
      } else {
        this.hold[slot] = hold - 1;
        score = 0;
      }
    } else if (score >= c.suppressAbove && c.suppressPoints > 0) {
      this.peak[slot] = score;
      this.hold[slot] = c.suppressPoints;
    }

    // Publish on a scale where the alerting level (alertKnee internally) is 0.5.
    const rawScore = this.publish(internal);
    score = this.publish(score);

    const half = c.intervalSigmas * sd;
    out.expected = expected;
    out.lower = expected - half;
    out.upper = expected + half;
    out.deviation = value - expected;
    out.sigmas = z;
    out.score = score;
    out.rawScore = rawScore;
    out.detector = rawScore > 0 ? detector : 'none';
    const learnt = out.mode === 'seasonal' ? 1 : 0.5;
    const outside = az <= c.intervalSigmas ? 0 : 1 - c.intervalSigmas / az;
    out.confidence = rawScore === 0 ? 0 : Math.min(1, learnt * (0.5 * rawScore + 0.5 * Math.max(outside, rawScore)));
    out.severity = rawScore >= 0.9 ? 'critical' : rawScore >= 0.7 ? 'warning' : rawScore >= 0.5 ? 'info' : 'none';
    return out;
  }

  /** Maps an internal score to the published scale, where alertKnee becomes 0.5. */
  private publish(internal: number): number {
    const knee = this.config.alertKnee;
    return internal <= knee ? (0.5 * internal) / knee : 0.5 + (0.5 * (internal - knee)) / (1 - knee);
  }

  /**
   * Novelty factor of a residual of this size, in [0, 1]: 0 up to the largest residual of the
   * recent past, 1 from noveltyMargin above it. Records the size, then closes the open block
   * once it is long enough (see the config) or spans noveltyMaxMs / noveltyBlocks; the ring's
   * maximum is refreshed then, so the cost is O(noveltyBlocks) once per block.
   */
  private novelty(slot: number, size: number, timestampMs: number): number {
    const c = this.config;
    const open = this.blockMax[slot] as number;
    const record = Math.max(open, this.ringMax[slot] as number);
    const ratio = record > 0 ? size / record : Number.POSITIVE_INFINITY;
    if (size > open) this.blockMax[slot] = size;
    const points = (this.blockPoints[slot] as number) + 1;
    let start = this.blockStart[slot] as number;
    if (Number.isNaN(start)) {
      start = timestampMs;
      this.blockStart[slot] = start;
    }
    const elapsed = timestampMs - start;
    const long = elapsed >= c.noveltyBlockMs && points >= c.noveltyBlockPoints && points * this.ringSize >= c.noveltyHistoryShare * (this.count[slot] as number);
    if (!long && elapsed * this.ringSize < c.noveltyMaxMs) {
      this.blockPoints[slot] = points;
    } else {
      const base = slot * this.ringSize;
      const index = this.blockIndex[slot] as number;
      this.ring[base + (index % this.ringSize)] = this.blockMax[slot] as number;
      this.blockIndex[slot] = (index + 1) % this.ringSize;
      this.blockStart[slot] = timestampMs;
      this.blockPoints[slot] = 0;
      this.blockMax[slot] = 0;
      let m = 0;
      for (let i = base; i < base + this.ringSize; i++) if ((this.ring[i] as number) > m) m = this.ring[i] as number;
      this.ringMax[slot] = m;
    }
    return ratio <= 1 ? 0 : Math.min(1, (ratio - 1) / c.noveltyMargin);
  }

  /**
   * Sustained-change score: the short-run mean of residual sizes (mapped to [0, 1]) against its
   * long-run mean and variance; only a rise counts.
   */
  private likelihood(slot: number, calibrated: number, n: number): number {
    const c = this.config;
    const a = calibrated <= c.rawLow ? 0 : calibrated >= c.rawHigh ? 1 : (calibrated - c.rawLow) / (c.rawHigh - c.rawLow);
    const shortA = (this.shortA[slot] as number) + c.shortRate * (a - (this.shortA[slot] as number));
    this.shortA[slot] = shortA;
    const lm = this.longMean[slot] as number;
    const lv = this.longVar[slot] as number;
    const rise = shortA - Math.max(lm, c.likelihoodMeanFloor);
    const log = rise <= 0 ? 0 : normalTailLog10(rise / Math.max(Math.sqrt(lv), c.likelihoodSdFloor));
    const dl = shortA - lm;
    const rate = Math.max(c.longRate, 1 / (n + 1));
    this.longMean[slot] = lm + rate * dl;
    this.longVar[slot] = (1 - rate) * (lv + rate * dl * dl);
    return Math.min(1, (c.likelihoodWeight * log) / c.likelihoodDecades);
  }

  /**
   * Level-shift score of a deseasonalised value `x` (the `n`-th point): fast against slow mean of
   * the clipped values, in units of the long-run spread of their gap. Until shiftPersist
   * consecutive points reach the alerting level, the score stays just below it.
   */
  private levelShift(slot: number, x0: number, n: number, floor: number): number {
    const c = this.config;
    const slow = this.shiftSlow[slot] as number;
    const slowVar = this.shiftSlowVar[slot] as number;
    const lim = c.shiftClip * Math.sqrt(slowVar);
    const x = n < 2 ? x0 : x0 > slow + lim ? slow + lim : x0 < slow - lim ? slow - lim : x0;
    const fast = n === 0 ? x : (this.shiftFast[slot] as number) + c.fastRate * (x - (this.shiftFast[slot] as number));
    this.shiftFast[slot] = fast;
    const slowRate = Math.max(c.slowRate, 1 / (n + 1));
    this.shiftSlow[slot] = n === 0 ? x : slow + slowRate * (x - slow);
    this.shiftSlowVar[slot] = n === 0 ? 0 : (1 - slowRate) * (slowVar + slowRate * (x0 - slow) * (x0 - slow));
    const gap = fast - slow;
    const gapVar = this.shiftGapVar[slot] as number;
    this.shiftGapVar[slot] = n === 0 ? 0 : gapVar + Math.max(c.shiftVarRate, 1 / n) * (gap * gap - gapVar);
    if (n + 1 < c.minHistory) return 0;
    const log = normalTailLog10(Math.abs(gap) / Math.max(Math.sqrt(gapVar), floor, SCALE_FLOOR)) - LOG10_2;
    const score = log <= 0 ? 0 : Math.min(1, (c.levelShiftWeight * log) / c.shiftDecades);
    const run = score >= c.alertKnee ? (this.shiftRun[slot] as number) + 1 : 0;
    this.shiftRun[slot] = run;
    return run >= c.shiftPersist ? score : Math.min(score, 0.99 * c.alertKnee);
  }

  /** Whether `value` lies beyond the range of the values seen so far by rangeTolerance of it (then widens it). */
  private outOfRange(slot: number, value: number, n: number): boolean {
    if (n === 0) {
      this.minValue[slot] = value;
      this.maxValue[slot] = value;
      return false;
    }
    const lo = this.minValue[slot] as number;
    const hi = this.maxValue[slot] as number;
    const tol = this.config.rangeTolerance * (hi - lo);
    if (value > hi) this.maxValue[slot] = value;
    else if (value < lo) this.minValue[slot] = value;
    return value > hi + tol || value < lo - tol;
  }

  private gapResult(slot: number, out: DetectorResult): void {
    const seasonal = this.mode[slot] === MODE_SEASONAL;
    out.expected = (this.count[slot] as number) === 0 ? Number.NaN : seasonal ? (this.level[slot] as number) : (this.median[slot] as number);
    out.lower = Number.NaN;
    out.upper = Number.NaN;
    out.deviation = 0;
    out.sigmas = 0;
    out.score = 0;
    out.rawScore = 0;
    out.confidence = 0;
    out.mode = 'gap';
    out.detector = 'none';
    out.severity = 'none';
  }

  /** Ends warm-up: the level is the mean of the slots seen, the season their clipped offsets. */
  private startSeason(slot: number): void {
    const c = this.config;
    const from = slot * this.slots;
    const to = from + this.slots;
    let sum = 0;
    let seen = 0;
    for (let i = from; i < to; i++) {
      const v = this.season[i] as number;
      if (!Number.isNaN(v)) {
        sum += v;
        seen++;
      }
    }
    const level = seen > 0 ? sum / seen : (this.median[slot] as number);
    const mult = c.seasonality === 'multiplicative';
    const robustSd = MAD_TO_SD * (this.mad[slot] as number);
    const lim = c.initClipSigmas * robustSd + Number.MIN_VALUE;
    for (let i = from; i < to; i++) {
      const v = this.season[i] as number;
      if (Number.isNaN(v)) continue;
      const d = clip(v - level, lim);
      this.season[i] = mult ? (level === 0 ? 1 : (level + d) / level) : d;
    }
    this.level[slot] = level;
    this.trend[slot] = 0;
    this.variance[slot] = robustSd * robustSd;
    this.mode[slot] = MODE_SEASONAL;
  }
}

/** `x` clipped to [-lim, lim]. */
function clip(x: number, lim: number): number {
  return x > lim ? lim : x < -lim ? -lim : x;
}

/** The z with P(|Z| > z) = 1 - level for a standard normal (bisection; once per bank). */
function twoSidedQuantile(level: number): number {
  const target = -Math.log10((1 - level) / 2);
  let lo = 0;
  let hi = 40;
  for (let i = 0; i < 60; i++) {
    const mid = 0.5 * (lo + hi);
    if (normalTailLog10(mid) < target) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}
