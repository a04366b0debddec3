import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateFactory } from '../../processors/evaluate/index.js';
import { defaultRules, ingestFactory, parseIngestConfig } from '../../processors/ingest/index.js';
import { SloStage, countAtOrBelow, parseSloSources, sloIngestRules } from '../../processors/slo/index.js';
import type { SloSpec } from '../../processors/slo/index.js';
import { HttpWorkload, encodeWorkloadBatch } from '../../runtime/otlp/index.js';
import { runProcess } from '../../runtime/process.js';
import type { RunningProcess } from '../../runtime/process.js';
import { processKafka } from '../../runtime/runner.js';
import { sloEventSerde } from '../../schemas/slo.js';
import type { SloEvent } from '../../schemas/slo.js';
import { collectMessages, createTopics, kafkaClient } from '../../stack/clients/index.js';
import { eventually } from '../helpers/eventually.js';
import { stackEndpoints } from '../helpers/stack.js';
import { isSloHeartbeat } from '../../processors/evaluate/heartbeat.js';

const B = 10_000;
const HOUR = 3_600_000;
const START = Date.UTC(2026, 9, 1);
/** Seven hours of clean traffic fill every page window (6h is the longest) before the faults. */
const CLEAN = (7 * HOUR) / B;
const ERROR_AT = CLEAN;
const ERROR_INTERVALS = 7;
const LATENCY_AT = CLEAN + 90; // 15 minutes later
/** A 99% SLO pages once 14.4% of the hour was slow: 518.4 s of slow requests. */
const LATENCY_INTERVALS = 60;
const END = LATENCY_AT + LATENCY_INTERVALS + 45;

interface Bucket {
  startMs: number;
  good: number;
  total: number;
}

/**
 * The SRE Workbook's page condition evaluated by brute force on exact per-bucket counts: the
 * bucket ends at which, for a 30-day 99.9% (or 99%) SLO, 1h and 5m both burn at 14.4 or 6h and
 * 30m both at 6. Windows hold the buckets that start in [end - W, end).
 */
function pageHolds(buckets: readonly Bucket[], endMs: number, objective: number): boolean {
  const burn = (w: number): number => {
    let bad = 0;
    let total = 0;
    for (const b of buckets) {
      if (b.startMs >= endMs - w && b.startMs < endMs) {
        bad += b.total - b.good;
        total += b.total;
      }
    }
    return total === 0 ? 0 : bad / total / Number((1 - objective).toPrecision(12));
  };
  return (burn(HOUR) >= 14.4 && burn(300_000) >= 14.4) || (burn(6 * HOUR) >= 6 && burn(1_800_000) >= 6);
}

function add(buckets: Bucket[], startMs: number, good: number, total: number): void {
  let b = buckets.find((x) => x.startMs === startMs);
  if (!b) buckets.push((b = { startMs, good: 0, total: 0 }));
  b.good += good;
  b.total += total;
}

function expectedTransitions(buckets: readonly Bucket[], objective: number, from: number): { firing: number; resolved: number } {
  let firing = Number.NaN;
  for (const b of [...buckets].sort((x, y) => x.startMs - y.startMs)) {
    const end = b.startMs + B;
    if (end <= from) continue;
    const holds = pageHolds(buckets, end, objective);
    if (Number.isNaN(firing) && holds) firing = end;
    else if (!Number.isNaN(firing) && !holds) return { firing, resolved: end };
  }
  return { firing, resolved: Number.NaN };
}

/**
 * SLOs on the real broker with data time fully controlled: a synthetic service's OTLP metrics,
 * seven hours of clean traffic and then an error burst and a latency burst, written to a topic and
 * processed by ingest and evaluate with the SLO stage. The page alerts must fire and resolve at
 * exactly the bucket the Workbook's math allows, computed here by brute force from the workload's
 * ground truth; an OpenSLO and a Sloth file describing the same SLO must behave identically.
 */
describe('SLO page alerts on replayed traffic (real Kafka, ingest, evaluate)', () => {
  const endpoints = stackEndpoints();
  const run = randomUUID().slice(0, 8);
  const input = `test.slo-otlp.${run}`;
  const signalsTopic = `test.slo-signals.${run}`;
  const sloTopic = `test.slo.${run}`;
  const processes: RunningProcess[] = [];
  const workload = new HttpWorkload({ services: 1, instancesPerService: 2, routesPerService: 2, startTimeMs: START, intervalMs: B, temporality: 'cumulative', seed: 5, errorRate: 0.0001, clientErrorRate: 0.02 });
  const service = workload.services[0] as string;
  const availability: Bucket[] = [];
  const latency: Bucket[] = [];
  let slos: SloSpec[] = [];

  beforeAll(async () => {
    slos = parseSloSources([
      {
        file: 'availability.openslo.yaml',
        text: `apiVersion: openslo/v1
kind: SLO
metadata: { name: ${service}-availability-openslo }
spec:
  service: ${service}
  description: 99.9% of requests succeed
  indicator:
    metadata: { name: ${service}-5xx }
    spec:
      ratioMetric:
        counter: true
        bad: { metricSource: { type: Prometheus, spec: { query: 'sum(rate(http_server_request_duration_seconds_count{job="${service}",http_response_status_code=~"5.."}[5m]))' } } }
        total: { metricSource: { type: Prometheus, spec: { query: 'sum(rate(http_server_request_duration_seconds_count{job="${service}"}[5m]))' } } }
  timeWindow: [{ duration: 30d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ target: 0.999 }]
`,
      },
      {
        file: 'slos.sloth.yaml',
        text: `version: prometheus/v1
service: ${service}
slos:
  - name: availability-sloth
    objective: 99.9
    description: 99.9% of requests succeed
    sli:
      events:
        error_query: sum(rate(http_server_request_duration_seconds_count{job="${service}",http_response_status_code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_server_request_duration_seconds_count{job="${service}"}[{{.window}}]))
  - name: latency
    objective: 99
    description: 99% of requests within 1 s
    sli:
      events:
        error_query: sum(rate(http_server_request_duration_seconds_count{job="${service}"}[{{.window}}])) - sum(rate(http_server_request_duration_seconds_bucket{job="${service}",le="1"}[{{.window}}]))
        total_query: sum(rate(http_server_request_duration_seconds_count{job="${service}"}[{{.window}}]))
`,
      },
    ]);
    const kafka = kafkaClient(endpoints.kafkaBrokers);
    await createTopics(kafka, [input], 1, { 'retention.ms': '-1' });
    const producer = kafka.producer();
    await producer.connect();
    let batch = [];
    for (let k = 0; k < END; k++) {
      if (k === ERROR_AT) workload.setErrorRate(service, '*', 1);
      if (k === ERROR_AT + ERROR_INTERVALS) workload.setErrorRate(service, '*', 0.0001);
      if (k === LATENCY_AT) workload.setLatencyFactor(service, '*', 1000);
      if (k === LATENCY_AT + LATENCY_INTERVALS) workload.setLatencyFactor(service, '*', 1);
      const requests = workload.next();
      batch.push(...encodeWorkloadBatch(requests));
      // Ground truth per bucket: each instance's interval lands in the bucket of its points' time.
      const timeOf = new Map<unknown, number>();
      for (const req of requests) {
        for (const rm of req.resourceMetrics) {
          const point = rm.scopeMetrics[0]?.metrics[0]?.points[0];
          if (point) timeOf.set(rm.resource['service.instance.id'], point.timeMs);
        }
      }
      for (const r of workload.lastTruth().routes) {
        const startMs = Math.floor((timeOf.get(r.instanceId) as number) / B) * B;
        add(availability, startMs, r.requests - r.errors, r.requests);
        add(latency, startMs, countAtOrBelow(1, workload.bounds, r.bucketCounts), r.requests);
      }
      if (batch.length >= 100) {
        await producer.send({ topic: input, messages: batch });
        batch = [];
      }
    }
    if (batch.length > 0) await producer.send({ topic: input, messages: batch });
    await producer.disconnect();

    const brokers = endpoints.kafkaBrokers;
    const config = parseIngestConfig({ rules: [...defaultRules, ...sloIngestRules(slos)], bucketMs: B, allowedLatenessMs: 0, idleTimeoutMs: 1_500, signalsTopic });
    processes.push(await runProcess({ name: `slo-ingest-${run}`, kafka: processKafka(brokers, 'test-slo-ingest'), inputTopic: input, outputTopics: [signalsTopic], factory: ingestFactory(config), idleTimeoutMs: 1_500, port: 0 }));
    processes.push(
      await runProcess({
        name: `slo-evaluate-${run}`,
        kafka: processKafka(brokers, 'test-slo-evaluate'),
        inputTopic: signalsTopic,
        outputTopics: [sloTopic],
        factory: evaluateFactory({ emitValues: false, consumers: () => [new SloStage(slos, { topic: sloTopic })] }),
        idleTimeoutMs: 1_500,
        port: 0,
      }),
    );
    await eventually('processors ready', async () => ((await Promise.all(processes.map((p) => p.runner.ready()))).every(Boolean) ? true : undefined));
  }, 240_000);

  afterAll(async () => {
    for (const p of processes) await p.stop();
  });

  it('fires and resolves the page alerts exactly when the math allows, the same for OpenSLO and Sloth', async () => {
    const kafka = kafkaClient(endpoints.kafkaBrokers);
    // Transitions only: the FIRING repeated every 5 minutes of data time while a tier fires is a heartbeat for the sinks.
    const isPage = (e: SloEvent): boolean => e.tier === 'page' && !isSloHeartbeat(e);
    const messages = await collectMessages(kafka, {
      topic: sloTopic,
      count: 6, // FIRING and RESOLVED of the page tier of each of the three SLOs
      timeoutMs: 180_000,
      filter: (m) => m.value !== null && isPage(sloEventSerde.deserialize(m.value)),
    });
    const events = messages.map((m) => sloEventSerde.deserialize(m.value as Buffer));
    const of = (slo: string): SloEvent[] => events.filter((e) => e.slo === slo).sort((a, b) => a.timestamp - b.timestamp);

    const openslo = of(`${service}-availability-openslo`);
    const sloth = of(`${service}-availability-sloth`);
    const lat = of(`${service}-latency`);
    // An interval's requests land in the bucket its end falls in: the faults start one bucket later.
    const injectedMs = START + (ERROR_AT + 1) * B;
    const slowFromMs = START + (LATENCY_AT + 1) * B;
    const want = expectedTransitions(availability, 0.999, injectedMs);
    expect(openslo.map((e) => [e.state, e.timestamp])).toEqual([
      ['FIRING', want.firing],
      ['RESOLVED', want.resolved],
    ]);
    // The Workbook's 51.84 s of full errors (1h at 14.4x of a 0.1% budget), to the bucket.
    expect(want.firing - injectedMs).toBeGreaterThanOrEqual(51_840 - 2 * B);
    expect(want.firing - injectedMs).toBeLessThanOrEqual(51_840 + 2 * B);
    expect((openslo[0] as SloEvent).long_window_ms).toBe(HOUR);
    // Same SLO, other format: identical behaviour.
    const strip = (e: SloEvent) => ({ ...e, id: '', slo: '', labels: {}, description: '' });
    expect(sloth.map(strip)).toEqual(openslo.map(strip));

    const wantLatency = expectedTransitions(latency, 0.99, slowFromMs);
    expect(lat.map((e) => [e.state, e.timestamp])).toEqual([
      ['FIRING', wantLatency.firing],
      ['RESOLVED', wantLatency.resolved],
    ]);
    // 518.4 s of slow requests for steady traffic; the workload's traffic varies a little per bucket.
    expect(wantLatency.firing - slowFromMs).toBeGreaterThanOrEqual(518_400 - 2 * B);
    expect(wantLatency.firing - slowFromMs).toBeLessThanOrEqual(518_400 + 2 * B);
    // Only the faults page: no page event before the error burst.
    expect(events.every((e) => e.timestamp > injectedMs)).toBe(true);
    process.stdout.write(
      `${JSON.stringify({
        slo_replay: {
          availability_fire_after_injection_s: (want.firing - injectedMs) / 1000,
          availability_resolve_after_burst_end_s: (want.resolved - (injectedMs + ERROR_INTERVALS * B)) / 1000,
          latency_fire_after_injection_s: (wantLatency.firing - slowFromMs) / 1000,
        },
      })}\n`,
    );
  }, 240_000);
});
