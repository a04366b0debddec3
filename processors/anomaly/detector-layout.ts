/*
 * The detector's per-series record (DetectorBank): field indexes into a Float64Array, STRIDE
 * fields per series, and the constants the bank and its scores share.
 */
export const MODE_WARMUP = 0;
export const MODE_SEASONAL = 1;
/** Absolute floor of every scale, so constant series divide by something. */
export const SCALE_FLOOR = 1e-9;
/** Points whose plain mean and mean deviation start the streaming median and MAD. */
export const BOOTSTRAP_POINTS = 8;
export const MAD_TO_SD = 1.4826;
export const LOG10_2 = Math.log10(2);
/*
 * Per-series record: STRIDE float64 fields at slot * STRIDE, so one update touches one record of
 * four cache lines (plus one season entry) whatever the order series arrive in. The first
 * F64_FIELDS are float64 values; the next U32_FIELDS are counters serialised as uint32; MODE is
 * serialised as one byte. The rest of the stride is padding that keeps records line-aligned.
 */
export const LEVEL = 0;
export const TREND = 1;
export const VARIANCE = 2;
export const MEDIAN = 3;
export const MAD = 4;
export const FIRST_TS = 5;
export const LAST_TS = 6;
export const STEP = 7;
export const COUNT = 8;
export const PREV_VALUE = 9;
export const QUANTUM = 10;
export const ZQ = 11;
export const PEAK = 12;
export const SHORT_A = 13;
export const LONG_MEAN = 14;
export const LONG_VAR = 15;
export const SHIFT_FAST = 16;
export const SHIFT_SLOW = 17;
export const SHIFT_SLOW_VAR = 18;
export const SHIFT_GAP_VAR = 19;
export const MIN_VALUE = 20;
export const MAX_VALUE = 21;
export const BLOCK_MAX = 22;
export const RING_MAX = 23;
export const BLOCK_START = 24;
export const HOLD = 25;
export const SHIFT_RUN = 26;
export const BLOCK_POINTS = 27;
export const BLOCK_INDEX = 28;
export const MODE = 29;
export const F64_FIELDS = 25;
export const U32_FIELDS = 4;
export const STRIDE = 32;
/** Bytes of one series in a changelog record (see writeSlot): fields, then season row, then ring. */
export const SERIALISED_FIELD_BYTES = F64_FIELDS * 8 + U32_FIELDS * 4 + 1;

