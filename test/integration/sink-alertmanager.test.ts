import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../runtime/logger.js';
import { sleep } from '../../runtime/retry.js';
import { anomalyEventId, anomalySerde } from '../../schemas/anomalies.js';
import type { AnomalyEvent } from '../../schemas/anomalies.js';
import { sloEventId, sloEventSerde } from '../../schemas/slo.js';
import type { SloEvent } from '../../schemas/slo.js';
import { AlertmanagerSink } from '../../sinks/alertmanager/alertmanager-sink.js';
import { SinkRunner } from '../../sinks/runtime.js';
import { createTopics, externalEndpoints, kafkaClient } from '../../stack/clients/index.js';
import { readPidFile, stopProcess } from '../../stack/processes.js';
import { loadStackConfig, stackUp } from '../../stack/index.js';
import { eventually } from '../helpers/eventually.js';
import { stackEndpoints } from '../helpers/stack.js';

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  status: { state: string };
  endsAt: string;
}

const T = Date.now();

function anomaly(signal: string, state: AnomalyEvent['state'], at: number, startedAt = at): AnomalyEvent {
  return {
    id: anomalyEventId(signal, 'http.p95', startedAt, 1), timestamp: at, metric: 'http.p95', signal, expected_value: 0.12, actual_value: 2.4, lower: 0.08, upper: 0.16,
    deviation: 2.28, score: state === 'RESOLVED' ? 0.1 : 0.97, confidence: 0.8, severity: 'critical', state, detector: 'holt-winters', mode: 'seasonal', started_at: startedAt,
    context: { service: signal.split('"')[1] ?? '', endpoint: '/api/pay', dimensions: {} },
  };
}

function slo(name: string, state: SloEvent['state'], at: number, startedAt = at): SloEvent {
  return {
    id: sloEventId(name, 'page', startedAt), timestamp: at, slo: name, service: 'payments', description: '', sli: 'availability', objective: 0.999, period: '30d rolling',
    period_ms: 30 * 86_400_000, tier: 'page', state, long_window_ms: 3_600_000, short_window_ms: 300_000, factor: 14.4, long_burn_rate: 20, short_burn_rate: 300,
    budget_remaining: 0.6, projected_exhaustion: at + 3_600_000, started_at: startedAt, labels: { team: 'payments' },
  };
}

/**
 * The Alertmanager sink against the real Alertmanager: events on the topics become alerts in
 * `GET /api/v2/alerts` and, through a route, notifications at a webhook this test runs; an
 * Alertmanager outage of two minutes loses nothing.
 */
describe.skipIf(externalEndpoints() !== undefined)('Alertmanager sink (real Alertmanager, webhook receiver)', () => {
  const endpoints = stackEndpoints();
  const run = randomUUID().slice(0, 8);
  const anomaliesTopic = `test.anomalies.${run}`;
  const sloTopic = `test.slo.${run}`;
  const activeTopic = `test.alertmanager.active.${run}`;
  const config = loadStackConfig();
  const notifications: { status: string; alerts: { status: string; labels: Record<string, string> }[] }[] = [];
  let webhook: Server;
  let runner: SinkRunner;
  const sig = (s: string): string => `http{service.name="${s}-${run}",http.route="/api/pay"}`;

  async function restartAlertmanager(configFile: string | undefined, downMs = 0): Promise<void> {
    const record = readPidFile(join(config.runDir, 'alertmanager.pid'));
    if (record) await stopProcess(record);
    if (downMs > 0) await sleep(downMs);
    const before = process.env.AIOPS_STACK_ALERTMANAGER_CONFIG;
    if (configFile) process.env.AIOPS_STACK_ALERTMANAGER_CONFIG = configFile;
    else delete process.env.AIOPS_STACK_ALERTMANAGER_CONFIG;
    try {
      await stackUp({ config, only: ['alertmanager'] });
    } finally {
      if (before === undefined) delete process.env.AIOPS_STACK_ALERTMANAGER_CONFIG;
      else process.env.AIOPS_STACK_ALERTMANAGER_CONFIG = before;
    }
  }

  async function alerts(): Promise<AmAlert[]> {
    const response = await fetch(`${endpoints.alertmanager}/api/v2/alerts?active=true&silenced=false&inhibited=false`);
    return ((await response.json()) as AmAlert[]).filter((a) => (a.labels.service ?? '').endsWith(run) || a.labels.slo?.endsWith(run));
  }

  async function produce(topic: string, values: Buffer[]): Promise<void> {
    const producer = kafkaClient(endpoints.kafkaBrokers).producer();
    await producer.connect();
    await producer.send({ topic, messages: values.map((value) => ({ key: 'k', value })) });
    await producer.disconnect();
  }

  beforeAll(async () => {
    webhook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        notifications.push(JSON.parse(body) as (typeof notifications)[number]);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    const port = (webhook.address() as { port: number }).port;
    const dir = mkdtempSync(join(tmpdir(), 'aiops-am-'));
    const amConfig = join(dir, 'alertmanager.yml');
    writeFileSync(
      amConfig,
      `route:\n  receiver: test\n  group_by: [alertname, service]\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: test\n    webhook_configs:\n      - url: http://127.0.0.1:${port}/hook\n        send_resolved: true\n`,
    );
    await restartAlertmanager(amConfig);
    process.env.AIOPS_TEST_AM_CONFIG = amConfig;
    await createTopics(kafkaClient(endpoints.kafkaBrokers), [anomaliesTopic, sloTopic], 2);
    runner = new SinkRunner({
      kafka: kafkaClient(endpoints.kafkaBrokers),
      topics: [anomaliesTopic, sloTopic],
      sink: new AlertmanagerSink({
        url: endpoints.alertmanager,
        resendIntervalMs: 5_000,
        runbookUrl: 'https://runbooks.example/{service}',
        kafka: kafkaClient(endpoints.kafkaBrokers),
        activeTopic,
        log: createLogger('test.sink'),
      }),
      log: createLogger('test.sink'),
      maxBackoffMs: 2_000,
    });
    await runner.start();
  }, 120_000);

  afterAll(async () => {
    await runner?.stop();
    await new Promise<void>((resolve) => webhook?.close(() => resolve()));
    await restartAlertmanager(undefined);
  }, 120_000);

  it('turns an anomaly event into an alert with its labels, notifies the webhook, and resolves it', async () => {
    await produce(anomaliesTopic, [anomalySerde.serialize(anomaly(sig('shop'), 'OPEN', T))]);
    const [alert] = await eventually('alert in Alertmanager', async () => {
      const list = await alerts();
      return list.length > 0 ? list : undefined;
    });
    expect(alert?.labels).toEqual({ alertname: 'AiopsAnomaly', service: `shop-${run}`, severity: 'critical', signal: sig('shop'), metric: 'http.p95', endpoint: '/api/pay' });
    expect(alert?.annotations.summary).toBe(`Anomaly in http.p95 of shop-${run} /api/pay`);
    expect(alert?.annotations.runbook_url).toBe(`https://runbooks.example/shop-${run}`);
    await eventually('firing notification', async () => notifications.find((n) => n.status === 'firing' && n.alerts.some((a) => a.labels.service === `shop-${run}`)));

    await produce(anomaliesTopic, [anomalySerde.serialize(anomaly(sig('shop'), 'RESOLVED', T + 60_000, T))]);
    await eventually('alert resolved', async () => ((await alerts()).length === 0 ? true : undefined));
    await eventually('resolved notification', async () => notifications.find((n) => n.alerts.some((a) => a.status === 'resolved' && a.labels.service === `shop-${run}`)));
  });

  it('loses nothing while Alertmanager is down for two minutes', async () => {
    // Stop Alertmanager; events keep flowing: two anomalies open, one of them resolves, an SLO pages.
    const record = readPidFile(join(config.runDir, 'alertmanager.pid'));
    if (record) await stopProcess(record);
    const t = Date.now();
    await produce(anomaliesTopic, [anomalySerde.serialize(anomaly(sig('cart'), 'OPEN', t)), anomalySerde.serialize(anomaly(sig('search'), 'OPEN', t))]);
    await produce(sloTopic, [sloEventSerde.serialize(slo(`payments-availability-${run}`, 'FIRING', t))]);
    await sleep(30_000);
    await produce(anomaliesTopic, [anomalySerde.serialize(anomaly(sig('cart'), 'RESOLVED', t + 30_000, t))]);
    await sleep(90_000);
    await restartAlertmanager(process.env.AIOPS_TEST_AM_CONFIG);
    expect(runner.stats.retries).toBeGreaterThan(0);
    // Back up with empty memory: the retried batches and the periodic resend restore exactly the active set.
    // The batches are delivered one after another (each also recorded in the active set): wait for the last one.
    const want = ['payments', `search-${run}`].sort();
    const active = await eventually(
      'active alerts restored',
      async () => {
        const list = await alerts();
        const names = list.map((a) => a.labels.service ?? a.labels.slo).sort();
        return JSON.stringify(names) === JSON.stringify(want) ? names : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(active).toEqual(want);
    const slos = (await (await fetch(`${endpoints.alertmanager}/api/v2/alerts?active=true`)).json()) as AmAlert[];
    const page = slos.find((a) => a.labels.slo === `payments-availability-${run}`);
    expect(page?.labels).toMatchObject({ alertname: 'AiopsSloBurnRate', severity: 'critical', tier: 'page', team: 'payments' });
    expect((await alerts()).some((a) => a.labels.service === `cart-${run}`)).toBe(false);
  }, 300_000);

  it('restarts from the compacted active set alone: the resolved alert is not in it', async () => {
    await runner.stop();
    const sink = new AlertmanagerSink({ url: endpoints.alertmanager, resendIntervalMs: 5_000, kafka: kafkaClient(endpoints.kafkaBrokers), activeTopic, log: createLogger('test.sink') });
    runner = new SinkRunner({ kafka: kafkaClient(endpoints.kafkaBrokers), topics: [anomaliesTopic, sloTopic], sink, log: createLogger('test.sink'), maxBackoffMs: 2_000 });
    await runner.start();
    // Six events are on the event topics; the set holds the two alerts still active, and that is all a start reads.
    expect(sink.activeTopic).toBe(activeTopic);
    expect(runner.stats.rebuilt).toBe(2);
    expect(sink.stats.loaded).toBe(2);
    expect([...sink.active.values()].map((a) => a.labels.service ?? '').sort()).toEqual(['payments', `search-${run}`].sort());
    expect([...sink.active.values()].some((a) => a.labels.service === `cart-${run}`)).toBe(false);
  });

  it('resolves alerts whose source went silent as stale, says so, and a restart does not resend them', async () => {
    // The alerts of the set stand for a process that is gone: no event about them comes any more.
    await runner.stop();
    const notified = notifications.length;
    const sink = new AlertmanagerSink({
      url: endpoints.alertmanager,
      resendIntervalMs: 2_000,
      staleness: { anomalyMs: 6_000, sloMs: 10_000 },
      kafka: kafkaClient(endpoints.kafkaBrokers),
      activeTopic,
      log: createLogger('test.sink'),
    });
    runner = new SinkRunner({ kafka: kafkaClient(endpoints.kafkaBrokers), topics: [anomaliesTopic, sloTopic], sink, log: createLogger('test.sink'), maxBackoffMs: 2_000 });
    await runner.start();
    expect(sink.active.size).toBe(2);
    await eventually('anomaly alert resolved as stale', async () => (sink.stats.stale.anomaly === 1 ? true : undefined), { timeoutMs: 30_000 });
    await eventually('both resolved as stale', async () => (sink.stats.stale.slo === 1 && (await alerts()).length === 0 ? true : undefined), { timeoutMs: 30_000 });
    const resolved = await eventually('resolved notifications with the stale reason', async () => {
      // The two alerts of the set (a notification may also repeat an alert resolved earlier, such as cart's).
      const ended = notifications
        .slice(notified)
        .flatMap((n) => n.alerts as { status: string; labels: Record<string, string>; annotations?: Record<string, string> }[])
        .filter((a) => a.status === 'resolved' && (a.labels.service === `search-${run}` || a.labels.slo === `payments-availability-${run}`));
      const names = [...new Set(ended.map((a) => a.labels.service ?? ''))].sort();
      return names.length === 2 ? ended : undefined;
    });
    expect(sink.stats.stale).toEqual({ anomaly: 1, slo: 1 });
    expect(resolved.every((a) => a.annotations?.resolved_reason === 'stale')).toBe(true);
    expect(resolved.find((a) => a.labels.service === `search-${run}`)?.annotations?.stale_reason).toMatch(/^no event about it for \d+s \(stale after 6s\)$/);

    // The set now holds tombstones: the next start has nothing to resend.
    await runner.stop();
    const next = new AlertmanagerSink({ url: endpoints.alertmanager, resendIntervalMs: 2_000, kafka: kafkaClient(endpoints.kafkaBrokers), activeTopic, log: createLogger('test.sink') });
    runner = new SinkRunner({ kafka: kafkaClient(endpoints.kafkaBrokers), topics: [anomaliesTopic, sloTopic], sink: next, log: createLogger('test.sink'), maxBackoffMs: 2_000 });
    await runner.start();
    expect(runner.stats.rebuilt).toBe(0);
    expect(next.active.size).toBe(0);
    await sleep(3_000);
    expect(await alerts()).toEqual([]);
  }, 120_000);
});
