/**
 * Throughput of the anomaly detector bank: updates per second on one core at 10k, 100k and 1M
 * series, in rounds of one point per series with steady timestamps (a 30-minute step, so the
 * one-day warm-up ends after 48 rounds and most of the measurement runs the seasonal model), and
 * the bytes of state per series with the default 288-slot season (all detectors included: the
 * record, the season row and the novelty ring).
 *
 * Two orders: `sequential` visits the series in slot order each round (as evaluate does when a
 * bucket closes for every signal: signals were allocated in the order they first appeared);
 * `shuffled` visits them in a fixed random permutation, the worst case for memory locality.
 *
 * Prints one JSON line. Run: `npx tsx bench/anomaly.bench.ts` (BENCH_SECONDS: budget per series
 * count and order, default 3; BENCH_SERIES: comma-separated series counts; BENCH_ORDERS:
 * sequential, shuffled or both).
 */

import { DetectorBank, DetectorResult } from '../processors/anomaly/detector-bank.js';
import { defaultDetectorConfig } from '../processors/anomaly/config.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const counts = (process.env.BENCH_SERIES ?? '10000,100000,1000000').split(',').map(Number);
const STEP_MS = 30 * 60_000;
const T0 = Date.UTC(2024, 0, 1);

/** A daily sine with a per-series offset and noise from a fixed table (no RNG in the loop). */
const NOISE = new Float64Array(4096);
let seed = 12345;
for (let i = 0; i < NOISE.length; i++) {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  NOISE[i] = seed / 2147483648 - 0.5;
}

type Order = 'sequential' | 'shuffled';

/** The visiting order of one round: identity, or a fixed Fisher-Yates permutation. */
function visitOrder(series: number, order: Order): Uint32Array {
  const perm = new Uint32Array(series);
  for (let i = 0; i < series; i++) perm[i] = i;
  if (order === 'shuffled') {
    let r = 987654321;
    for (let i = series - 1; i > 0; i--) {
      r = (r * 1103515245 + 12345) % 2147483648;
      const j = r % (i + 1);
      const t = perm[i] as number;
      perm[i] = perm[j] as number;
      perm[j] = t;
    }
  }
  return perm;
}

function run(series: number, order: Order): { series: number; order: Order; updates_per_sec: number; warmup_ms: number; measured_updates: number; seasonal_share: number } {
  const bank = new DetectorBank(defaultDetectorConfig, { initialSeries: series, maxSeries: series });
  for (let s = 0; s < series; s++) bank.allocate();
  const perm = visitOrder(series, order);
  const out = new DetectorResult();
  const roundsPerDay = Math.round(86_400_000 / STEP_MS);
  let round = 0;
  const feedRound = (): number => {
    const ts = T0 + round * STEP_MS;
    const phase = Math.sin((2 * Math.PI * (round % roundsPerDay)) / roundsPerDay);
    let seasonal = 0;
    for (let i = 0; i < series; i++) {
      const s = perm[i] as number;
      const v = 100 + (s & 63) + 10 * phase + (NOISE[(s + round * 7) & 4095] as number);
      bank.update(s, ts, v, out);
      if (out.mode === 'seasonal') seasonal++;
    }
    round++;
    return seasonal;
  };
  const warm = performance.now();
  while (round <= roundsPerDay) feedRound();
  const warmupMs = performance.now() - warm;
  let updates = 0;
  let seasonal = 0;
  const start = performance.now();
  const budget = seconds * 1000;
  let elapsed = 0;
  do {
    seasonal += feedRound();
    updates += series;
    elapsed = performance.now() - start;
  } while (elapsed < budget || updates < 4 * series);
  return { series, order, updates_per_sec: Math.round(updates / (elapsed / 1000)), warmup_ms: Math.round(warmupMs), measured_updates: updates, seasonal_share: seasonal / updates };
}

const orders = (process.env.BENCH_ORDERS ?? 'sequential,shuffled').split(',') as Order[];
const results = counts.flatMap((n) => orders.map((order) => run(n, order)));
const bank = new DetectorBank(defaultDetectorConfig, { initialSeries: 1, maxSeries: 1 });
process.stdout.write(
  `${JSON.stringify({
    bench: 'anomaly-detector',
    node: process.version,
    season_slots: bank.slots,
    novelty_blocks: defaultDetectorConfig.noveltyBlocks,
    bytes_per_series: bank.bytesPerSeries,
    kib_per_series: Number((bank.bytesPerSeries / 1024).toFixed(3)),
    results,
  })}\n`,
);
