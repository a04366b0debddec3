import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Consumer } from 'kafkajs';
import { clearFaults, setFault, startDemoApp } from '../producers/demo-app/index.js';
import { runLoad } from '../producers/loadgen/index.js';
import { aiopsError } from '../runtime/errors.js';
import { retryKafka, sleep } from '../runtime/retry.js';
import { anomaliesTopic, anomalySerde } from '../schemas/anomalies.js';
import type { AnomalyEvent } from '../schemas/anomalies.js';
import { measurementSerde, measurementsTopic } from '../schemas/measurements.js';
import { sloEventSerde, sloTopic } from '../schemas/slo.js';
import type { SloEvent } from '../schemas/slo.js';
import { kafkaClient, localEndpoints } from '../stack/clients/index.js';
import { loadStackConfig, projectRoot, stackUp } from '../stack/index.js';

const SERVICE = 'demo-shop';

interface AmAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  status: { state: string };
}

/** A platform process the demo runs (`aiops ingest|evaluate|sinks`), its output in a log file. */
function startPlatform(command: string, args: string[], env: Record<string, string>, logDir: string): ChildProcess {
  const out = createWriteStream(join(logDir, `demo-${command}.log`), { flags: 'a' });
  const child = spawn(process.execPath, [join(projectRoot, 'bin/aiops.js'), command, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  return child;
}

async function waitReady(url: string, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(1_000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    await sleep(500);
  }
  throw aiopsError('TIMEOUT', [`${what} becoming ready`, timeoutMs]);
}

async function activeAlerts(alertmanager: string): Promise<AmAlert[]> {
  const response = await fetch(`${alertmanager}/api/v2/alerts?active=true&silenced=false&inhibited=false`, { signal: AbortSignal.timeout(3_000) }).catch(() => undefined);
  if (!response?.ok) return [];
  return ((await response.json()) as AmAlert[]).filter((a) => a.labels.service === SERVICE);
}

/**
 * Ends the demo shop's alerts that earlier runs left active in Alertmanager (a run stopped while
 * an alert was open; its sinks resent it until its endsAt), so the run's view holds only its own
 * alerts. Returns how many it ended.
 */
async function endEarlierAlerts(alertmanager: string): Promise<number> {
  const left = await activeAlerts(alertmanager);
  if (left.length === 0) return 0;
  const endsAt = new Date().toISOString();
  const ended = left.map((a) => ({ labels: a.labels, annotations: { ...a.annotations, resolved_reason: 'ended by the next demo run' }, ...(a.startsAt ? { startsAt: a.startsAt } : {}), endsAt }));
  const response = await fetch(`${alertmanager}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ended), signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
  return response?.ok ? ended.length : 0;
}

/** The demo's faults, from the start of its load (Compose's and the Helm chart's demo schedules repeat them). */
export const demoFaults = [
  { at: 60_000, until: 105_000, fault: { route: '/api/users', latencyMs: 900, errorRate: 0 }, what: 'latency spike: /api/users +900 ms' },
  { at: 120_000, until: 165_000, fault: { route: '/api/orders', latencyMs: 0, errorRate: 1 }, what: 'error burst: every /api/orders request fails' },
] as const;

function clock(startMs: number): string {
  return `${String(Math.round((Date.now() - startMs) / 1000)).padStart(4)}s`;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

/** The share of the SLO period the budget covers: minutes of a 7-day period are a few hundredths of a percent. */
function observedPct(share: number | undefined): string {
  const x = (share ?? 1) * 100;
  return `${x >= 1 ? x.toFixed(0) : x.toPrecision(1)}%`;
}

/**
 * The main job: the local stack, the platform's processes (ingest, evaluate with the anomaly and
 * SLO stages, the sinks), the demo shop with load, a latency spike and an error burst on a
 * schedule, and what the platform makes of it shown live: anomaly events, SLO burn rates and
 * alerts, the alerts active in Alertmanager. Ends by itself with a summary; Ctrl-C stops it.
 */
export async function runDemo(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { duration: { type: 'string' }, rate: { type: 'string' } } });
  const durationMs = Number(values.duration ?? process.env.AIOPS_DEMO_DURATION_S ?? 210) * 1000;
  const rate = Number(values.rate ?? 25);
  if (!(durationMs >= 180_000)) throw aiopsError('CLI_USAGE', ['--duration: at least 180 (seconds): the faults run from 60 s to 165 s']);
  const config = loadStackConfig();
  const endpoints = localEndpoints(config);
  console.log('1/5 the local stack (first run installs Kafka, the collector, Jaeger, Prometheus, Alertmanager, InfluxDB)');
  const report = await stackUp({ config, log: (line) => console.log(`    ${line}`) });
  console.log(`    ready in ${(report.totalMs / 1000).toFixed(1)} s`);

  const children: ChildProcess[] = [];
  const runTopics: string[] = [];
  const abort = new AbortController();
  let app: { url: string; stop(): Promise<void> } | undefined;
  let consumer: Consumer | undefined;
  let stopping: Promise<void> | undefined;
  const stopAll = (): Promise<void> =>
    (stopping ??= (async () => {
      abort.abort();
      await consumer?.disconnect().catch(() => undefined);
      await app?.stop().catch(() => undefined);
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null) return resolve();
              c.once('exit', () => resolve());
              c.kill('SIGTERM');
              setTimeout(() => c.kill('SIGKILL'), 15_000).unref();
            }),
        ),
      );
      if (runTopics.length > 0) {
        const admin = kafkaClient(endpoints.kafkaBrokers, 'aiops-demo').admin();
        await admin
          .connect()
          .then(async () => {
            const topics = (await retryKafka('listing the demo run topics', () => admin.listTopics())).filter((t) => runTopics.includes(t));
            await retryKafka('deleting the demo run topics', () => admin.deleteTopics({ topics }), { deadlineMs: 30_000 });
          })
          .catch(() => undefined)
          .finally(() => void admin.disconnect());
      }
    })());
  const onSignal = (): void => {
    console.log('\nstopping the demo (the stack keeps running; `npm run stack:down` stops it)');
    void stopAll().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    console.log('2/5 the platform: ingest, evaluate (anomaly and SLO stages), sinks (Alertmanager, InfluxDB)');
    const slo = join(projectRoot, 'slo/demo');
    const common = { AIOPS_KAFKA_BROKERS: endpoints.kafkaBrokers.join(','), AIOPS_SLO_PATHS: slo, AIOPS_LOG_LEVEL: process.env.AIOPS_LOG_LEVEL ?? 'info' };
    // Every run starts from fresh detector and SLO state (its own processor names and signals
    // topic), so a second run alerts like the first: a spike like the last one would otherwise
    // not be news to the detectors. Events go to the usual topics; the run's own topics are
    // deleted at the end.
    const run = `demo-${Date.now().toString(36)}`;
    // The sinks keep this run's active alerts in a set of the run's own, and alerts earlier runs
    // left in Alertmanager are ended: the view shows this run's alerts only.
    runTopics.push(`aiops.${run}.signals`, `aiops.${run}-ingest.state`, `aiops.${run}-evaluate.state`, `aiops.${run}.sink.alertmanager.active`);
    const ended = await endEarlierAlerts(endpoints.alertmanager);
    if (ended > 0) console.log(`    Alertmanager: ended ${ended} ${SERVICE} alert${ended === 1 ? '' : 's'} earlier runs left active`);
    mkdirSync(config.logDir, { recursive: true });
    children.push(
      startPlatform(
        'ingest',
        [],
        { ...common, AIOPS_INGEST_NAME: `${run}-ingest`, AIOPS_INGEST_SIGNALS_TOPIC: `aiops.${run}.signals`, AIOPS_INGEST_BUCKET_MS: '5000', AIOPS_INGEST_LATENESS_MS: '2000', AIOPS_INGEST_IDLE_MS: '10000', AIOPS_INGEST_START: 'latest', AIOPS_INGEST_PORT: String(config.ports.platform.ingest) },
        config.logDir,
      ),
    );
    children.push(
      startPlatform(
        'evaluate',
        ['--config', join(projectRoot, 'compose/aiops/evaluate.demo.yaml')],
        { ...common, AIOPS_EVALUATE_NAME: `${run}-evaluate`, AIOPS_EVALUATE_TOPIC: `aiops.${run}.signals`, AIOPS_EVALUATE_IDLE_MS: '10000', AIOPS_EVALUATE_PORT: String(config.ports.platform.evaluate) },
        config.logDir,
      ),
    );
    children.push(
      startPlatform('sinks', [], { ...common, AIOPS_SINKS: 'alertmanager,influxdb', AIOPS_ALERTMANAGER_URL: endpoints.alertmanager, AIOPS_ALERTMANAGER_RESEND_MS: '20000', AIOPS_ALERTMANAGER_ACTIVE_TOPIC: `aiops.${run}.sink.alertmanager.active`, AIOPS_INFLUXDB_URL: endpoints.influxdb, AIOPS_INFLUXDB_BUCKET: 'aiops/autogen', AIOPS_SINKS_PORT: String(config.ports.platform.sinks) }, config.logDir),
    );
    for (const [port, what] of [
      [config.ports.platform.ingest, 'ingest'],
      [config.ports.platform.evaluate, 'evaluate'],
      [config.ports.platform.sinks, 'sinks'],
    ] as const) {
      await waitReady(`http://${config.host}:${port}/ready`, what, 90_000);
    }
    console.log(`    ready; logs in ${join(config.logDir, 'demo-*.log')}`);

    console.log(`3/5 the demo shop (service "${SERVICE}", Express with the OpenTelemetry Node SDK) and ${rate} requests/s`);
    app = await startDemoApp({ port: 0, serviceName: SERVICE, otlpHttpEndpoint: endpoints.otlpHttp, metricIntervalMs: 2_000 });
    console.log(`    ${app.url}`);

    // Everything the platform says from now on.
    const seen = { anomalies: [] as AnomalyEvent[], slo: [] as SloEvent[], alertNames: new Set<string>() };
    const burn = new Map<string, Record<string, number>>();
    consumer = kafkaClient(endpoints.kafkaBrokers, 'aiops-demo').consumer({ groupId: `aiops.demo-view.${Date.now()}`, readUncommitted: false, maxWaitTimeInMs: 200 });
    const viewer = consumer;
    await retryKafka('connecting the demo view consumer', () => viewer.connect());
    // subscribe reads the topics' metadata: a broker still settling answers it with transient errors.
    await retryKafka('subscribing the demo view', () => viewer.subscribe({ topics: [anomaliesTopic, sloTopic, measurementsTopic], fromBeginning: false }));
    const started = Date.now();
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        if (!message.value) return;
        if (topic === anomaliesTopic) {
          const e = anomalySerde.deserialize(message.value);
          if (e.context.service !== SERVICE) return;
          seen.anomalies.push(e);
          if (e.state !== 'UPDATE') console.log(`    ${clock(started)}  anomaly ${e.state.padEnd(8)} ${e.metric} of ${e.context.endpoint || e.signal}: ${e.actual_value.toPrecision(3)} (expected ${e.expected_value.toPrecision(3)}), ${e.detector}, ${e.severity}`);
        } else if (topic === sloTopic) {
          const e = sloEventSerde.deserialize(message.value);
          if (e.service !== SERVICE) return;
          seen.slo.push(e);
          console.log(`    ${clock(started)}  SLO ${e.slo} ${e.tier} ${e.state}: burn ${e.long_burn_rate.toFixed(1)}x / ${e.short_burn_rate.toFixed(1)}x, budget left ${pct(Math.max(0, e.budget_remaining))} of the ${observedPct(e.observed_share)} of the period observed`);
        } else {
          const m = measurementSerde.deserialize(message.value);
          if (m.measurement === 'slo' && m.tags.service === SERVICE) burn.set(m.tags.slo ?? '', m.fields);
        }
      },
    });
    await sleep(3_000);

    console.log(`4/5 traffic for ${Math.round(durationMs / 1000)} s: a latency spike on /api/users at 60 s, an error burst on /api/orders at 120 s`);
    const load = runLoad({ baseUrl: app.url, ratePerSecond: rate, durationMs, mix: { 'GET /api/users': 5, 'GET /api/users/:id': 2, 'POST /api/orders': 2, 'GET /api/checkout': 1 }, signal: abort.signal });
    const timers = demoFaults.flatMap((f) => [
      setTimeout(() => {
        console.log(`    ${clock(started)}  >>> ${f.what}`);
        void setFault(app?.url ?? '', f.fault).catch(() => undefined);
      }, f.at),
      setTimeout(() => {
        console.log(`    ${clock(started)}  <<< ${f.what.split(':')[0]} over`);
        void clearFaults(app?.url ?? '').catch(() => undefined);
      }, f.until),
    ]);
    const status = setInterval(() => {
      void activeAlerts(endpoints.alertmanager).then((alerts) => {
        for (const a of alerts) seen.alertNames.add(`${a.labels.alertname}${a.labels.slo ? ` ${a.labels.slo}` : ` ${a.labels.metric ?? ''}`}`);
        const rates = [...burn.entries()].map(([name, f]) => `${name.replace('demo-shop-', '')} burn 5m ${(f.burn_rate_5m ?? 0).toFixed(1)}x 1h ${(f.burn_rate_1h ?? 0).toFixed(1)}x budget ${pct(Math.max(0, f.budget_remaining ?? 1))} (${observedPct(f.observed_share)} observed)`);
        console.log(`    ${clock(started)}  ${rates.join(' | ') || 'SLOs: waiting for the first buckets'} | Alertmanager: ${alerts.length} active`);
      });
    }, 15_000);
    const summary = await load;
    for (const t of timers) clearTimeout(t);
    clearInterval(status);
    await sleep(10_000);
    const finalAlerts = await activeAlerts(endpoints.alertmanager);
    for (const a of finalAlerts) seen.alertNames.add(`${a.labels.alertname}${a.labels.slo ? ` ${a.labels.slo}` : ` ${a.labels.metric ?? ''}`}`);

    console.log('5/5 summary');
    console.log(`    requests ${summary.sent} (${summary.errors} failed), p50 ${summary.latencyMs.p50.toFixed(0)} ms, p95 ${summary.latencyMs.p95.toFixed(0)} ms`);
    const opened = seen.anomalies.filter((e) => e.state === 'OPEN');
    console.log(`    anomaly events opened: ${opened.length} (${[...new Set(opened.map((e) => e.metric))].join(', ') || 'none'})`);
    const fired = seen.slo.filter((e) => e.state === 'FIRING');
    console.log(`    SLO alerts fired: ${fired.map((e) => `${e.slo} ${e.tier}`).join(', ') || 'none'}`);
    console.log(`    alerts seen in Alertmanager: ${[...seen.alertNames].join('; ') || 'none'}`);
    console.log('    open:');
    console.log(`      Alertmanager   ${endpoints.alertmanager}/#/alerts  (API: ${endpoints.alertmanager}/api/v2/alerts)`);
    console.log(`      Prometheus     ${endpoints.prometheus}/graph?g0.expr=${encodeURIComponent('aiops_slo_burn_rate{service="demo-shop"}')}`);
    console.log(`      Jaeger         ${endpoints.traceQuery}/search?service=${SERVICE}`);
    console.log(`      InfluxDB       ${endpoints.influxdb} (bucket aiops/autogen: measurements anomaly, slo, anomaly_event, slo_event)`);
    console.log('    the stack keeps running; stop it with: npm run stack:down');
    const anomalyAlert = [...seen.alertNames].some((n) => n.startsWith('AiopsAnomaly'));
    const sloAlert = [...seen.alertNames].some((n) => n.startsWith('AiopsSlo'));
    if (!anomalyAlert || !sloAlert) console.log(`    expected at least one anomaly alert and one SLO alert in Alertmanager (anomaly: ${anomalyAlert}, SLO: ${sloAlert})`);
    return anomalyAlert && sloAlert ? 0 : 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await stopAll();
  }
}
