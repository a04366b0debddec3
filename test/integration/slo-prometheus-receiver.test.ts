import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateFactory } from '../../processors/evaluate/index.js';
import { ingestFactory, parseIngestConfig } from '../../processors/ingest/index.js';
import { SloStage, parseSloText, sloIngestRules, sloRulesYaml } from '../../processors/slo/index.js';
import type { SloSpec } from '../../processors/slo/index.js';
import { runProcess } from '../../runtime/process.js';
import type { RunningProcess } from '../../runtime/process.js';
import { processKafka } from '../../runtime/runner.js';
import { sloEventSerde } from '../../schemas/slo.js';
import { collectMessages, externalEndpoints, kafkaClient } from '../../stack/clients/index.js';
import { otelcolBinary, otelcolConfigFile, otelcolPrometheusReceiverOverlay } from '../../stack/components/otelcol.js';
import { loadStackConfig } from '../../stack/index.js';
import { eventually } from '../helpers/eventually.js';
import { freePort, startPrometheus } from '../helpers/prometheus.js';
import type { TestPrometheus } from '../helpers/prometheus.js';
import { stackEndpoints } from '../helpers/stack.js';

/**
 * An application instrumented with a Prometheus client library (a /metrics endpoint in the text
 * format, as client_golang writes it), scraped by the collector's prometheus receiver (the
 * compose/otelcol/prometheus-receiver.yaml overlay) into Kafka; a Sloth file written against the
 * application's own metric names pages in the stream engine, and its exported rules page in a
 * real Prometheus scraping the same endpoint.
 */
describe('a Prometheus client-library application, scraped by the collector, against a Sloth file', () => {
  const endpoints = stackEndpoints();
  const config = loadStackConfig();
  const local = externalEndpoints() === undefined;
  const run = randomUUID().slice(0, 8);
  const job = `shop-${run}`;
  const signalsTopic = `test.slo-scrape-signals.${run}`;
  const sloTopic = `test.slo-scrape.${run}`;
  const dir = mkdtempSync(join(tmpdir(), 'slo-scrape-'));
  const children: ChildProcess[] = [];
  const processes: RunningProcess[] = [];
  let app: Server | undefined;
  let appPort = 0;
  let prometheus: TestPrometheus | undefined;
  let slos: SloSpec[] = [];
  // Cumulative counters of the application: 20% of requests fail with 503.
  const started = Date.now();
  const metrics = (): string => {
    const n = Math.floor((Date.now() - started) / 10);
    const ok = n - Math.floor(n / 5);
    const failed = Math.floor(n / 5);
    return [
      '# HELP http_requests_total Total HTTP requests.',
      '# TYPE http_requests_total counter',
      `http_requests_total{code="200",handler="/api/orders",method="post"} ${ok}`,
      `http_requests_total{code="503",handler="/api/orders",method="post"} ${failed}`,
      `http_requests_total{code="200",handler="/metrics",method="get"} ${Math.floor(n / 100)}`,
      '# HELP http_request_duration_seconds Request latency.',
      '# TYPE http_request_duration_seconds histogram',
      `http_request_duration_seconds_bucket{handler="/api/orders",le="0.1"} ${ok}`,
      `http_request_duration_seconds_bucket{handler="/api/orders",le="1"} ${n}`,
      `http_request_duration_seconds_bucket{handler="/api/orders",le="+Inf"} ${n}`,
      `http_request_duration_seconds_sum{handler="/api/orders"} ${n * 0.2}`,
      `http_request_duration_seconds_count{handler="/api/orders"} ${n}`,
      '',
    ].join('\n');
  };

  beforeAll(async () => {
    app = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(req.url === '/metrics' ? metrics() : '');
    });
    await new Promise<void>((r) => app?.listen(0, '127.0.0.1', () => r()));
    appPort = (app.address() as { port: number }).port;
    slos = parseSloText(
      `version: prometheus/v1
service: shop
slos:
  - name: orders-availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="${job}",handler!="/metrics",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="${job}",handler!="/metrics"}[{{.window}}]))
    alerting:
      name: ScrapedOrdersErrors
      page_alert:
        labels: { severity: critical }
`,
      'scraped.sloth.yaml',
    );
    // The stream: ingest and evaluate with the SLO stage, on the shared Kafka.
    const brokers = endpoints.kafkaBrokers;
    const ingest = parseIngestConfig({ rules: sloIngestRules(slos), bucketMs: 2_000, allowedLatenessMs: 1_000, idleTimeoutMs: 1_500, signalsTopic });
    processes.push(await runProcess({ name: `slo-scrape-ingest-${run}`, kafka: processKafka(brokers, 'test-ingest'), inputTopic: 'otlp_metrics', outputTopics: [signalsTopic], factory: ingestFactory(ingest), idleTimeoutMs: 1_500, port: 0, fromBeginning: false }));
    processes.push(
      await runProcess({
        name: `slo-scrape-evaluate-${run}`,
        kafka: processKafka(brokers, 'test-evaluate'),
        inputTopic: signalsTopic,
        outputTopics: [sloTopic],
        factory: evaluateFactory({ emitValues: false, consumers: () => [new SloStage(slos, { topic: sloTopic })] }),
        idleTimeoutMs: 1_500,
        port: 0,
      }),
    );
    await eventually('processors ready', async () => ((await Promise.all(processes.map((p) => p.runner.ready()))).every(Boolean) ? true : undefined));
    // A collector of the stack's build with the prometheus receiver overlay, on free ports.
    const [grpc, http, prom, health, telemetry] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const collector = spawn(otelcolBinary(config), ['--config', otelcolConfigFile, '--config', otelcolPrometheusReceiverOverlay], {
      env: {
        ...process.env,
        AIOPS_KAFKA_BROKERS: brokers.join(","),
        AIOPS_OTELCOL_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
        AIOPS_OTELCOL_HTTP_ENDPOINT: `127.0.0.1:${http}`,
        AIOPS_OTELCOL_PROMETHEUS_ENDPOINT: `127.0.0.1:${prom}`,
        AIOPS_OTELCOL_HEALTH_ENDPOINT: `127.0.0.1:${health}`,
        AIOPS_OTELCOL_TELEMETRY_HOST: '127.0.0.1',
        AIOPS_OTELCOL_TELEMETRY_PORT: String(telemetry),
        AIOPS_TRACES_OTLP_ENDPOINT: `127.0.0.1:${grpc}`,
        AIOPS_OTELCOL_SCRAPE_TARGETS: `["127.0.0.1:${appPort}"]`,
        AIOPS_OTELCOL_SCRAPE_JOB: job,
        AIOPS_OTELCOL_SCRAPE_INTERVAL: '1s',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(collector);
    let log = '';
    collector.stderr.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-4000);
    });
    await eventually(
      'collector healthy',
      async () => {
        if (collector.exitCode !== null) throw new Error(`collector exited ${collector.exitCode}: ${log}`);
        return (await fetch(`http://127.0.0.1:${health}/`).catch(() => undefined))?.ok ? true : undefined;
      },
      { timeoutMs: 30_000 },
    );
    // A real Prometheus (the stack's package), scraping the application as its users do, with the exported rules.
    if (local) {
      prometheus = await startPrometheus(
        dir,
        `global: { scrape_interval: 1s, evaluation_interval: 1s }\nrule_files: [rules.yml]\nscrape_configs:\n  - job_name: ${job}\n    static_configs: [{ targets: ['127.0.0.1:${appPort}'] }]\n`,
        { 'rules.yml': sloRulesYaml(slos) },
      );
      children.push(prometheus.process);
    }
  }, 180_000);

  afterAll(async () => {
    for (const c of children) c.kill('SIGTERM');
    for (const p of processes) await p.stop();
    await new Promise<void>((r) => (app ? app.close(() => r()) : r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('pages in the stream engine and, through the exported rules, in Prometheus', async () => {
    const [m] = await collectMessages(kafkaClient(endpoints.kafkaBrokers), {
      topic: sloTopic,
      count: 1,
      timeoutMs: 90_000,
      filter: (x) => {
        if (x.value === null) return false;
        const e = sloEventSerde.deserialize(x.value);
        return e.slo === 'shop-orders-availability' && e.tier === 'page' && e.state === 'FIRING';
      },
    });
    const event = sloEventSerde.deserialize(m?.value as Buffer);
    expect(event.service).toBe('shop');
    expect(event.labels.severity).toBe('critical');
    // 20% of the orders fail: a burn rate of 200 over both windows.
    expect(event.long_burn_rate).toBeGreaterThan(150);
    expect(event.long_burn_rate).toBeLessThan(250);
    if (prometheus) {
      const p = prometheus;
      const alert = await eventually(
        'Prometheus page',
        async () => (await p.alerts()).find((a) => a.labels.alertname === 'ScrapedOrdersErrors' && a.labels.sloth_severity === 'page' && a.state === 'firing'),
        { timeoutMs: 90_000, intervalMs: 1_000 },
      );
      expect(alert.labels).toMatchObject({ severity: 'critical', sloth_service: 'shop', sloth_slo: 'orders-availability', aiops_slo: 'shop-orders-availability' });
    }
  }, 240_000);
});
