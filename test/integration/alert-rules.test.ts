import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { defaultRules, ingestFactory, parseIngestConfig } from '../../processors/ingest/index.js';
import { runProcess } from '../../runtime/process.js';
import type { RunningProcess } from '../../runtime/process.js';
import { processKafka } from '../../runtime/runner.js';
import { createTopics, externalEndpoints, kafkaClient, promQuery } from '../../stack/clients/index.js';
import { reloadPrometheusRules } from '../../stack/components/prometheus.js';
import { loadStackConfig } from '../../stack/index.js';
import { eventually } from '../helpers/eventually.js';
import { stackEndpoints } from '../helpers/stack.js';
import { sumRecord } from '../helpers/otlp.js';

interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
}

const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
// `for:` of the rules is at most 2 minutes on these alerts; scrapes and evaluations every 5 s.
const FIRING_TIMEOUT_MS = 240_000;

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** One OTLP metrics request with a single counter point, as the collector writes to otlp_metrics. */
function goodRecord(): Buffer {
  const now = Date.now();
  return sumRecord({ service: 'alert-rules', value: 1, startMs: now - 1_000, timeMs: now });
}

/**
 * The shared rule files (compose/prometheus/rules) loaded into the local stack's real Prometheus,
 * with real causes: a platform target nobody runs (component down), 5xx answers of a service
 * through the OTel SDK and the real collector (error rate), and undecodable records dead-lettered
 * by a running ingest process that Prometheus scrapes on the stack's ingest port (dead letters).
 * Each alert must reach `firing` in GET /api/v1/alerts, with its labels and runbook link.
 */
describe.skipIf(externalEndpoints() !== undefined)('alert rules firing in the local stack’s Prometheus', () => {
  const endpoints = stackEndpoints();
  const config = loadStackConfig();
  const run = randomUUID().slice(0, 8);
  const service = `alerts-${run}`;
  const processName = `alerts-ingest-${run}`;
  const input = `test.alerts-in.${run}`;
  const ingestTarget = `${config.host}:${config.ports.platform.ingest}`;
  let ingest: RunningProcess | undefined;
  let provider: MeterProvider | undefined;
  let traffic: NodeJS.Timeout | undefined;
  const downTargets: string[] = [];
  const startedAt = Date.now();
  const figures: Record<string, number> = {};

  async function alerts(): Promise<PromAlert[]> {
    const body = (await (await fetch(`${endpoints.prometheus}/api/v1/alerts`, { signal: AbortSignal.timeout(10_000) })).json()) as { data: { alerts: PromAlert[] } };
    return body.data.alerts;
  }

  async function firing(what: string, match: (a: PromAlert) => boolean): Promise<PromAlert> {
    const alert = await eventually(what, async () => (await alerts()).find((a) => a.state === 'firing' && match(a)), { timeoutMs: FIRING_TIMEOUT_MS, intervalMs: 2_000 });
    figures[`${what.replace(/\W+/g, '_')}_firing_after_s`] = Math.round((Date.now() - startedAt) / 1000);
    return alert;
  }

  beforeAll(async () => {
    // This checkout's rule files, whatever the running Prometheus loaded before.
    await reloadPrometheusRules(config);
    if (await listening(config.host, config.ports.platform.ingest)) {
      throw new Error(`${ingestTarget} (the stack's ingest port) is in use: stop the platform process there; this test runs its own ingest on it`);
    }
    for (const port of [config.ports.platform.evaluate, config.ports.platform.sinks]) {
      if (!(await listening(config.host, port))) downTargets.push(`${config.host}:${port}`);
    }

    // 20 requests a second: /api/pay fails every fourth with 503, /api/list never fails.
    provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'service.instance.id': `${service}-0` }),
      readers: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: `${endpoints.otlpHttp}/v1/metrics` }), exportIntervalMillis: 1_000 })],
    });
    const duration = provider.getMeter('test').createHistogram('http.server.request.duration', { unit: 's', advice: { explicitBucketBoundaries: BOUNDS } });
    let i = 0;
    traffic = setInterval(() => {
      for (let k = 0; k < 2; k++, i++) {
        const pay = i % 2 === 0;
        const status = pay && i % 8 === 0 ? 503 : 200;
        duration.record(0.02 + (i % 10) / 1_000, { 'http.route': pay ? '/api/pay' : '/api/list', 'http.request.method': 'GET', 'http.response.status_code': status });
      }
    }, 100);

    // An ingest process on the stack's ingest port, so that Prometheus scrapes its /metrics.
    const kafka = kafkaClient(endpoints.kafkaBrokers);
    await createTopics(kafka, [input], 1);
    const ingestConfig = parseIngestConfig({ rules: defaultRules, bucketMs: 10_000, idleTimeoutMs: 500, signalsTopic: `test.alerts-signals.${run}` });
    ingest = await runProcess({
      name: processName,
      kafka: processKafka(endpoints.kafkaBrokers, 'alert-rules'),
      inputTopic: input,
      outputTopics: [`test.alerts-signals.${run}`],
      factory: ingestFactory(ingestConfig),
      idleTimeoutMs: 500,
      port: config.ports.platform.ingest,
      host: config.host,
    });
  }, 120_000);

  afterAll(async () => {
    if (traffic) clearInterval(traffic);
    await provider?.shutdown();
    await ingest?.stop();
    process.stdout.write(`${JSON.stringify({ alert_rules_live: figures })}\n`);
  });

  it(
    'AiopsComponentDown fires for a platform target nobody runs (and reaches Alertmanager’s page receiver), not for the ingest process that runs',
    async () => {
      expect(downTargets.length, 'the stack’s evaluate and sinks ports are both in use: no target is down').toBeGreaterThan(0);
      const alert = await firing('component down', (a) => a.labels.alertname === 'AiopsComponentDown' && a.labels.instance === downTargets[0]);
      expect(alert.labels).toMatchObject({ job: 'aiops', severity: 'page' });
      expect(alert.annotations.runbook_url).toBe('https://github.com/aiops-stream/aiops/blob/main/docs/runbooks.md#aiopscomponentdown');
      // Prometheus hands it to the stack's Alertmanager, whose routes put severity page on the page receiver.
      const url = `${endpoints.alertmanager}/api/v2/alerts?${new URLSearchParams({ filter: 'alertname="AiopsComponentDown"' })}`;
      const routed = await eventually(
        'AiopsComponentDown in Alertmanager',
        async () => ((await (await fetch(url)).json()) as { labels: Record<string, string>; receivers: { name: string }[] }[]).find((a) => a.labels.instance === downTargets[0]),
        { timeoutMs: 120_000, intervalMs: 2_000 },
      );
      expect(routed.receivers.map((r) => r.name)).toEqual(['page']);
      // Our ingest answers its scrapes: no alert for its target once it is up.
      await eventually('ingest target up', async () => ((await promQuery(endpoints.prometheus, `up{job="aiops", instance="${ingestTarget}"} == 1`)).length > 0 ? true : undefined), { timeoutMs: 60_000, intervalMs: 2_000 });
      // The rule clears at the first evaluation after that scrape (an alert from the minutes the
      // port had nobody on it may still be firing until then).
      await eventually(
        'no AiopsComponentDown for the running ingest',
        async () => ((await alerts()).some((a) => a.labels.alertname === 'AiopsComponentDown' && a.labels.instance === ingestTarget && a.state === 'firing') ? undefined : true),
        { timeoutMs: 30_000, intervalMs: 1_000 },
      );
    },
    FIRING_TIMEOUT_MS + 180_000,
  );

  it(
    'AiopsDeadLetters fires when the running ingest process dead-letters records',
    async () => {
      const kafka = kafkaClient(endpoints.kafkaBrokers);
      const producer = kafka.producer();
      await producer.connect();
      try {
        // A good record first: the commit after it exports kind="dead_letters" at 0, the baseline
        // increase() needs. Then three undecodable records.
        await producer.send({ topic: input, messages: [{ value: goodRecord() }] });
        const selector = `aiops_process_events_total{job="aiops", process="${processName}", kind="dead_letters"}`;
        await eventually('dead-letter counter scraped at 0', async () => ((await promQuery(endpoints.prometheus, `${selector} == 0`)).length > 0 ? true : undefined), { timeoutMs: 90_000, intervalMs: 1_000 });
        await producer.send({ topic: input, messages: [{ value: Buffer.from('not protobuf \xff') }, { value: Buffer.from('{"json":"is not otlp_proto"}') }, { value: Buffer.from([0x0a, 0xff, 0xff]) }] });
        await eventually('dead-letter counter scraped at 3', async () => ((await promQuery(endpoints.prometheus, `${selector} == 3`)).length > 0 ? true : undefined), { timeoutMs: 90_000, intervalMs: 1_000 });
      } finally {
        await producer.disconnect();
      }
      const alert = await firing('dead letters', (a) => a.labels.alertname === 'AiopsDeadLetters' && a.labels.process === processName);
      expect(alert.labels).toMatchObject({ job: 'aiops', instance: ingestTarget, severity: 'ticket' });
      expect(alert.annotations.summary).toBe(`${processName} on ${ingestTarget} dead-letters records`);
      expect(alert.annotations.runbook_url).toBe('https://github.com/aiops-stream/aiops/blob/main/docs/runbooks.md#aiopsdeadletters');
    },
    240_000,
  );

  it(
    'AiopsHighErrorRate fires for the route answering 25% 503s through the real collector, not for the healthy route',
    async () => {
      const alert = await firing('error rate', (a) => a.labels.alertname === 'AiopsHighErrorRate' && a.labels.service === service);
      expect(alert.labels).toMatchObject({ job: service, http_route: '/api/pay', severity: 'ticket' });
      expect(alert.annotations.description).toMatch(/^2\d(\.\d+)?% of the requests of alerts-\w+ on route \/api\/pay failed/);
      const ratios = await promQuery(endpoints.prometheus, `aiops:http_server_errors:ratio_rate5m{job="${service}"}`);
      expect(Object.fromEntries(ratios.map((s) => [s.metric.http_route, s.value > 0.01]))).toEqual({ '/api/pay': true, '/api/list': false });
      expect((await alerts()).filter((a) => a.labels.alertname === 'AiopsHighErrorRate' && a.labels.service === service).map((a) => a.labels.http_route)).toEqual(['/api/pay']);
    },
    FIRING_TIMEOUT_MS + 60_000,
  );
});
