import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationType, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { Histogram } from '@opentelemetry/api';
import { evaluateFactory } from '../../processors/evaluate/index.js';
import { defaultRules, ingestFactory, parseIngestConfig } from '../../processors/ingest/index.js';
import { EXP_BOUNDS } from '../../processors/ingest/exponential.js';
import { SloStage, parseSloText, sloIngestRules } from '../../processors/slo/index.js';
import type { SloSpec } from '../../processors/slo/index.js';
import { runProcess } from '../../runtime/process.js';
import type { RunningProcess } from '../../runtime/process.js';
import { processKafka } from '../../runtime/runner.js';
import { signalValueSerde } from '../../schemas/index.js';
import { sloEventSerde } from '../../schemas/slo.js';
import { collectMessages, kafkaClient } from '../../stack/clients/index.js';
import { eventually } from '../helpers/eventually.js';
import { stackEndpoints } from '../helpers/stack.js';

/**
 * Latency recorded by an OpenTelemetry SDK configured for base-2 exponential histograms, through
 * the collector and Kafka into ingest and evaluate: the signal has p95 from the exponential
 * buckets, and a latency SLO written against the Prometheus names pages on slow requests, as it
 * does with explicit buckets (slo-live.test.ts).
 */
describe('exponential-histogram latency through the collector', () => {
  const endpoints = stackEndpoints();
  const run = randomUUID().slice(0, 8);
  const service = `expo-${run}`;
  const signalsTopic = `test.slo-expo-signals.${run}`;
  const valuesTopic = `test.slo-expo-values.${run}`;
  const sloTopic = `test.slo-expo.${run}`;
  const processes: RunningProcess[] = [];
  let provider: MeterProvider;
  let duration: Histogram;
  let slow = false;
  let traffic: NodeJS.Timeout | undefined;
  let slos: SloSpec[] = [];

  beforeAll(async () => {
    slos = parseSloText(
      `version: prometheus/v1
service: ${service}
slos:
  - name: latency
    objective: 99
    sli:
      events:
        error_query: sum(rate(http_server_request_duration_seconds_count{job="${service}"}[{{.window}}])) - sum(rate(http_server_request_duration_seconds_bucket{job="${service}",le="0.25"}[{{.window}}]))
        total_query: sum(rate(http_server_request_duration_seconds_count{job="${service}"}[{{.window}}]))
    alerting: { name: ExpoLatency }
`,
      'expo.sloth.yaml',
    );
    provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'service.instance.id': `${service}-0` }),
      views: [{ instrumentName: 'http.server.request.duration', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
      readers: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: `${endpoints.otlpHttp}/v1/metrics` }), exportIntervalMillis: 1_000 })],
    });
    duration = provider.getMeter('test').createHistogram('http.server.request.duration', { unit: 's' });
    const brokers = endpoints.kafkaBrokers;
    const ingest = parseIngestConfig({ rules: [...defaultRules, ...sloIngestRules(slos)], bucketMs: 2_000, allowedLatenessMs: 1_000, idleTimeoutMs: 1_500, signalsTopic });
    processes.push(await runProcess({ name: `slo-expo-ingest-${run}`, kafka: processKafka(brokers, 'test-ingest'), inputTopic: 'otlp_metrics', outputTopics: [signalsTopic], factory: ingestFactory(ingest), idleTimeoutMs: 1_500, port: 0, fromBeginning: false }));
    processes.push(
      await runProcess({
        name: `slo-expo-evaluate-${run}`,
        kafka: processKafka(brokers, 'test-evaluate'),
        inputTopic: signalsTopic,
        outputTopics: [sloTopic, valuesTopic],
        factory: evaluateFactory({ emitValues: true, valuesTopic, consumers: () => [new SloStage(slos, { topic: sloTopic })] }),
        idleTimeoutMs: 1_500,
        port: 0,
      }),
    );
    await eventually('processors ready', async () => ((await Promise.all(processes.map((p) => p.runner.ready()))).every(Boolean) ? true : undefined));
    // 200 requests a second, 20-60 ms evenly (p95 58 ms); in the slow phase 0.6-1.2 s.
    let i = 0;
    traffic = setInterval(() => {
      for (let k = 0; k < 20; k++, i++) {
        const base = 0.02 + ((i * 37) % 100) / 2_500;
        duration.record(slow ? 0.6 + base * 10 : base, { 'http.route': '/api/items', 'http.request.method': 'GET', 'http.response.status_code': 200 });
      }
    }, 100);
  }, 120_000);

  afterAll(async () => {
    if (traffic) clearInterval(traffic);
    for (const p of processes) await p.stop();
    await provider?.shutdown();
  });

  it('gives p95 from the exponential buckets, and pages the latency SLO on slow requests', async () => {
    const values = await collectMessages(kafkaClient(endpoints.kafkaBrokers), {
      topic: valuesTopic,
      count: 3,
      timeoutMs: 60_000,
      filter: (x) => {
        if (x.value === null) return false;
        const v = signalValueSerde.deserialize(x.value);
        return v.rule === 'http' && v.signal.includes(service) && v.count > 100;
      },
    });
    for (const m of values) {
      const v = signalValueSerde.deserialize(m.value as Buffer);
      expect(v.bounds).toEqual([...EXP_BOUNDS]);
      // True p95 58 ms; the common-scale buckets are 19% wide.
      expect(v.p95).toBeGreaterThan(0.058 / 1.19);
      expect(v.p95).toBeLessThan(0.058 * 1.19);
    }
    const injected = Date.now();
    slow = true;
    const [m] = await collectMessages(kafkaClient(endpoints.kafkaBrokers), {
      topic: sloTopic,
      count: 1,
      timeoutMs: 90_000,
      filter: (x) => {
        if (x.value === null) return false;
        const e = sloEventSerde.deserialize(x.value);
        return e.slo === `${service}-latency` && e.tier === 'page' && e.state === 'FIRING';
      },
    });
    const event = sloEventSerde.deserialize(m?.value as Buffer);
    expect(event.timestamp - injected).toBeLessThanOrEqual(15_000);
    expect(event.long_burn_rate).toBeGreaterThanOrEqual(event.factor);
  }, 240_000);
});
