import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { AnomalyStage, BandBoard, parseAnomalyStageConfig } from '../processors/anomaly/index.js';
import { SloBoard, SloStage, sloIngestRules } from '../processors/slo/index.js';
import { loadSlos } from './slo-command.js';
import { sloTopic } from '../schemas/slo.js';
import { measurementsTopic } from '../schemas/measurements.js';
import { evaluateFactory, evaluateInputTopic, evaluateOutputTopics } from '../processors/evaluate/index.js';
import { defaultRules, ingestFactory, ingestInputTopic, parseIngestConfig } from '../processors/ingest/index.js';
import { aiopsError } from '../runtime/errors.js';
import { parseKafkaConnection } from '../runtime/kafka-config.js';
import type { KafkaConnection } from '../runtime/kafka-config.js';
import { httpHost, runProcess } from '../runtime/process.js';
import { processKafka } from '../runtime/runner.js';
import type { BadRecordPolicy } from '../runtime/types.js';

const policies: readonly BadRecordPolicy[] = ['dead-letter', 'skip', 'fail'];

function readConfigFile(path: string | undefined): Record<string, unknown> {
  if (!path) return {};
  return (parseYaml(readFileSync(path, 'utf8')) ?? {}) as Record<string, unknown>;
}

function common(component: string, defaultPort: number): { connection: KafkaConnection; port: number; policy: BadRecordPolicy; sessionTimeoutMs?: number; commitIntervalMs?: number; commitWhenCaughtUp?: boolean } {
  const upper = component.toUpperCase();
  const port = Number(process.env[`AIOPS_${upper}_PORT`] ?? defaultPort);
  const policy = (process.env[`AIOPS_${upper}_BAD_RECORDS`] ?? 'dead-letter') as BadRecordPolicy;
  const kafkaProblems: string[] = [];
  // Brokers, TLS and SASL (AIOPS_KAFKA_*, and their _FILE forms), checked with the rest.
  const connection = parseKafkaConnection(process.env, kafkaProblems);
  const problems = kafkaProblems.map((p) => `  - ${p}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`  - AIOPS_${upper}_PORT: expected a port number`);
  if (!policies.includes(policy)) problems.push(`  - AIOPS_${upper}_BAD_RECORDS: expected one of ${policies.join(', ')}`);
  const interval = process.env.AIOPS_KAFKA_COMMIT_INTERVAL_MS;
  const commitIntervalMs = interval === undefined ? undefined : Number(interval);
  if (commitIntervalMs !== undefined && !(Number.isInteger(commitIntervalMs) && commitIntervalMs >= 0)) problems.push('  - AIOPS_KAFKA_COMMIT_INTERVAL_MS: expected a whole number of ms (0 commits every batch)');
  const whenCaughtUp = process.env.AIOPS_KAFKA_COMMIT_WHEN_CAUGHT_UP;
  if (whenCaughtUp !== undefined && whenCaughtUp !== 'true' && whenCaughtUp !== 'false') problems.push('  - AIOPS_KAFKA_COMMIT_WHEN_CAUGHT_UP: expected true or false');
  const session = process.env.AIOPS_KAFKA_SESSION_TIMEOUT_MS;
  const sessionTimeoutMs = session === undefined ? undefined : Number(session);
  if (sessionTimeoutMs !== undefined && !(Number.isInteger(sessionTimeoutMs) && sessionTimeoutMs >= 6_000)) problems.push('  - AIOPS_KAFKA_SESSION_TIMEOUT_MS: expected an integer of at least 6000 (ms)');
  if (problems.length > 0 || !connection) throw aiopsError('CONFIG_INVALID', [problems.join('\n')]);
  return { connection, port, policy, ...(sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs }), ...(commitIntervalMs === undefined ? {} : { commitIntervalMs }), ...(whenCaughtUp === undefined ? {} : { commitWhenCaughtUp: whenCaughtUp === 'true' }) };
}

/** `aiops ingest [--config file.yaml]`: runs the ingest processor until SIGTERM/SIGINT. */
export async function runIngest(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string' }, slo: { type: 'string' } } });
  const file = readConfigFile(values.config ?? process.env.AIOPS_INGEST_CONFIG);
  const section = (file.ingest ?? {}) as Record<string, unknown>;
  const env = process.env;
  // Every SLO gets its own filtered rule, so its signal is one key (see processors/slo/signals.ts).
  const slos = loadSlos(values.slo ?? env.AIOPS_SLO_PATHS);
  const config = parseIngestConfig({
    ...section,
    rules: [...((section.rules as unknown[] | undefined) ?? defaultRules), ...sloIngestRules(slos)],
    ...(env.AIOPS_INGEST_BUCKET_MS ? { bucketMs: Number(env.AIOPS_INGEST_BUCKET_MS) } : {}),
    ...(env.AIOPS_INGEST_LATENESS_MS ? { allowedLatenessMs: Number(env.AIOPS_INGEST_LATENESS_MS) } : {}),
    ...(env.AIOPS_INGEST_IDLE_MS ? { idleTimeoutMs: Number(env.AIOPS_INGEST_IDLE_MS) } : {}),
    ...(env.AIOPS_INGEST_MAX_SERIES ? { maxSeries: Number(env.AIOPS_INGEST_MAX_SERIES) } : {}),
    ...(env.AIOPS_INGEST_ENCODING ? { encoding: env.AIOPS_INGEST_ENCODING } : {}),
    ...(env.AIOPS_INGEST_SIGNALS_TOPIC ? { signalsTopic: env.AIOPS_INGEST_SIGNALS_TOPIC } : {}),
  });
  const { connection, port, policy, sessionTimeoutMs, commitIntervalMs, commitWhenCaughtUp } = common('ingest', 9464);
  await runProcess({
    name: env.AIOPS_INGEST_NAME ?? 'ingest',
    kafka: processKafka(connection, 'aiops-ingest'),
    ...(env.AIOPS_INGEST_MAX_BATCH_BYTES ? { maxBytesPerPartition: Number(env.AIOPS_INGEST_MAX_BATCH_BYTES) } : {}),
    inputTopic: env.AIOPS_INGEST_TOPIC ?? ingestInputTopic,
    // Where a new consumer group starts: the whole retained topic (default) or only new records.
    fromBeginning: (env.AIOPS_INGEST_START ?? 'earliest') !== 'latest',
    outputTopics: [config.signalsTopic],
    factory: ingestFactory(config),
    badRecordPolicy: policy,
    ...(sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs }),
    ...(commitIntervalMs === undefined ? {} : { commitIntervalMs }),
    ...(commitWhenCaughtUp === undefined ? {} : { commitWhenCaughtUp }),
    idleTimeoutMs: config.idleTimeoutMs,
    port,
    host: httpHost('ingest'),
    handleSignals: true,
  });
  return new Promise<number>(() => undefined);
}

/**
 * `aiops evaluate [--config file.yaml]`: runs the evaluate processor, with the anomaly stage
 * configured by the file's `anomaly:` section, until SIGTERM/SIGINT.
 */
export async function runEvaluate(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string' }, slo: { type: 'string' } } });
  const file = readConfigFile(values.config ?? process.env.AIOPS_EVALUATE_CONFIG);
  const anomaly = parseAnomalyStageConfig(file.anomaly ?? {});
  const slos = loadSlos(values.slo ?? process.env.AIOPS_SLO_PATHS);
  const { connection, port, policy, sessionTimeoutMs, commitIntervalMs, commitWhenCaughtUp } = common('evaluate', 9465);
  const bands = new BandBoard(anomaly.bands, anomaly.maxBandSeries);
  const sloBoard = new SloBoard();
  // Where signal values, SLO events and SLO measurements go (the anomaly topics are in the file).
  const valuesTopic = process.env.AIOPS_EVALUATE_VALUES_TOPIC || evaluateOutputTopics[0];
  const sloEvents = process.env.AIOPS_EVALUATE_SLO_TOPIC || sloTopic;
  const sloMeasurements = process.env.AIOPS_EVALUATE_MEASUREMENTS_TOPIC || measurementsTopic;
  await runProcess({
    name: process.env.AIOPS_EVALUATE_NAME ?? 'evaluate',
    kafka: processKafka(connection, 'aiops-evaluate'),
    ...(process.env.AIOPS_EVALUATE_MAX_BATCH_BYTES ? { maxBytesPerPartition: Number(process.env.AIOPS_EVALUATE_MAX_BATCH_BYTES) } : {}),
    inputTopic: process.env.AIOPS_EVALUATE_TOPIC ?? evaluateInputTopic,
    outputTopics: [...new Set([valuesTopic, ...(anomaly.enabled ? [anomaly.topic] : []), sloEvents, ...(anomaly.measurementsTopic ? [anomaly.measurementsTopic] : []), sloMeasurements])],
    factory: evaluateFactory({
      valuesTopic,
      consumers: () => [
        ...(anomaly.enabled ? [new AnomalyStage(anomaly, bands)] : []),
        ...(slos.length > 0 ? [new SloStage(slos, { board: sloBoard, topic: sloEvents, measurementsTopic: sloMeasurements })] : []),
      ],
    }),
    instruments: (meter) => {
      bands.register(meter);
      sloBoard.register(meter);
    },
    badRecordPolicy: policy,
    ...(sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs }),
    ...(commitIntervalMs === undefined ? {} : { commitIntervalMs }),
    ...(commitWhenCaughtUp === undefined ? {} : { commitWhenCaughtUp }),
    idleTimeoutMs: Number(process.env.AIOPS_EVALUATE_IDLE_MS ?? 5_000),
    port,
    host: httpHost('evaluate'),
    handleSignals: true,
  });
  return new Promise<number>(() => undefined);
}
