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
/*
 * Per-series record: STRIDE float64 fields at slot * STRIDE, so one update touches one record of
 * four cache lines (plus one season entry) whatever the order series arrive in. The first
 * F64_FIELDS are float64 values; the next U32_FIELDS are counters serialised as uint32; MODE is
 * serialised as one byte. The rest of the stride is padding that keeps records line-aligned.
 */
const LEVEL = 0;
const TREND = 1;
const VARIANCE = 2;
const MEDIAN = 3;
const MAD = 4;
const FIRST_TS = 5;
const LAST_TS = 6;
const STEP = 7;
const COUNT = 8;
const PREV_VALUE = 9;
const QUANTUM = 10;
const ZQ = 11;
const PEAK = 12;
const SHORT_A = 13;
const LONG_MEAN = 14;
const LONG_VAR = 15;
const SHIFT_FAST = 16;
const SHIFT_SLOW = 17;
const SHIFT_SLOW_VAR = 18;
const SHIFT_GAP_VAR = 19;
const MIN_VALUE = 20;
const MAX_VALUE = 21;
const BLOCK_MAX = 22;
const RING_MAX = 23;
const BLOCK_START = 24;
const HOLD = 25;
const SHIFT_RUN = 26;
const BLOCK_POINTS = 27;
const BLOCK_INDEX = 28;
const MODE = 29;
const F64_FIELDS = 25;
const U32_FIELDS = 4;
const STRIDE = 32;
/** Bytes of one series in a changelog record (see writeSlot): fields, then season row, then ring. */
const SERIALISED_FIELD_BYTES = F64_FIELDS * 8 + U32_FIELDS * 4 + 1;

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
      this.gapResult(slot, out);
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
    if (st[b + MODE] === MODE_WARMUP && timestampMs - (st[b + FIRST_TS] as number) >= c.seasonMs) this.startSeason(slot);

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
      // Streaming median and MAD: plain means while bootstrapping, then bounded steps.
      if (n === 0) {
        // The first point is the median; it says nothing about the spread yet.
        st[b + MEDIAN] = value;
        st[b + MAD] = 0;
      } else if (n < BOOTSTRAP_POINTS) {
        const w = 1 / n;
        st[b + MEDIAN] = med + dev * w;
        st[b + MAD] = mad + (Math.abs(dev) - mad) * w;
      } else {
        const stepM = c.warmupRate * Math.max(MAD_TO_SD * mad, SCALE_FLOOR * (1 + Math.abs(med)));
        st[b + MEDIAN] = med + (dev > stepM ? stepM : dev < -stepM ? -stepM : dev);
        const ad = Math.abs(dev) - mad;
        st[b + MAD] = mad + (ad > stepM ? stepM : ad < -stepM ? -stepM : ad);
      }
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
    const novel = scored && this.ringSize > 0 ? this.novelty(slot, Math.abs(value - expected), timestampMs) : 1;
    let score = 0;
    if (novel > 0) {
      const pointLog = normalTailLog10(calibrated) - LOG10_2; // two-sided
      if (pointLog > 0) score = Math.min(1, pointLog / c.scoreDecades) * novel;
    }
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

  /**
   * Novelty factor of a residual of this size, in [0, 1]: 0 up to the largest residual of the
   * recent past, 1 from noveltyMargin above it. Records the size, then closes the open block
   * once it is long enough (see the config) or spans noveltyMaxMs / noveltyBlocks; the ring's
   * maximum is refreshed then, so the cost is O(noveltyBlocks) once per block.
   */
  private novelty(slot: number, size: number, timestampMs: number): number {
    const st = this.state;
    const b = slot * STRIDE;
    const c = this.config;
    const open = st[b + BLOCK_MAX] as number;
    const record = Math.max(open, st[b + RING_MAX] as number);
    const ratio = record > 0 ? size / record : Number.POSITIVE_INFINITY;
    if (size > open) st[b + BLOCK_MAX] = size;
    const points = (st[b + BLOCK_POINTS] as number) + 1;
    let start = st[b + BLOCK_START] as number;
    if (Number.isNaN(start)) {
      start = timestampMs;
      st[b + BLOCK_START] = start;
    }
    const elapsed = timestampMs - start;
    const long = elapsed >= c.noveltyBlockMs && points >= c.noveltyBlockPoints && points * this.ringSize >= c.noveltyHistoryShare * (st[b + COUNT] as number);
    if (!long && elapsed * this.ringSize < c.noveltyMaxMs) {
      st[b + BLOCK_POINTS] = points;
    } else {
      const base = slot * this.ringSize;
      const index = st[b + BLOCK_INDEX] as number;
      this.ring[base + (index % this.ringSize)] = st[b + BLOCK_MAX] as number;
      st[b + BLOCK_INDEX] = (index + 1) % this.ringSize;
      st[b + BLOCK_START] = timestampMs;
      st[b + BLOCK_POINTS] = 0;
      st[b + BLOCK_MAX] = 0;
      let m = 0;
      for (let i = base; i < base + this.ringSize; i++) if ((this.ring[i] as number) > m) m = this.ring[i] as number;
      st[b + RING_MAX] = m;
    }
    return ratio <= 1 ? 0 : Math.min(1, (ratio - 1) / c.noveltyMargin);
  }

  /**
   * Sustained-change score: the short-run mean of residual sizes (mapped to [0, 1]) against its
   * long-run mean and variance; only a rise counts.
   */
  private likelihood(slot: number, calibrated: number, n: number): number {
    const st = this.state;
    const b = slot * STRIDE;
    const c = this.config;
    const a = calibrated <= c.rawLow ? 0 : calibrated >= c.rawHigh ? 1 : (calibrated - c.rawLow) / (c.rawHigh - c.rawLow);
    const shortA = (st[b + SHORT_A] as number) + c.shortRate * (a - (st[b + SHORT_A] as number));
    st[b + SHORT_A] = shortA;
    const lm = st[b + LONG_MEAN] as number;
    const lv = st[b + LONG_VAR] as number;
    const rise = shortA - Math.max(lm, c.likelihoodMeanFloor);
    const log = rise <= 0 ? 0 : normalTailLog10(rise / Math.max(Math.sqrt(lv), c.likelihoodSdFloor));
    const dl = shortA - lm;
    const rate = Math.max(c.longRate, 1 / (n + 1));
    st[b + LONG_MEAN] = lm + rate * dl;
    st[b + LONG_VAR] = (1 - rate) * (lv + rate * dl * dl);
    return Math.min(1, (c.likelihoodWeight * log) / c.likelihoodDecades);
  }

  /**
   * Level-shift score of a deseasonalised value `x` (the `n`-th point): fast against slow mean of
   * the clipped values, in units of the long-run spread of their gap. Until shiftPersist
   * consecutive points reach the alerting level, the score stays just below it.
   */
  private levelShift(slot: number, x0: number, n: number, floor: number): number {
    const st = this.state;
    const b = slot * STRIDE;
    const c = this.config;
    const slow = st[b + SHIFT_SLOW] as number;
    const slowVar = st[b + SHIFT_SLOW_VAR] as number;
    const lim = c.shiftClip * Math.sqrt(slowVar);
    const x = n < 2 ? x0 : x0 > slow + lim ? slow + lim : x0 < slow - lim ? slow - lim : x0;
    const fast = n === 0 ? x : (st[b + SHIFT_FAST] as number) + c.fastRate * (x - (st[b + SHIFT_FAST] as number));
    st[b + SHIFT_FAST] = fast;
    const slowRate = Math.max(c.slowRate, 1 / (n + 1));
    st[b + SHIFT_SLOW] = n === 0 ? x : slow + slowRate * (x - slow);
    st[b + SHIFT_SLOW_VAR] = n === 0 ? 0 : (1 - slowRate) * (slowVar + slowRate * (x0 - slow) * (x0 - slow));
    const gap = fast - slow;
    const gapVar = st[b + SHIFT_GAP_VAR] as number;
    st[b + SHIFT_GAP_VAR] = n === 0 ? 0 : gapVar + Math.max(c.shiftVarRate, 1 / n) * (gap * gap - gapVar);
    if (n + 1 < c.minHistory) return 0;
    const log = normalTailLog10(Math.abs(gap) / Math.max(Math.sqrt(gapVar), floor, SCALE_FLOOR)) - LOG10_2;
    const score = log <= 0 ? 0 : Math.min(1, (c.levelShiftWeight * log) / c.shiftDecades);
    const run = score >= c.alertKnee ? (st[b + SHIFT_RUN] as number) + 1 : 0;
    st[b + SHIFT_RUN] = run;
    return run >= c.shiftPersist ? score : Math.min(score, 0.99 * c.alertKnee);
  }

  /** Whether `value` lies beyond the range of the values seen so far by rangeTolerance of it (then widens it). */
  private outOfRange(slot: number, value: number, n: number): boolean {
    const st = this.state;
    const b = slot * STRIDE;
    if (n === 0) {
      st[b + MIN_VALUE] = value;
      st[b + MAX_VALUE] = value;
      return false;
    }
    const lo = st[b + MIN_VALUE] as number;
    const hi = st[b + MAX_VALUE] as number;
    const tol = this.config.rangeTolerance * (hi - lo);
    if (value > hi) st[b + MAX_VALUE] = value;
    else if (value < lo) st[b + MIN_VALUE] = value;
    return value > hi + tol || value < lo - tol;
  }

  private gapResult(slot: number, out: DetectorResult): void {
    const st = this.state;
    const b = slot * STRIDE;
    const seasonal = st[b + MODE] === MODE_SEASONAL;
    out.expected = (st[b + COUNT] as number) === 0 ? Number.NaN : seasonal ? (st[b + LEVEL] as number) : (st[b + MEDIAN] as number);
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
    const st = this.state;
    const b = slot * STRIDE;
    const c = this.config;
    const from = slot;
    const to = this.slots * this.cap;
    const stepI = this.cap;
    let sum = 0;
    let seen = 0;
    for (let i = from; i < to; i += stepI) {
      const v = this.season[i] as number;
      if (!Number.isNaN(v)) {
        sum += v;
        seen++;
      }
    }
    const level = seen > 0 ? sum / seen : (st[b + MEDIAN] as number);
    const mult = c.seasonality === 'multiplicative';
    const robustSd = MAD_TO_SD * (st[b + MAD] as number);
    const lim = c.initClipSigmas * robustSd + Number.MIN_VALUE;
    for (let i = from; i < to; i += stepI) {
      const v = this.season[i] as number;
      if (Number.isNaN(v)) continue;
      const d = clip(v - level, lim);
      this.season[i] = mult ? (level === 0 ? 1 : (level + d) / level) : d;
    }
    st[b + LEVEL] = level;
    st[b + TREND] = 0;
    st[b + VARIANCE] = robustSd * robustSd;
    st[b + MODE] = MODE_SEASONAL;
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
