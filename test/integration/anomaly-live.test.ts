import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { Histogram } from '@opentelemetry/api';
import { AnomalyStage, BandBoard, parseAnomalyStageConfig } from '../../processors/anomaly/index.js';
import { evaluateFactory } from '../../processors/evaluate/index.js';
import { defaultRules, ingestFactory, parseIngestConfig } from '../../processors/ingest/index.js';
import { runProcess } from '../../runtime/process.js';
import type { RunningProcess } from '../../runtime/process.js';
import { readToEnd } from '../../runtime/read-to-end.js';
import { processKafka } from '../../runtime/runner.js';
import { sleep } from '../../runtime/retry.js';
import { anomalySerde } from '../../schemas/anomalies.js';
import type { AnomalyEvent } from '../../schemas/anomalies.js';
import { collectMessages, kafkaClient } from '../../stack/clients/index.js';
import { eventually } from '../helpers/eventually.js';
import { stackEndpoints } from '../helpers/stack.js';

const BUCKET_MS = 2_000;
const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const ROUTE = '/api/checkout';
/** Buckets of normal traffic before the fault: more than the detector's minimum history. */
const BASELINE_BUCKETS = 22;
const MIN_HISTORY = 15;
const SPIKE_MS = 6_000;

/**
 * A latency fault injected into live traffic: OTel SDK → collector → otlp_metrics → ingest →
 * aiops.signals → evaluate with the anomaly stage → the anomalies topic, all on the real stack.
 */
describe('latency spike in live traffic → anomaly events', () => {
  const endpoints = stackEndpoints();
  const run = randomUUID().slice(0, 8);
  const service = `payments-${run}`;
  const signalsTopic = `test.signals.${run}`;
  const anomaliesTopic = `test.anomalies.${run}`;
  const processes: RunningProcess[] = [];
  const bands = new BandBoard([`*${service}*`], 10);
  let provider: MeterProvider;
  let duration: Histogram;
  let slow = false;
  let traffic: NodeJS.Timeout | undefined;
  let spikeStart = 0;
  let spikeEnd = 0;
  let requests = 0;

  beforeAll(async () => {
    provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'service.instance.id': `${service}-0` }),
      readers: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: `${endpoints.otlpHttp}/v1/metrics` }), exportIntervalMillis: 500 })],
    });
    duration = provider.getMeter('test').createHistogram('http.server.request.duration', { unit: 's', advice: { explicitBucketBoundaries: BOUNDS } });

    const brokers = endpoints.kafkaBrokers;
    const ingest = parseIngestConfig({ rules: defaultRules, bucketMs: BUCKET_MS, allowedLatenessMs: 500, idleTimeoutMs: 1_500, signalsTopic });
    const anomaly = parseAnomalyStageConfig({ topic: anomaliesTopic, detector: { minHistory: MIN_HISTORY } });
    processes.push(
      await runProcess({ name: `ingest-${run}`, kafka: processKafka(brokers, 'test-ingest'), inputTopic: 'otlp_metrics', outputTopics: [signalsTopic], factory: ingestFactory(ingest), idleTimeoutMs: 1_500, port: 0, fromBeginning: false }),
    );
    processes.push(
      await runProcess({
        name: `evaluate-${run}`,
        kafka: processKafka(brokers, 'test-evaluate'),
        inputTopic: signalsTopic,
        outputTopics: [anomaliesTopic],
        factory: evaluateFactory({ emitValues: false, consumers: () => [new AnomalyStage(anomaly, bands)] }),
        idleTimeoutMs: 1_500,
        port: 0,
      }),
    );
    await eventually('processors ready', async () => ((await Promise.all(processes.map((p) => p.runner.ready()))).every(Boolean) ? true : undefined));

    // Four requests every 100 ms; latencies spread over a few histogram buckets, 20x slower during the fault.
    let i = 0;
    traffic = setInterval(() => {
      for (let k = 0; k < 4; k++, i++) {
        const base = 0.02 + ((i * 37) % 100) / 2_500;
        duration.record(slow ? base * 20 : base, { 'http.route': ROUTE, 'http.request.method': 'POST', 'http.response.status_code': 200 });
        requests++;
      }
    }, 100);
  });

  afterAll(async () => {
    if (traffic) clearInterval(traffic);
    for (const p of processes) await p.stop();
    await provider?.shutdown();
  });

  it('opens an event on the p95 latency during the fault and resolves it after recovery, each seen once by a read_committed consumer', async () => {
    const kafka = kafkaClient(endpoints.kafkaBrokers);
    // Normal traffic until the detector has its minimum history of this service's p95.
    await eventually(
      'baseline history',
      async () => {
        const band = bands.get(`http{service.name="${service}",http.route="${ROUTE}"}|p95`);
        return band && Number.isFinite(band.upper) && requests > 0 ? band : undefined;
      },
      { timeoutMs: 60_000 },
    );
    await sleep(BASELINE_BUCKETS * BUCKET_MS);

    spikeStart = Date.now();
    slow = true;
    await sleep(SPIKE_MS);
    slow = false;
    spikeEnd = Date.now();

    const isOurs = (e: AnomalyEvent): boolean => e.context.service === service && e.metric === 'http.p95';
    await collectMessages(kafka, {
      topic: anomaliesTopic,
      count: 1,
      timeoutMs: 110_000,
      filter: (m) => m.value !== null && isOurs(anomalySerde.deserialize(m.value)) && anomalySerde.deserialize(m.value).state === 'RESOLVED',
    });

    // Everything committed on the topic, read from the start by a read_committed reader.
    const events: AnomalyEvent[] = [];
    await readToEnd(kafka, anomaliesTopic, (_partition, messages) => {
      for (const m of messages) if (m.value) events.push(anomalySerde.deserialize(m.value));
    });
    const p95 = events.filter(isOurs);
    const opens = p95.filter((e) => e.state === 'OPEN');
    const resolved = p95.filter((e) => e.state === 'RESOLVED');
    expect(opens, JSON.stringify(p95.map((e) => [e.state, e.timestamp, e.score]))).toHaveLength(1);
    expect(resolved).toHaveLength(1);
    const [open, end] = [opens[0] as AnomalyEvent, resolved[0] as AnomalyEvent];
    expect(end.id).toBe(open.id);
    // The event opened on a bucket that overlaps the fault, with the value far above its band.
    expect(open.timestamp + BUCKET_MS).toBeGreaterThan(spikeStart);
    expect(open.timestamp).toBeLessThan(spikeEnd);
    expect(open.actual_value).toBeGreaterThan(open.upper);
    expect(open.actual_value).toBeGreaterThan(0.25);
    expect(open.expected_value).toBeLessThan(0.1);
    expect(end.timestamp).toBeGreaterThanOrEqual(spikeEnd - BUCKET_MS);
    expect(end.started_at).toBe(open.timestamp);
    // Each transition once: no (id, state, timestamp) twice.
    const keys = p95.map((e) => `${e.id}/${e.state}/${e.timestamp}`);
    expect(new Set(keys).size).toBe(keys.length);
  }, 240_000);
});
