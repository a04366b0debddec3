import { httpHost } from '../runtime/process.js';
import { buildHealthServer } from '../runtime/http/health-server.js';
import { createLogger } from '../runtime/logger.js';
import { runtimeMetricsEndpoint } from '../runtime/runtime-metrics.js';
import { aiopsError } from '../runtime/errors.js';
import { kafkaConnectionFromEnv } from '../runtime/kafka-config.js';
import { processKafka } from '../runtime/runner.js';
import { AlertmanagerSink } from '../sinks/alertmanager/alertmanager-sink.js';
import { Credentials } from '../sinks/credentials.js';
import { SinkRunner } from '../sinks/runtime.js';
import type { Sink } from '../sinks/runtime.js';
import { stalenessFromEnv } from '../sinks/staleness.js';
import type { AlertKind } from '../sinks/staleness.js';

/** The sinks `aiops sinks` runs, from the environment (see docs/configuration.md). */
export async function configuredSinks(env: NodeJS.ProcessEnv = process.env): Promise<Sink[]> {
  const log = createLogger('aiops.sinks');
  const sinks: Sink[] = [];
  const wanted = (env.AIOPS_SINKS ?? 'alertmanager').split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = wanted.filter((s) => !['alertmanager', 'grafana', 'influxdb'].includes(s));
  if (unknown.length > 0) throw aiopsError('CONFIG_INVALID', [`  - AIOPS_SINKS: unknown sink ${unknown.join(', ')} (alertmanager, grafana, influxdb)`]);
  if (wanted.includes('alertmanager')) {
    const problems: string[] = [];
    const resend = Number(env.AIOPS_ALERTMANAGER_RESEND_MS ?? 60_000);
    if (!(Number.isInteger(resend) && resend >= 1_000)) problems.push('  - AIOPS_ALERTMANAGER_RESEND_MS: expected whole ms, at least 1000');
    const staleness = stalenessFromEnv(env, problems);
    if (problems.length > 0) throw aiopsError('CONFIG_INVALID', [problems.join('\n')]);
    const credentials = Credentials.fromEnv('AIOPS_ALERTMANAGER', 'Bearer', env);
    sinks.push(
      new AlertmanagerSink({
        url: env.AIOPS_ALERTMANAGER_URL ?? 'http://127.0.0.1:9093',
        resendIntervalMs: resend,
        staleness,
        kafka: processKafka(kafkaConnectionFromEnv(env), 'aiops-sink-alertmanager-active'),
        ...(env.AIOPS_ALERTMANAGER_ACTIVE_TOPIC ? { activeTopic: env.AIOPS_ALERTMANAGER_ACTIVE_TOPIC } : {}),
        ...(credentials ? { credentials } : {}),
        ...(env.AIOPS_RUNBOOK_URL ? { runbookUrl: env.AIOPS_RUNBOOK_URL } : {}),
        ...(env.AIOPS_DASHBOARD_URL ? { dashboardUrl: env.AIOPS_DASHBOARD_URL } : {}),
        log,
      }),
    );
  }
  if (wanted.includes('grafana')) {
    const { grafanaSinkFromEnv } = await import('../sinks/grafana/grafana-sink.js');
    sinks.push(grafanaSinkFromEnv(env, log));
  }
  if (wanted.includes('influxdb')) {
    const { influxSinkFromEnv } = await import('../sinks/influxdb/influxdb-sink.js');
    sinks.push(influxSinkFromEnv(env, log));
  }
  return sinks;
}

/** A sink that resolves stale alerts counts them per kind. */
function staleCounts(sink: Sink | undefined): Record<AlertKind, number> | undefined {
  const stats = (sink as { stats?: { stale?: Record<AlertKind, number> } } | undefined)?.stats;
  return stats?.stale;
}

/** The sinks' `/metrics`: counters per sink, and `aiops_sink_ready` 1/0 (what the alert rules watch). */
export function renderStats(runners: readonly Pick<SinkRunner, 'stats' | 'ready'>[], names: readonly string[], sinks: readonly Sink[] = []): string {
  const lines: string[] = [];
  const metric = (name: string, type: 'counter' | 'gauge', help: string, pick: (r: Pick<SinkRunner, 'stats' | 'ready'>) => number): void => {
    lines.push(`# HELP aiops_sink_${name} ${help}`, `# TYPE aiops_sink_${name} ${type}`);
    runners.forEach((r, i) => lines.push(`aiops_sink_${name}{sink="${names[i] ?? ''}"} ${pick(r)}`));
  };
  metric('delivered_total', 'counter', 'Events the target accepted', (r) => r.stats.delivered);
  metric('retries_total', 'counter', 'Delivery attempts the target refused or did not answer', (r) => r.stats.retries);
  metric('dead_letters_total', 'counter', 'Records that were not events, sent to aiops.dlq.v1', (r) => r.stats.deadLetters);
  metric('consumer_restarts_total', 'counter', 'Consumer restarts after a crash on a transient broker error', (r) => r.stats.consumerRestarts);
  metric('ready', 'gauge', 'Whether the sink consumes (1) or not (0), as /ready answers', (r) => (r.ready ? 1 : 0));
  metric('state_loaded', 'gauge', 'Entries read from the sink state topic at start (active alerts, annotation ids)', (r) => r.stats.rebuilt);
  lines.push('# HELP aiops_sink_stale_resolved_total Alerts resolved (Alertmanager) or regions closed (Grafana) because their source said nothing about them for the stale time', '# TYPE aiops_sink_stale_resolved_total counter');
  sinks.forEach((sink, i) => {
    const stale = staleCounts(sink);
    if (stale) for (const kind of ['anomaly', 'slo'] as const) lines.push(`aiops_sink_stale_resolved_total{sink="${names[i] ?? ''}",kind="${kind}"} ${stale[kind]}`);
  });
  return `${lines.join('\n')}\n`;
}

/**
 * `aiops sinks`: runs the configured sinks (AIOPS_SINKS, default alertmanager), each its own
 * consumer group on aiops.anomalies.v1 and aiops.slo.v1, with /health, /ready and /metrics. The
 * Alertmanager sink keeps its active alerts in aiops.sink.alertmanager.active and the Grafana sink
 * its annotation ids in aiops.sink.grafana.annotations (both compacted); both resolve alerts whose
 * source went silent (AIOPS_SINKS_STALE_ANOMALY_MS, AIOPS_SINKS_STALE_SLO_MS).
 */
export async function runSinks(_argv: string[]): Promise<number> {
  const log = createLogger('aiops.sinks');
  // Brokers, TLS and SASL (AIOPS_KAFKA_*, and their _FILE forms), every problem at once.
  const connection = kafkaConnectionFromEnv();
  const port = Number(process.env.AIOPS_SINKS_PORT ?? 9466);
  const sinks = await configuredSinks();
  const { influxTopics } = await import('../sinks/influxdb/influxdb-sink.js');
  // Other event topics and groups (AIOPS_SINKS_TOPICS, AIOPS_SINKS_GROUP_PREFIX): a second
  // pipeline on the same broker, or a test's topics.
  const eventTopics = (process.env.AIOPS_SINKS_TOPICS ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  const groupPrefix = process.env.AIOPS_SINKS_GROUP_PREFIX || 'aiops.sink.';
  const session = process.env.AIOPS_KAFKA_SESSION_TIMEOUT_MS === undefined ? undefined : Number(process.env.AIOPS_KAFKA_SESSION_TIMEOUT_MS);
  if (session !== undefined && !(Number.isInteger(session) && session >= 6_000)) throw aiopsError('CONFIG_INVALID', ['  - AIOPS_KAFKA_SESSION_TIMEOUT_MS: expected an integer of at least 6000 (ms)']);
  const runners = sinks.map(
    (sink) =>
      new SinkRunner({
        kafka: processKafka(connection, `aiops-sink-${sink.name}`),
        sink,
        log: log.child({ sink: sink.name }),
        groupId: `${groupPrefix}${sink.name}`,
        ...(session === undefined ? {} : { sessionTimeoutMs: session }),
        ...(sink.name === 'influxdb' ? { topics: influxTopics } : eventTopics.length > 0 ? { topics: eventTopics } : {}),
      }),
  );
  const runtime = runtimeMetricsEndpoint('sinks');
  const server = buildHealthServer({
    live: () => true,
    ready: () => runners.every((r) => r.ready),
    // Beside the sinks' counters, the Node.js runtime metrics (process="sinks"; runtime/runtime-metrics.ts).
    metrics: async () => `${renderStats(runners, sinks.map((s) => s.name), sinks)}${await runtime.render()}`,
    detail: () => ({ sinks: sinks.map((s, i) => ({ name: s.name, ready: runners[i]?.ready ?? false, ...runners[i]?.stats })) }),
  });
  if (port > 0) await server.listen({ port, host: httpHost('sinks') });
  try {
    for (const r of runners) await r.start();
  } catch (error) {
    // Wrong Kafka credentials or certificates: end with the error rather than hold the port open.
    for (const r of runners) await r.stop().catch(() => undefined);
    await server.close().catch(() => undefined);
    throw error;
  }
  log.info({ sinks: sinks.map((s) => s.name), port }, 'sinks started');
  const stop = async (): Promise<void> => {
    for (const r of runners) await r.stop();
    await server.close();
    await runtime.shutdown();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  return new Promise<number>(() => undefined);
}
