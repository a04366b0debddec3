import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationType, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { Histogram } from '@opentelemetry/api';
import { evaluateFactory } from '../../processors/evaluate/index.js';
import { defaultRules, ingestFactory, parseIngestConfig } from '../../processors/ingest/index.js';
import { EXP_BOUNDS } from '../../processors/ingest/exponential.js';
import { SloStage, parseSloText, sloIngestRules, sloRulesYaml } from '../../processors/slo/index.js';
import type { SloSpec } from '../../processors/slo/index.js';
import { runProcess } from '../../runtime/process.js';
import type { RunningProcess } from '../../runtime/process.js';
import { processKafka } from '../../runtime/runner.js';
import { signalValueSerde } from '../../schemas/index.js';
import { sloEventSerde } from '../../schemas/slo.js';
import { collectMessages, externalEndpoints, kafkaClient } from '../../stack/clients/index.js';
import { loadStackConfig } from '../../stack/index.js';
import { eventually } from '../helpers/eventually.js';
import { startPrometheus } from '../helpers/prometheus.js';
import type { TestPrometheus } from '../helpers/prometheus.js';
import { stackEndpoints } from '../helpers/stack.js';

/**
 * Latency recorded by an OpenTelemetry SDK configured for base-2 exponential histograms, through
 * the collector and Kafka into ingest and evaluate: the signal has p95 from the exponential
 * buckets, and a latency SLO written in Sloth's raw form over the native histogram
 * (`1 - histogram_fraction(0, 0.25, ...)`) pages on slow requests in the stream, as it does with
 * explicit buckets (slo-live.test.ts), and, through the exported rules, in a real Prometheus that
 * scrapes the collector's Prometheus exporter with native histograms on, as the stack's does.
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
  const local = externalEndpoints() === undefined;
  const dir = mkdtempSync(join(tmpdir(), 'slo-expo-'));
  let prometheus: TestPrometheus | undefined;

  beforeAll(async () => {
    slos = parseSloText(
      `version: prometheus/v1
service: ${service}
slos:
  - name: latency
    objective: 99
    sli:
      raw:
        error_ratio_query: 1 - histogram_fraction(0, 0.25, sum(rate(http_server_request_duration_seconds{job="${service}"}[{{.window}}])))
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
    if (local) {
      // The stack's Prometheus package and flags, scraping the shared collector's Prometheus
      // exporter (which serves the exponential histogram as a native one) with the exported rules.
      const config = loadStackConfig();
      prometheus = await startPrometheus(
        dir,
        `global: { scrape_interval: 1s, evaluation_interval: 1s }\nrule_files: [rules.yml]\nscrape_configs:\n  - job_name: otel-collector\n    honor_labels: true\n    static_configs: [{ targets: ['${config.host}:${config.ports.otelcol.prometheus}'] }]\n`,
        { 'rules.yml': sloRulesYaml(slos) },
        ['--enable-feature=native-histograms'],
      );
    }
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
    prometheus?.process.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
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
    if (prometheus) {
      const p = prometheus;
      // Prometheus holds the latency as one native histogram series: no classic _bucket series.
      const selector = `http_server_request_duration_seconds{job="${service}"}`;
      expect((await p.query(`histogram_count(${selector})`)).length).toBe(1);
      expect(await p.query(`http_server_request_duration_seconds_bucket{job="${service}"}`)).toEqual([]);
      const alert = await eventually(
        'Prometheus page',
        async () => (await p.alerts()).find((a) => a.labels.alertname === 'ExpoLatency' && a.labels.sloth_severity === 'page' && a.labels.aiops_slo === `${service}-latency` && a.state === 'firing'),
        { timeoutMs: 90_000, intervalMs: 1_000 },
      );
      expect(alert.labels).toMatchObject({ sloth_service: service, sloth_slo: 'latency' });
    }
  }, 300_000);
});
