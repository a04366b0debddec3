import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultRules, ingestFactory, parseIngestConfig } from '../../processors/ingest/index.js';
import { evaluateFactory } from '../../processors/evaluate/index.js';
import { AiopsError } from '../../runtime/errors.js';
import { kafkaConnectionFromEnv } from '../../runtime/kafka-config.js';
import type { KafkaConnection } from '../../runtime/kafka-config.js';
import { decodeMetricsRequest } from '../../runtime/otlp/index.js';
import { runProcess } from '../../runtime/process.js';
import type { RunningProcess } from '../../runtime/process.js';
import { processKafka } from '../../runtime/runner.js';
import { anomalyEventId, anomalySerde } from '../../schemas/anomalies.js';
import type { AnomalyEvent } from '../../schemas/anomalies.js';
import { signalValueSerde } from '../../schemas/index.js';
import { AlertmanagerSink } from '../../sinks/alertmanager/alertmanager-sink.js';
import { SinkRunner } from '../../sinks/runtime.js';
import { collectMessages, createTopics, endOffsets, externalEndpoints, kafkaClient } from '../../stack/clients/index.js';
import type { SaslSslEndpoint } from '../../stack/clients/index.js';
import { otelcolBinary, otelcolConfigFiles } from '../../stack/components/otelcol.js';
import { loadStackConfig, projectRoot } from '../../stack/config.js';
import { eventually } from '../helpers/eventually.js';
import { stackEndpoints } from '../helpers/stack.js';
import { sumRecord } from '../helpers/otlp.js';

/** A pino logger whose lines stay in memory, so the test can search them for secrets. */
function capturingLogger(lines: string[]): pino.Logger {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return pino({ level: 'debug' }, sink);
}

function saslEnv(sasl: SaslSslEndpoint, overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    AIOPS_KAFKA_BROKERS: sasl.brokers.join(','),
    AIOPS_KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
    AIOPS_KAFKA_SSL_CA_FILE: sasl.caFile,
    AIOPS_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
    AIOPS_KAFKA_SASL_USERNAME: sasl.username,
    AIOPS_KAFKA_SASL_PASSWORD: sasl.password,
    ...overrides,
  };
}

function counter(service: string, timeMs: number, value: number, startMs: number): Buffer {
  return sumRecord({ service, value, startMs, timeMs, instance: 'i1' });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Runs `aiops <command>` with `env` added; resolves with its exit code and stderr. */
function aiops(command: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(projectRoot, 'bin/aiops.js'), command], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`aiops ${command} still running after ${timeoutMs} ms; stderr:\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/**
 * The platform over the local stack's SASL_SSL listener only (TLS with the stack's CA,
 * SCRAM-SHA-512): input written, ingest, evaluate, the Alertmanager sink and the results read back
 * all over SASL_SSL; the collector's Kafka exporter with the TLS and SASL overlays; and wrong
 * credentials or an untrusted CA ending a start with one error that names the broker.
 */
describe.skipIf(externalEndpoints() !== undefined)('Kafka over SASL_SSL only', () => {
  const endpoints = stackEndpoints();
  const run = randomUUID().slice(0, 8);
  const service = `sasl-${run}`;
  const input = `test.sasl-in.${run}`;
  const signalsTopic = `test.sasl-signals.${run}`;
  const valuesTopic = `test.sasl-values.${run}`;
  const anomaliesTopic = `test.sasl-anomalies.${run}`;
  const logs: string[] = [];
  const log = capturingLogger(logs);
  const processes: RunningProcess[] = [];
  let runner: SinkRunner | undefined;
  let sasl: SaslSslEndpoint;
  let connection: KafkaConnection;
  const dir = mkdtempSync(join(tmpdir(), 'aiops-sasl-'));
  const untrustedCa = join(dir, 'untrusted-ca.pem');
  writeFileSync(untrustedCa, rootCertificates[0] ?? '');

  beforeAll(() => {
    if (!endpoints.kafkaSaslSsl) throw new Error('the local stack has no SASL_SSL listener yet (run `aiops stack up` with this checkout; its Kafka must be restarted once to get it)');
    sasl = endpoints.kafkaSaslSsl;
    connection = kafkaConnectionFromEnv(saslEnv(sasl));
  });

  afterAll(async () => {
    await runner?.stop();
    for (const p of processes) await p.stop();
  });

  it('runs ingest → evaluate → the Alertmanager sink with every client on SASL_SSL, and no log line holds the password', async () => {
    const kafka = kafkaClient(connection, 'test-sasl');
    await createTopics(kafka, [input, anomaliesTopic], 1);
    const t0 = Math.floor(Date.now() / 2_000) * 2_000 - 20_000;
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: input, messages: [0, 1, 2, 3].map((i) => ({ key: service, value: counter(service, t0 + i * 2_000 + 500, 10 * (i + 1), t0) })) });
    await producer.disconnect();

    const config = parseIngestConfig({
      rules: [...defaultRules, { name: 'requests', metric: 'http.server.requests', kind: 'counter', groupBy: ['service.name'] }],
      bucketMs: 2_000,
      allowedLatenessMs: 0,
      idleTimeoutMs: 500,
      signalsTopic,
    });
    processes.push(await runProcess({ name: `sasl-ingest-${run}`, kafka: processKafka(connection, 'test-sasl-ingest', log), log, inputTopic: input, outputTopics: [signalsTopic], factory: ingestFactory(config), idleTimeoutMs: 500, port: 0 }));
    processes.push(await runProcess({ name: `sasl-evaluate-${run}`, kafka: processKafka(connection, 'test-sasl-evaluate', log), log, inputTopic: signalsTopic, outputTopics: [valuesTopic], factory: evaluateFactory({ valuesTopic }), idleTimeoutMs: 500, port: 0 }));

    const values = await collectMessages(kafka, { topic: valuesTopic, count: 2, timeoutMs: 60_000, filter: (m) => (m.key?.toString() ?? '').includes(service) });
    const decoded = values.map((m) => signalValueSerde.deserialize(m.value as Buffer));
    expect(decoded.every((v) => v.rule === 'requests' && v.dimensions['service.name'] === service)).toBe(true);
    expect(decoded.some((v) => v.count > 0)).toBe(true);

    // The sink: an anomaly event written over SASL_SSL becomes an alert in the real Alertmanager.
    runner = new SinkRunner({
      kafka: processKafka(connection, 'test-sasl-sink', log),
      topics: [anomaliesTopic],
      sink: new AlertmanagerSink({ url: endpoints.alertmanager, resendIntervalMs: 5_000, log }),
      log,
      maxBackoffMs: 2_000,
    });
    await runner.start();
    const signal = `http{service.name="${service}",http.route="/api/pay"}`;
    const now = Date.now();
    const event: AnomalyEvent = {
      id: anomalyEventId(signal, 'http.p95', now, 1), timestamp: now, metric: 'http.p95', signal, expected_value: 0.12, actual_value: 2.4, lower: 0.08, upper: 0.16,
      deviation: 2.28, score: 0.97, confidence: 0.8, severity: 'critical', state: 'OPEN', detector: 'holt-winters', mode: 'seasonal', started_at: now,
      context: { service, endpoint: '/api/pay', dimensions: {} },
    };
    const eventProducer = kafka.producer();
    await eventProducer.connect();
    await eventProducer.send({ topic: anomaliesTopic, messages: [{ key: signal, value: anomalySerde.serialize(event) }] });
    await eventProducer.disconnect();
    const alert = await eventually('the alert in Alertmanager', async () => {
      const response = await fetch(`${endpoints.alertmanager}/api/v2/alerts?active=true`);
      return ((await response.json()) as { labels: Record<string, string> }[]).find((a) => a.labels.service === service);
    }, { timeoutMs: 60_000 });
    expect(alert.labels.service).toBe(service);

    expect(logs.length).toBeGreaterThan(0);
    expect(logs.join('')).not.toContain(sasl.password);
  });

  it('ends a start with a wrong password in AIOPS_ERR_KAFKA_AUTH naming the broker, not retries', async () => {
    const wrong = kafkaConnectionFromEnv(saslEnv(sasl, { AIOPS_KAFKA_SASL_PASSWORD: `not-${sasl.password}` }));
    const error = await runProcess({ name: `sasl-wrong-${run}`, kafka: processKafka(wrong, 'test-sasl-wrong', log), log, inputTopic: input, factory: ingestFactory(parseIngestConfig({ rules: defaultRules })), port: 0 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AiopsError);
    expect((error as AiopsError).code).toBe('AIOPS_ERR_KAFKA_AUTH');
    expect((error as Error).message).toContain(sasl.brokers[0]);
    expect((error as Error).message).not.toContain(sasl.password);

    // The sink runner the same way.
    const sink = new SinkRunner({ kafka: processKafka(wrong, 'test-sasl-wrong-sink', log), topics: [anomaliesTopic], sink: new AlertmanagerSink({ url: endpoints.alertmanager, log }), log });
    await expect(sink.start()).rejects.toMatchObject({ code: 'AIOPS_ERR_KAFKA_AUTH' });
    await sink.stop();
  }, 30_000);

  // Bounded by the test timeout: kafkajs alone would retry these connections (they are retriable
  // to it) with growing back-off before giving up.
  it.each([
    ['an untrusted CA', { AIOPS_KAFKA_SSL_CA_FILE: untrustedCa }, /not trusted/],
    ['a server name the certificate does not hold', { AIOPS_KAFKA_SSL_SERVERNAME: 'kafka.invalid' }, /does not name this host/],
  ])('ends a start with %s in AIOPS_ERR_KAFKA_TLS naming the broker', async (_what, overrides, reason) => {
    const untrusted = kafkaConnectionFromEnv(saslEnv(sasl, overrides));
    const error = await runProcess({ name: `sasl-tls-${run}`, kafka: processKafka(untrusted, 'test-sasl-tls', log), log, inputTopic: input, factory: ingestFactory(parseIngestConfig({ rules: defaultRules })), port: 0 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as AiopsError).code).toBe('AIOPS_ERR_KAFKA_TLS');
    expect((error as Error).message).toContain(sasl.brokers[0]);
    expect((error as Error).message).toMatch(reason);
  }, 5_000);

  it('ends `aiops evaluate` with a wrong password and `aiops sinks` with an untrusted CA: exit 1, one line naming the broker', async () => {
    const evaluate = await aiops('evaluate', { ...saslEnv(sasl, { AIOPS_KAFKA_SASL_PASSWORD: `not-${sasl.password}` }), AIOPS_EVALUATE_PORT: '0', AIOPS_EVALUATE_NAME: `sasl-cli-${run}`, AIOPS_LOG_LEVEL: 'warn' }, 60_000);
    expect(evaluate.code).toBe(1);
    const evaluateLine = evaluate.stderr.split('\n').find((l) => l.startsWith('aiops: '));
    expect(evaluateLine).toMatch(new RegExp(`^aiops: AIOPS_ERR_KAFKA_AUTH: Kafka broker ${sasl.brokers[0]?.replace(/\./g, '\\.')} refused SASL authentication`));
    expect(evaluate.stderr).not.toContain(sasl.password);

    const sinks = await aiops('sinks', { ...saslEnv(sasl, { AIOPS_KAFKA_SSL_CA_FILE: untrustedCa }), AIOPS_SINKS_PORT: String(await freePort()), AIOPS_ALERTMANAGER_URL: endpoints.alertmanager, AIOPS_LOG_LEVEL: 'warn' }, 60_000);
    expect(sinks.code).toBe(1);
    const sinksLine = sinks.stderr.split('\n').find((l) => l.startsWith('aiops: '));
    expect(sinksLine).toMatch(new RegExp(`^aiops: AIOPS_ERR_KAFKA_TLS: TLS connection to Kafka broker ${sasl.brokers[0]?.replace(/\./g, '\\.')} failed: .*not trusted`));
    expect(sinks.stderr).not.toContain(sasl.password);
  }, 120_000);

  it('exports OTLP metrics through a collector whose Kafka exporter uses the TLS and SASL overlays', async () => {
    const stack = loadStackConfig();
    const ports = { grpc: await freePort(), http: await freePort(), prometheus: await freePort(), health: await freePort(), telemetry: await freePort() };
    const kafka = kafkaClient(connection, 'test-sasl-otelcol');
    const start = await endOffsets(kafka, 'otlp_metrics');
    const collector = spawn(otelcolBinary(stack), otelcolConfigFiles('SASL_SSL').flatMap((f) => ['--config', f]), {
      env: {
        ...process.env,
        ...saslEnv(sasl),
        AIOPS_OTELCOL_GRPC_ENDPOINT: `127.0.0.1:${ports.grpc}`,
        AIOPS_OTELCOL_HTTP_ENDPOINT: `127.0.0.1:${ports.http}`,
        AIOPS_OTELCOL_PROMETHEUS_ENDPOINT: `127.0.0.1:${ports.prometheus}`,
        AIOPS_OTELCOL_HEALTH_ENDPOINT: `127.0.0.1:${ports.health}`,
        AIOPS_OTELCOL_TELEMETRY_HOST: '127.0.0.1',
        AIOPS_OTELCOL_TELEMETRY_PORT: String(ports.telemetry),
        AIOPS_TRACES_OTLP_ENDPOINT: endpoints.otlpGrpc,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let output = '';
    collector.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await eventually('the collector healthy', async () => (await fetch(`http://127.0.0.1:${ports.health}/`).then((r) => r.ok, () => false)) || undefined, { timeoutMs: 30_000 });
      const otlpService = `${service}-otelcol`;
      const body = counter(otlpService, Date.now(), 1, Date.now() - 1_000);
      const response = await fetch(`http://127.0.0.1:${ports.http}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
      expect(response.status).toBe(200);
      const [message] = await collectMessages(kafka, {
        topic: 'otlp_metrics',
        count: 1,
        startOffsets: start,
        timeoutMs: 60_000,
        filter: (m) => m.value !== null && decodeMetricsRequest(m.value).resourceMetrics.some((rm) => rm.resource['service.name'] === otlpService),
      });
      expect(message).toBeDefined();
      expect(output).not.toContain(sasl.password);
    } finally {
      collector.kill('SIGTERM');
      await new Promise((resolve) => collector.once('exit', resolve));
    }
  }, 120_000);
});
