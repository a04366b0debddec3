import { defaultDetectorConfig } from './config.js';
import type { DetectorConfig } from './config.js';
import type { DetectorResult } from './detector-result.js';
import type { DetectorMode, DetectorName } from './detector-result.js';
import { BLOCK_START, COUNT, F64_FIELDS, FIRST_TS, HOLD, LAST_TS, LEVEL, LOG10_2, MAD, MAD_TO_SD, MEDIAN, MIN_VALUE, MODE, MODE_SEASONAL, MODE_WARMUP, PEAK, PREV_VALUE, QUANTUM, SCALE_FLOOR, SERIALISED_FIELD_BYTES, STEP, STRIDE, TREND, U32_FIELDS, VARIANCE, ZQ } from './detector-layout.js';
import { startSeason, warmupStep } from './detector-warmup.js';
import { clip, levelShift, likelihood, novelty, outOfRange, twoSidedQuantile } from './detector-scores.js';
import { normalTailLog10 } from './stats.js';

export { DetectorResult } from './detector-result.js';
export type { DetectorMode, DetectorName, Severity } from './detector-result.js';

/**
 * Online anomaly detection for many series, one slot each. Each series has a record of STRIDE
 * float64 fields (four cache lines), `seasonSlots` float32 season values in a slot-major matrix
 * (series updated at the same time of day touch adjacent values) and a novelty ring of
 * `noveltyBlocks` float32; an update is O(1) amortised and allocates nothing. Capacity grows by
 * doubling up to `maxSeries`.
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
 * Non-negative series. A series never seen below zero (the range detector's running minimum)
 * is never expected below zero, and its band stops at zero: an additive season must not predict
 * a negative count at a quiet hour and turn an ordinary zero into a rise.
 *
 * Gaps. A non-finite value changes nothing. A time step over `gapSteps` typical steps does not
 * update level or trend (the season and variance still learn from the point).
 *
 * Score. Each point's score is the largest of four detectors' scores, each in [0, 1]:
 * - `holt-winters` (`robust-z` in warm-up): the residual in standard deviations, calibrated per
 *   series so that a running estimate of its `quantileLevel` quantile maps to the normal
 *   distribution's (heavy-tailed series become as quiet as well-behaved ones); the two-sided
 *   normal tail probability p gives min(1, -log10(p) / scoreDecades). It counts only when the
 *   residual is novel: larger than any residual of the recent past (at least two days by
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

  /** Every series' record of STRIDE float64 fields (see the field constants). */
  private state: Float64Array;
  /** Each series' novelty ring: the largest residual of each of the last noveltyBlocks blocks. */
  private ring: Float32Array;
  /**
   * The season values, slot-major: season slot s of series `slot` is at s * cap + slot, so the
   * series updated at the same time of day (a bucket closing for every signal) touch adjacent
   * values.
   */
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
    this.state = new Float64Array(n * STRIDE);
    this.ring = new Float32Array(n * this.ringSize);
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

  /** Bytes of state per series in memory: the record, the season row and the novelty ring. */
  get bytesPerSeries(): number {
    return STRIDE * 8 + 4 * this.slots + 4 * this.ringSize;
  }

  /** Bytes held at the current capacity. */
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
    const st = this.state;
    const b = slot * STRIDE;
    st.fill(0, b, b + STRIDE);
    st[b + ZQ] = this.qz;
    st[b + BLOCK_START] = Number.NaN;
    st[b + MODE] = MODE_WARMUP;
    this.ring.fill(0, slot * this.ringSize, (slot + 1) * this.ringSize);
    for (let i = slot, end = this.slots * this.cap; i < end; i += this.cap) this.season[i] = Number.NaN;
  }

  /** Event time of the slot's last point (0 before any). */
  lastTimestamp(slot: number): number {
    return this.state[slot * STRIDE + LAST_TS] as number;
  }

  /** Bytes {@link writeSlot} writes for one series. */
  get slotStateBytes(): number {
    return SERIALISED_FIELD_BYTES + 4 * this.slots + 4 * this.ringSize;
  }

  /**
   * Writes the slot's whole state into `target` at `offset`, little-endian, and returns the bytes
   * written ({@link slotStateBytes}): the float64 fields, the counters as uint32, the mode as one
   * byte, the season row and the novelty ring as float32. {@link readSlot} of a bank with the
   * same seasonSlots and noveltyBlocks restores it exactly.
   */
  writeSlot(slot: number, target: Buffer, offset = 0): number {
    const st = this.state;
    const b = slot * STRIDE;
    let o = offset;
    for (let f = 0; f < F64_FIELDS; f++) o = target.writeDoubleLE(st[b + f] as number, o);
    for (let f = F64_FIELDS; f < F64_FIELDS + U32_FIELDS; f++) o = target.writeUInt32LE(st[b + f] as number, o);
    o = target.writeUInt8(st[b + MODE] as number, o);
    for (let i = slot, end = this.slots * this.cap; i < end; i += this.cap) o = target.writeFloatLE(this.season[i] as number, o);
    for (let i = slot * this.ringSize, end = i + this.ringSize; i < end; i++) o = target.writeFloatLE(this.ring[i] as number, o);
    return o - offset;
  }

  /** Restores a slot written by {@link writeSlot}; returns the bytes read. */
  readSlot(slot: number, source: Buffer, offset = 0): number {
    const bytes = this.slotStateBytes;
    if (source.length - offset < bytes) throw new RangeError(`slot state needs ${bytes} bytes, got ${source.length - offset}`);
    const st = this.state;
    const b = slot * STRIDE;
    let o = offset;
    st.fill(0, b, b + STRIDE);
    for (let f = 0; f < F64_FIELDS; f++, o += 8) st[b + f] = source.readDoubleLE(o);
    for (let f = F64_FIELDS; f < F64_FIELDS + U32_FIELDS; f++, o += 4) st[b + f] = source.readUInt32LE(o);
    st[b + MODE] = source.readUInt8(o++);
    for (let i = slot, end = this.slots * this.cap; i < end; i += this.cap, o += 4) this.season[i] = source.readFloatLE(o);
    for (let i = slot * this.ringSize, end = i + this.ringSize; i < end; i++, o += 4) this.ring[i] = source.readFloatLE(o);
    return o - offset;
  }

  /** Model state of a slot (for tests and inspection; copies the season row). */
  inspect(slot: number): { level: number; trend: number; variance: number; count: number; mode: DetectorMode; season: Float32Array } {
    const st = this.state;
    const b = slot * STRIDE;
    return {
      level: st[b + LEVEL] as number,
      trend: st[b + TREND] as number,
      variance: st[b + VARIANCE] as number,
      count: st[b + COUNT] as number,
      mode: st[b + MODE] === MODE_SEASONAL ? 'seasonal' : 'warmup',
      season: Float32Array.from({ length: this.slots }, (_, s) => this.season[s * this.cap + slot] as number),
    };
  }

  private grow(): void {
    if (this.cap >= this.maxSeries) throw new RangeError(`detector bank is full (${this.maxSeries} series)`);
    const n = Math.min(this.cap * 2, this.maxSeries);
    const state = new Float64Array(n * STRIDE);
    state.set(this.state);
    this.state = state;
    const ring = new Float32Array(n * this.ringSize);
    ring.set(this.ring);
    this.ring = ring;
    // Season rows are interleaved (slot-major), so each season slot's block moves to its new place.
    const season = new Float32Array(n * this.slots);
    for (let s = 0; s < this.slots; s++) season.set(this.season.subarray(s * this.cap, (s + 1) * this.cap), s * n);
    this.season = season;
    this.cap = n;
  }

  /**
   * Feeds one point of the series in `slot` and fills `out` (returned). Points are taken in
   * arrival order, whatever their timestamps; a non-finite value or timestamp is a gap: it
   * changes nothing and scores 0.
   */
  update(slot: number, timestampMs: number, value: number, out: DetectorResult): DetectorResult {
    const st = this.state;
    const b = slot * STRIDE;
    const c = this.config;
    const n = st[b + COUNT] as number;
    if (!Number.isFinite(value) || !Number.isFinite(timestampMs)) {
      out.gap((st[b + COUNT] as number) === 0 ? Number.NaN : st[b + MODE] === MODE_SEASONAL ? (st[b + LEVEL] as number) : (st[b + MEDIAN] as number));
      return out;
    }
    // Typical step between points, and whether this point follows a gap.
    let gap = false;
    if (n > 0) {
      const dt = timestampMs - (st[b + LAST_TS] as number);
      const step = st[b + STEP] as number;
      if (dt > 0) {
        if (step === 0) st[b + STEP] = dt;
        else {
          gap = dt > c.gapSteps * step;
          st[b + STEP] = step + 0.05 * (Math.min(dt, c.gapSteps * step) - step);
        }
      }
    } else {
      st[b + FIRST_TS] = timestampMs;
    }
    // Resolution of the values: the smallest change seen between consecutive ordinary points
    // before this one (updated below, once this point is judged: a constant series' first move
    // must not set its own scale, or it scores two sigmas and widens the band of the next points).
    const quantumFloor = 0.5 * (st[b + QUANTUM] as number);
    const change = n > 0 ? Math.abs(value - (st[b + PREV_VALUE] as number)) : 0;
    st[b + LAST_TS] = timestampMs;
    st[b + PREV_VALUE] = value;
    const phase = timestampMs - Math.floor(timestampMs / c.seasonMs) * c.seasonMs;
    let s = Math.floor(phase / this.slotMs);
    if (s >= this.slots) s = this.slots - 1;
    const k = s * this.cap + slot;
    if (st[b + MODE] === MODE_WARMUP && timestampMs - (st[b + FIRST_TS] as number) >= c.seasonMs) startSeason(st, this.season, this.cap, this.slots, slot, c);

    /** No value below zero so far (the range detector's minimum): bands stop at zero. */
    const nonNegative = c.rangeWeight > 0 && n > 0 && (st[b + MIN_VALUE] as number) >= 0;
    let expected: number;
    let sd: number;
    let z = 0;
    let scored = n > 0;
    /** The seasonal offset of this point's slot (additive season only), for the level-shift detector. */
    let seasonal = 0;
    if (st[b + MODE] === MODE_WARMUP) {
      const med = st[b + MEDIAN] as number;
      const mad = st[b + MAD] as number;
      expected = n === 0 ? value : med;
      sd = Math.max(MAD_TO_SD * mad, SCALE_FLOOR + c.relativeFloor * Math.abs(med), quantumFloor);
      const dev = value - med;
      if (n > 0) z = dev / sd;
      warmupStep(st, b, c, value, n);
      const prev = this.season[k] as number;
      this.season[k] = Number.isNaN(prev) ? value : 0.5 * (prev + value);
      out.mode = 'warmup';
    } else {
      const level = st[b + LEVEL] as number;
      const trend = st[b + TREND] as number;
      const mult = c.seasonality === 'multiplicative';
      let sv = this.season[k] as number;
      const fresh = Number.isNaN(sv); // a slot never visited yet: learn it, do not score
      if (fresh) sv = mult ? 1 : 0;
      if (!mult) seasonal = sv;
      const base = level + c.phi * trend;
      expected = mult ? base * sv : base + sv;
      const variance = st[b + VARIANCE] as number;
      sd = Math.max(Math.sqrt(variance), SCALE_FLOOR + c.relativeFloor * Math.abs(base), quantumFloor);
      const r = value - expected;
      // A series never seen below zero (a count, a rate, a latency) is not expected below zero:
      // the additive season can predict a negative value at a quiet hour, which must not make an
      // ordinary zero or small count look like a rise.
      if (expected < 0 && nonNegative) expected = 0;
      if (!fresh) z = (value - expected) / sd;
      scored = !fresh;
      const lim = c.clipSigmas * sd;
      const rc = r > lim ? lim : r < -lim ? -lim : r;
      const initLim = c.initClipSigmas * sd;
      if (mult) {
        const newLevel = gap ? level : base + (c.alpha * rc) / (sv === 0 ? 1 : sv);
        st[b + LEVEL] = newLevel;
        if (!gap) st[b + TREND] = c.phi * trend + c.beta * (newLevel - level - c.phi * trend);
        const lv = newLevel === 0 ? 1 : newLevel;
        this.season[k] = fresh ? 1 + clip(value - lv, initLim) / lv : sv + (c.gamma * (1 - c.alpha) * rc) / lv;
      } else {
        if (!gap) {
          st[b + LEVEL] = base + c.alpha * rc;
          st[b + TREND] = c.phi * trend + c.alpha * c.beta * rc;
        }
        this.season[k] = fresh ? clip(value - base, initLim) : sv + c.gamma * (1 - c.alpha) * rc;
      }
      if (!fresh) st[b + VARIANCE] = variance + c.varianceRate * (rc * rc - variance);
      out.mode = 'seasonal';
    }
    st[b + COUNT] = n + 1;
    if (change > 0 && Math.abs(z) <= c.clipSigmas) {
      const quantum = st[b + QUANTUM] as number;
      if (change < quantum || quantum === 0) st[b + QUANTUM] = change;
    }

    // Residual score, calibrated by the series' own running quantile of |z|, counted only when novel.
    const az = Math.abs(z);
    const q = st[b + ZQ] as number;
    const calibrated = (az * this.qz) / q;
    if (scored) {
      st[b + ZQ] = az > q ? q * (1 + c.quantileRate * c.quantileLevel) : Math.max(q * (1 - c.quantileRate * (1 - c.quantileLevel)), this.qz);
    }
    // Novelty first: a residual no larger than the recent record scores 0 whatever its tail.
    const novel = scored && this.ringSize > 0 ? novelty(st, this.ring, this.ringSize, slot, c, Math.abs(value - expected), timestampMs) : 1;
    let score = 0;
    if (novel > 0) {
      const pointLog = normalTailLog10(calibrated) - LOG10_2; // two-sided
      if (pointLog > 0) score = Math.min(1, pointLog / c.scoreDecades) * novel;
    }
    let detector: DetectorName = out.mode === 'warmup' ? 'robust-z' : 'holt-winters';

    if (c.likelihoodWeight > 0) {
      const sLike = likelihood(st, b, c, calibrated, n);
      if (sLike > score) {
        score = sLike;
        detector = 'likelihood';
      }
    }
    if (c.levelShiftWeight > 0) {
      const sShift = levelShift(st, b, c, value - seasonal, n, quantumFloor);
      if (sShift > score) {
        score = sShift;
        detector = 'level-shift';
      }
    }
    if (c.rangeWeight > 0 && outOfRange(st, b, c, value, n) && out.mode === 'seasonal' && c.rangeWeight > score) {
      score = c.rangeWeight;
      detector = 'range';
    }
    if (n + 1 < c.minHistory) score = 0;

    const internal = score;
    // Suppression: after a score of at least suppressAbove, scores no higher than the peak so
    // far are zeroed for suppressPoints points; a higher one passes and restarts the hold.
    const hold = st[b + HOLD] as number;
    if (hold > 0) {
      const peak = st[b + PEAK] as number;
      if (score > peak) {
        st[b + PEAK] = score;
        st[b + HOLD] = c.suppressPoints;
      } else {
        st[b + HOLD] = hold - 1;
        score = 0;
      }
    } else if (score >= c.suppressAbove && c.suppressPoints > 0) {
      st[b + PEAK] = score;
      st[b + HOLD] = c.suppressPoints;
    }

    // Publish on a scale where the alerting level (alertKnee internally) is 0.5.
    const rawScore = this.publish(internal);
    score = this.publish(score);

    const half = c.intervalSigmas * sd;
    out.expected = expected;
    out.lower = nonNegative && expected - half < 0 ? 0 : expected - half;
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
}
