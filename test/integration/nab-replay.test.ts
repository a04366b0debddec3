import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnomalyStage, parseAnomalyStageConfig } from '../../processors/anomaly/index.js';
import { backtest } from '../../processors/anomaly/backtest.js';
import type { BacktestResult } from '../../processors/anomaly/backtest.js';
import { defaultNabDir, loadNabCorpus } from '../../processors/anomaly/nab/index.js';
import type { CorpusScore, NabFile } from '../../processors/anomaly/nab/index.js';
import { evaluateFactory } from '../../processors/evaluate/index.js';
import { ingestFactory, parseIngestConfig } from '../../processors/ingest/index.js';
import { replayNab, replayTopic, scoreReplay } from '../../producers/replay/index.js';
import type { ReplayNabResult, ReplayScore } from '../../producers/replay/index.js';
import { runProcess } from '../../runtime/process.js';
import type { RunningProcess } from '../../runtime/process.js';
import { processKafka } from '../../runtime/runner.js';
import { collectMessages, createTopics, kafkaClient, readTopicToEnd } from '../../stack/clients/index.js';
import { eventually } from '../helpers/eventually.js';
import { stackEndpoints } from '../helpers/stack.js';

const YEAR_MS = 365 * 86_400_000;
/**
 * Keeps each ingest transaction's signals in one record batch. Evaluate takes a source's
 * watermark from PARTIAL records too (each carries the watermark after its close), so when a
 * fetch of evaluate ends in the middle of the partials of one close, the bucket closes at the end
 * of that fetch and its remaining partials are dropped as late (`late_partials`). Fetches end only
 * between record batches, and the runner writes a transaction's outputs as produce requests of at
 * most 512 KB (one record batch each): with ingest's defaults (4 MB fetches, a commit per 100 ms)
 * a replay at 'max' makes transactions of several MB, and one run lost 46 of 137,366 points.
 * Replay batches of REPLAY_BATCH records (about 5 points each, ~370 bytes of signals per point),
 * ingest fetches of one such batch and a commit per batch keep every transaction well under
 * 512 KB. The cause is in evaluate; see the replay report.
 */
const REPLAY_BATCH = 100;
const INGEST_FETCH_BYTES = 16 * 1024;

function figures(s: CorpusScore): Record<string, number> {
  return {
    standard: Number((s.scores.standard as number).toFixed(2)),
    low_FP: Number((s.scores.reward_low_FP_rate as number).toFixed(2)),
    low_FN: Number((s.scores.reward_low_FN_rate as number).toFixed(2)),
    windows: s.windows,
    detected: s.detectedWindows,
    detections: s.detections,
    false_positives: s.falsePositives,
  };
}

/** Rows whose pipeline score is not the backtest's, per file (only files with any). */
function differences(pipeline: ReplayScore, inProcess: BacktestResult): Record<string, { rows: number; maxAbs: number; detectionsFlipped: number }> {
  const out: Record<string, { rows: number; maxAbs: number; detectionsFlipped: number }> = {};
  for (const [i, f] of pipeline.files.entries()) {
    const want = inProcess.files[i]?.scores as Float64Array;
    let rows = 0;
    let maxAbs = 0;
    let detectionsFlipped = 0;
    for (let r = 0; r < f.scores.length; r++) {
      const x = f.scores[r] as number;
      const y = want[r] as number;
      if (Object.is(x, y)) continue;
      rows++;
      maxAbs = Math.max(maxAbs, Math.abs(x - y));
      if (x >= 0.5 !== y >= 0.5) detectionsFlipped++;
    }
    if (rows > 0) out[f.file.name] = { rows, maxAbs, detectionsFlipped };
  }
  return out;
}

/**
 * The whole NAB corpus through the real pipeline: the CSV rows written as OTLP metrics to a
 * topic (every file moved by whole days onto one start day, merged by time), ingest with a gauge
 * rule per file and 1 s buckets (each row its own bucket), evaluate with the anomaly stage
 * writing a measurement per point; the measurements scored with the NAB scorer must give the
 * figures of the in-process backtest.
 */
describe('NAB corpus replayed through Kafka, ingest and evaluate', () => {
  const endpoints = stackEndpoints();
  const run = randomUUID().slice(0, 8);
  const input = `test.nab-otlp.${run}`;
  const signalsTopic = `test.nab-signals.${run}`;
  const anomaliesTopic = `test.nab-anomalies.${run}`;
  const measurementsTopic = `test.nab-measurements.${run}`;
  const copyTopic = `test.nab-otlp-copy.${run}`;
  const dir = defaultNabDir();
  const processes: RunningProcess[] = [];
  let corpus: NabFile[] = [];
  let replay: ReplayNabResult;
  let replayStartedAt = 0;

  beforeAll(async () => {
    corpus = loadNabCorpus(dir);
    const kafka = kafkaClient(endpoints.kafkaBrokers);
    // Event times from 2011 on: nothing may expire by time.
    await createTopics(kafka, [input, signalsTopic, anomaliesTopic, measurementsTopic], 1, { 'retention.ms': '-1' });
    const brokers = endpoints.kafkaBrokers;
    const ingest = parseIngestConfig({
      rules: [{ name: 'nab', metric: 'nab.value', kind: 'gauge', groupBy: ['nab.file'] }],
      bucketMs: 1_000,
      allowedLatenessMs: 0,
      idleTimeoutMs: 1_500,
      signalsTopic,
    });
    const anomaly = parseAnomalyStageConfig({ metrics: ['mean'], bands: ['nab*'], staleSeriesMs: YEAR_MS, topic: anomaliesTopic, measurementsTopic });
    // Small ingest transactions (see REPLAY_BATCH): every close's partials and its watermark then
    // travel in one record batch, which evaluate never sees split across two fetches.
    processes.push(
      await runProcess({
        name: `nab-ingest-${run}`,
        kafka: processKafka(brokers, 'test-nab-ingest'),
        inputTopic: input,
        outputTopics: [signalsTopic],
        factory: ingestFactory(ingest),
        idleTimeoutMs: 1_500,
        port: 0,
        maxBytesPerPartition: INGEST_FETCH_BYTES,
        commitIntervalMs: 0,
      }),
    );
    processes.push(
      await runProcess({
        name: `nab-evaluate-${run}`,
        kafka: processKafka(brokers, 'test-nab-evaluate'),
        inputTopic: signalsTopic,
        outputTopics: [anomaliesTopic, measurementsTopic],
        factory: evaluateFactory({ emitValues: false, consumers: () => [new AnomalyStage(anomaly)] }),
        idleTimeoutMs: 1_500,
        port: 0,
      }),
    );
    await eventually('processors ready', async () => ((await Promise.all(processes.map((p) => p.runner.ready()))).every(Boolean) ? true : undefined));
  }, 120_000);

  afterAll(async () => {
    for (const p of processes) await p.stop();
  });

  it('scores the replayed corpus exactly as the in-process backtest does', async () => {
    const kafka = kafkaClient(endpoints.kafkaBrokers);
    replayStartedAt = Date.now();
    replay = await replayNab(kafka, { topic: input, source: { nabDir: dir }, speedup: 'max', batchRecords: REPLAY_BATCH });
    expect(replay.rows).toBe(137_366);
    expect(replay.files).toHaveLength(41);
    for (const f of replay.files) expect(Number.isInteger(f.shiftMs / 86_400_000)).toBe(true);
    expect(new Set(replay.files.map((f) => Math.floor(f.firstMs / 86_400_000))).size).toBe(1);
    // Every row is a finite number, so every row comes back: nudged duplicates collapse nothing.
    expect(replay.plan.expectedMeasurements).toBe(137_366);

    const arrived = await collectMessages(kafka, { topic: measurementsTopic, count: replay.plan.expectedMeasurements, timeoutMs: 300_000 });
    const endToEndMs = Date.now() - replayStartedAt;
    expect(arrived).toHaveLength(replay.plan.expectedMeasurements);

    const [ingestStats, evaluateStats] = await Promise.all(processes.map((p) => p.runner.stats()));
    const scored = await scoreReplay(kafka, measurementsTopic, { files: corpus, timing: replay.plan, threshold: 0.5 });
    const reference = backtest(corpus, { threshold: 0.5 });
    const diff = differences(scored, reference);
    process.stdout.write(
      `${JSON.stringify({
        nab_replay: {
          backtest: figures(reference.atThreshold),
          pipeline: figures(scored.corpus),
          measurements: scored.measurements,
          matched: scored.matched,
          missing: scored.missing,
          unexpected: scored.unexpected,
          duplicates: scored.duplicates,
          nudged: replay.nudged,
          files_with_other_scores: diff,
          ingest_late_points: ingestStats?.counters.late_points ?? 0,
          evaluate_late_partials: evaluateStats?.counters.late_partials ?? 0,
          ingest_commits: ingestStats?.counters.commits ?? 0,
          records_written: replay.records,
          write_ms: replay.elapsedMs,
          rows_per_s_written: Math.round(replay.rowsPerSecond),
          records_per_s_written: Math.round(replay.recordsPerSecond),
          end_to_end_ms: endToEndMs,
          rows_per_s_end_to_end: Math.round(replay.rows / (endToEndMs / 1000)),
        },
      })}\n`,
    );

    expect(ingestStats?.counters.late_points ?? 0).toBe(0);
    expect(evaluateStats?.counters.late_partials ?? 0).toBe(0);
    expect(scored).toMatchObject({ measurements: 137_366, matched: 137_366, missing: 0, unexpected: 0, duplicates: 0 });
    const a = reference.atThreshold;
    const b = scored.corpus;
    expect(b.scores.standard).toBeCloseTo(a.scores.standard as number, 2);
    expect(b.scores.reward_low_FP_rate).toBeCloseTo(a.scores.reward_low_FP_rate as number, 2);
    expect(b.scores.reward_low_FN_rate).toBeCloseTo(a.scores.reward_low_FN_rate as number, 2);
    expect(Math.abs((b.scores.standard as number) - (a.scores.standard as number))).toBeLessThanOrEqual(0.01);
    expect(b.windows).toBe(a.windows);
    expect(b.detectedWindows).toBe(a.detectedWindows);
    expect(b.falsePositives).toBe(a.falsePositives);
    // Only files whose duplicate timestamps were nudged may score differently at all.
    const nudgedFiles = new Set(replay.files.filter((f) => f.nudged > 0).map((f) => f.name));
    for (const name of Object.keys(diff)) expect(nudgedFiles.has(name)).toBe(true);
  }, 420_000);

  it('copies the recorded OTLP topic record for record into another topic', async () => {
    const kafka = kafkaClient(endpoints.kafkaBrokers);
    const copy = await replayTopic(kafka, { from: input, to: copyTopic, speedup: 'max', timeoutMs: 120_000 });
    expect(copy.records).toBe(replay.records);
    const [from, to] = await Promise.all([readTopicToEnd(kafka, input), readTopicToEnd(kafka, copyTopic)]);
    expect(to.map((m) => [m.partition, String(m.key)])).toEqual(from.map((m) => [m.partition, String(m.key)]));
    expect(to.every((m, i) => m.value?.equals(from[i]?.value as Buffer))).toBe(true);
    process.stdout.write(`${JSON.stringify({ nab_replay_topic: { records: copy.records, ms: copy.elapsedMs, records_per_s: Math.round(copy.recordsPerSecond) } })}\n`);
  }, 180_000);
});
