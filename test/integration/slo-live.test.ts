import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { Histogram } from '@opentelemetry/api';
import { evaluateFactory } from '../../processors/evaluate/index.js';
import { defaultRules, ingestFactory, parseIngestConfig } from '../../processors/ingest/index.js';
import { SloStage, parseSloText, sloIngestRules, sloRulesYaml } from '../../processors/slo/index.js';
import type { SloSpec } from '../../processors/slo/index.js';
import { runProcess } from '../../runtime/process.js';
import type { RunningProcess } from '../../runtime/process.js';
import { processKafka } from '../../runtime/runner.js';
import { sloEventSerde } from '../../schemas/slo.js';
import type { SloEvent } from '../../schemas/slo.js';
import { collectMessages, externalEndpoints, kafkaClient } from '../../stack/clients/index.js';
import { prometheusRulesDir } from '../../stack/components/prometheus.js';
import { loadStackConfig } from '../../stack/index.js';
import { eventually } from '../helpers/eventually.js';
import { stackEndpoints } from '../helpers/stack.js';

const BUCKET_MS = 2_000;
const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

interface PromAlert {
  labels: Record<string, string>;
  state: string;
  activeAt: string;
}

/**
 * SLOs on live traffic: the OTel SDK → collector → Kafka → ingest → evaluate with the SLO stage,
 * and the same SLOs' exported rules loaded into the real Prometheus, which scrapes the same
 * traffic from the collector. A burst of errors, then of slow requests, must page in both; the
 * delays from the fault to each alert are recorded side by side.
 */
describe('SLO alerts on live traffic, ours and Prometheus’ exported rules', () => {
  const endpoints = stackEndpoints();
  const local = externalEndpoints() === undefined;
  const run = randomUUID().slice(0, 8);
  const service = `web-${run}`;
  const signalsTopic = `test.slo-live-signals.${run}`;
  const sloTopic = `test.slo-live.${run}`;
  const rulesFile = join(prometheusRulesDir(loadStackConfig()), `slo-test-${run}.yml`);
  const processes: RunningProcess[] = [];
  let provider: MeterProvider;
  let duration: Histogram;
  let mode: 'clean' | 'errors' | 'slow' = 'clean';
  let traffic: NodeJS.Timeout | undefined;
  let slos: SloSpec[] = [];

  async function reloadPrometheus(): Promise<void> {
    const response = await fetch(`${endpoints.prometheus}/-/reload`, { method: 'POST' });
    expect(response.status).toBe(200);
  }

  beforeAll(async () => {
    slos = parseSloText(
      `version: prometheus/v1
service: ${service}
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_server_request_duration_seconds_count{job="${service}",http_response_status_code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_server_request_duration_seconds_count{job="${service}"}[{{.window}}]))
    alerting: { name: LiveAvailability }
  - name: latency
    objective: 99
    sli:
      events:
        error_query: sum(rate(http_server_request_duration_seconds_count{job="${service}"}[{{.window}}])) - sum(rate(http_server_request_duration_seconds_bucket{job="${service}",le="0.25"}[{{.window}}]))
        total_query: sum(rate(http_server_request_duration_seconds_count{job="${service}"}[{{.window}}]))
    alerting: { name: LiveLatency }
`,
      'live.sloth.yaml',
    );
    if (local) {
      mkdirSync(prometheusRulesDir(loadStackConfig()), { recursive: true });
      writeFileSync(rulesFile, sloRulesYaml(slos));
      await reloadPrometheus();
    }
    provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'service.instance.id': `${service}-0` }),
      readers: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: `${endpoints.otlpHttp}/v1/metrics` }), exportIntervalMillis: 1_000 })],
    });
    duration = provider.getMeter('test').createHistogram('http.server.request.duration', { unit: 's', advice: { explicitBucketBoundaries: BOUNDS } });
    const brokers = endpoints.kafkaBrokers;
    const ingest = parseIngestConfig({ rules: [...defaultRules, ...sloIngestRules(slos)], bucketMs: BUCKET_MS, allowedLatenessMs: 1_000, idleTimeoutMs: 1_500, signalsTopic });
    processes.push(await runProcess({ name: `slo-live-ingest-${run}`, kafka: processKafka(brokers, 'test-ingest'), inputTopic: 'otlp_metrics', outputTopics: [signalsTopic], factory: ingestFactory(ingest), idleTimeoutMs: 1_500, port: 0, fromBeginning: false }));
    processes.push(
      await runProcess({
        name: `slo-live-evaluate-${run}`,
        kafka: processKafka(brokers, 'test-evaluate'),
        inputTopic: signalsTopic,
        outputTopics: [sloTopic],
        factory: evaluateFactory({ emitValues: false, consumers: () => [new SloStage(slos, { topic: sloTopic })] }),
        idleTimeoutMs: 1_500,
        port: 0,
      }),
    );
    await eventually('processors ready', async () => ((await Promise.all(processes.map((p) => p.runner.ready()))).every(Boolean) ? true : undefined));
    // 200 requests a second: 5xx in the error burst, 0.6-1.2 s in the slow one, else 20-60 ms.
    let i = 0;
    traffic = setInterval(() => {
      for (let k = 0; k < 20; k++, i++) {
        const base = 0.02 + ((i * 37) % 100) / 2_500;
        duration.record(mode === 'slow' ? 0.6 + base * 10 : base, { 'http.route': '/api/items', 'http.request.method': 'GET', 'http.response.status_code': mode === 'errors' ? 503 : 200 });
      }
    }, 100);
  }, 120_000);

  afterAll(async () => {
    if (traffic) clearInterval(traffic);
    for (const p of processes) await p.stop();
    await provider?.shutdown();
    if (local) {
      rmSync(rulesFile, { force: true });
      await reloadPrometheus();
    }
  });

  async function ourFiring(slo: string, since: number): Promise<SloEvent> {
    const [m] = await collectMessages(kafkaClient(endpoints.kafkaBrokers), {
      topic: sloTopic,
      count: 1,
      timeoutMs: 90_000,
      filter: (x) => {
        if (x.value === null) return false;
        const e = sloEventSerde.deserialize(x.value);
        return e.slo === slo && e.tier === 'page' && e.state === 'FIRING' && e.timestamp > since;
      },
    });
    return sloEventSerde.deserialize(m?.value as Buffer);
  }

  async function prometheusFiring(alertname: string): Promise<PromAlert> {
    return eventually(
      `Prometheus alert ${alertname}`,
      async () => {
        const body = (await (await fetch(`${endpoints.prometheus}/api/v1/alerts`)).json()) as { data: { alerts: PromAlert[] } };
        return body.data.alerts.find((a) => a.labels.alertname === alertname && a.labels.sloth_severity === 'page' && a.labels.sloth_service === service && a.state === 'firing');
      },
      { timeoutMs: 120_000, intervalMs: 1_000 },
    );
  }

  it('pages on an error burst and on a latency burst, in the engine within a bucket or two, and through the exported rules in Prometheus', async () => {
    await new Promise((r) => setTimeout(r, 20_000));
    const figures: Record<string, number> = {};
    for (const [slo, alertname, fault] of [
      [`${service}-availability`, 'LiveAvailability', 'errors'],
      [`${service}-latency`, 'LiveLatency', 'slow'],
    ] as const) {
      const injected = Date.now();
      mode = fault;
      const ours = await ourFiring(slo, injected - 5_000);
      const oursSeen = Date.now();
      // Data time: the alert's bucket end, against the wall-clock moment the fault began.
      expect(ours.timestamp - injected).toBeLessThanOrEqual(10_000);
      expect(ours.long_burn_rate).toBeGreaterThanOrEqual(ours.factor);
      expect(ours.short_burn_rate).toBeGreaterThanOrEqual(ours.factor);
      figures[`${fault}_engine_data_time_s`] = (ours.timestamp - injected) / 1000;
      figures[`${fault}_engine_event_seen_s`] = (oursSeen - injected) / 1000;
      if (local) {
        const alert = await prometheusFiring(alertname);
        figures[`${fault}_prometheus_active_at_s`] = (Date.parse(alert.activeAt) - injected) / 1000;
        expect(alert.labels.aiops_slo).toBe(slo);
      }
      mode = 'clean';
      await new Promise((r) => setTimeout(r, 5_000));
    }
    process.stdout.write(`${JSON.stringify({ slo_live: figures })}\n`);
  }, 400_000);
});
