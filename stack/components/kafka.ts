import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { retryKafka } from '../../runtime/retry.js';
import { projectRoot, versions } from '../config.js';
import type { StackConfig } from '../config.js';
import { fileHash, isComplete, markComplete, requireTool, runLogged } from '../install.js';
import type { Health, LaunchSpec, StackComponent } from '../types.js';
import { ensureBrokerCertificates, podGateway, runRedacted, securityFiles, stackCredentials } from './kafka-security.js';
import type { KafkaStackCredentials } from './kafka-security.js';

const { Kafka, logLevel } = kafkajs;

/** Topics the stack creates with the configured partition count. */
export const stackTopics = ['otlp_metrics'] as const;

const pom = join(projectRoot, 'stack/kafka/pom.xml');

function libsDir(config: StackConfig): string {
  return join(config.cacheDir, 'kafka', `${versions.kafka}-${fileHash(pom)}`);
}

export function kafkaBrokers(config: StackConfig): string[] {
  return [`${config.host}:${config.ports.kafka.broker}`];
}

/** Bootstrap address of the SASL_SSL listener (TLS with the stack's CA, SCRAM-SHA-256/512 or PLAIN). */
export function kafkaSaslSslBrokers(config: StackConfig): string[] {
  return [`${config.host}:${config.ports.kafka.saslSsl}`];
}

/** Bootstrap address of the plaintext listener for pods, as a container behind the pod gateway sees it. */
export function kafkaPodBrokers(config: StackConfig): string[] {
  return [`${podGateway()}:${config.ports.kafka.pod}`];
}

const scramMechanisms = ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

/**
 * A KRaft cluster id: 16 random bytes in base64url, drawn again while the text starts with '-'
 * (one draw in 64), which the storage tool would read as an option and refuse.
 */
export function newClusterId(draw: () => Buffer = () => randomBytes(16)): string {
  for (;;) {
    const id = draw().toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Marks which SCRAM user the data dir holds, so it is created once per data dir and password. */
function scramMarker(dataDir: string, credentials: KafkaStackCredentials): { file: string; content: string } {
  const digest = createHash('sha256').update(`${credentials.username}\0${credentials.password}`).digest('hex');
  return { file: join(dataDir, 'aiops-scram-users'), content: `${credentials.username} ${digest}\n` };
}

function admin(config: StackConfig) {
  return new Kafka({
    clientId: 'aiops-stack',
    brokers: kafkaBrokers(config),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 3_000,
    retry: { retries: 0 },
  }).admin();
}

/** Fills `${NAME}` placeholders; an unknown name is an error, never an empty string. */
export function renderTemplate(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`template placeholder \${${name}} has no value`);
    return value;
  });
}

export const kafka: StackComponent = {
  name: 'kafka',
  title: 'Apache Kafka (KRaft)',
  startTimeoutMs: 60_000,

  async install(config, log) {
    const dir = libsDir(config);
    if (isComplete(dir)) return;
    requireTool('java', 'the Kafka broker runs on the JDK');
    requireTool('mvn', 'the Kafka jars are resolved from Maven Central');
    log(`resolving Apache Kafka ${versions.kafka} jars with Maven`);
    const staging = `${dir}.partial`;
    rmSync(staging, { recursive: true, force: true });
    await runLogged(
      'mvn',
      ['-q', '-B', '-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${join(staging, 'libs')}`, '-DincludeScope=runtime', `-Dkafka.version=${versions.kafka}`],
      { logFile: join(config.logDir, 'install-kafka.log'), what: 'Apache Kafka' },
    );
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
    markComplete(dir, `kafka ${versions.kafka}`);
  },

  async prepare(config) {
    const runDir = join(config.runDir, 'kafka');
    const dataDir = join(config.dataDir, 'kafka');
    mkdirSync(runDir, { recursive: true });
    mkdirSync(dataDir, { recursive: true });
    const tls = await ensureBrokerCertificates(config);
    const credentials = stackCredentials(config);
    const properties = renderTemplate(readFileSync(join(projectRoot, 'compose/kafka/server.properties'), 'utf8'), {
      AIOPS_KAFKA_HOST: config.host,
      AIOPS_KAFKA_PORT: String(config.ports.kafka.broker),
      AIOPS_KAFKA_CONTROLLER_PORT: String(config.ports.kafka.controller),
      AIOPS_KAFKA_SASL_SSL_PORT: String(config.ports.kafka.saslSsl),
      AIOPS_KAFKA_POD_PORT: String(config.ports.kafka.pod),
      AIOPS_KAFKA_POD_HOST: podGateway(),
      AIOPS_KAFKA_SSL_KEYSTORE: tls.keystore,
      AIOPS_KAFKA_SSL_TRUSTSTORE: tls.truststore,
      AIOPS_KAFKA_SSL_STORE_PASSWORD: tls.storePassword,
      AIOPS_KAFKA_SASL_USERNAME: credentials.username,
      AIOPS_KAFKA_SASL_PASSWORD: credentials.password,
      AIOPS_KAFKA_LOG_DIRS: dataDir,
    });
    const propertiesFile = join(runDir, 'server.properties');
    // It holds the store password and the PLAIN user's password.
    writeFileSync(propertiesFile, properties, { mode: 0o600 });
    chmodSync(propertiesFile, 0o600);
    const classpath = join(libsDir(config), 'libs', '*');
    const java = requireTool('java', 'the Kafka broker runs on the JDK');
    const log4j = `-Dlog4j.configuration=file:${join(projectRoot, 'compose/kafka/log4j.properties')}`;
    if (!existsSync(join(dataDir, 'meta.properties'))) {
      // KRaft storage must be formatted once with a cluster id before the first start.
      // The SCRAM users go into the first metadata records; a data dir formatted before the
      // SASL_SSL listener existed gets them through the admin API after start (afterStart).
      const clusterId = newClusterId();
      const scram = scramMechanisms.flatMap((m) => ['--add-scram', `${m}=[name=${credentials.username},password=${credentials.password}]`]);
      await runRedacted(java, ['-cp', classpath, log4j, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propertiesFile, '--ignore-formatted', ...scram], {
        logFile: join(config.logDir, 'kafka.log'),
        what: 'Kafka storage format',
        secrets: [credentials.password],
      });
      const marker = scramMarker(dataDir, credentials);
      writeFileSync(marker.file, marker.content);
    }
    return {
      command: java,
      args: [
        '-Xms256m',
        `-Xmx${process.env.AIOPS_STACK_KAFKA_HEAP ?? '1g'}`,
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-Djava.awt.headless=true',
        log4j,
        '-cp',
        classpath,
        'kafka.Kafka',
        propertiesFile,
      ],
    } satisfies LaunchSpec;
  },

  async probe(config): Promise<Health> {
    const client = admin(config);
    try {
      await client.connect();
      const cluster = await client.describeCluster();
      return { healthy: cluster.brokers.length > 0, detail: `${cluster.brokers.length} broker(s), controller ${cluster.controller}` };
    } catch (error) {
      return { healthy: false, detail: `metadata request failed: ${(error as Error).message}` };
    } finally {
      await client.disconnect().catch(() => undefined);
    }
  },

  async afterStart(config) {
    await ensureScramUsers(config);
    const client = admin(config);
    try {
      // A broker that has just answered its health probe may still be electing leaders or loading
      // its metadata: those answers are waited out (the admin itself does not retry).
      await retryKafka('connecting to the stack broker', () => client.connect());
      const existing = new Set(await retryKafka('listing the stack topics', () => client.listTopics()));
      const missing = stackTopics.filter((topic) => !existing.has(topic));
      if (missing.length > 0) {
        // Repeatable: topics an earlier attempt created make createTopics answer false, not fail.
        await retryKafka(`creating the stack topics ${missing.join(', ')}`, () =>
          client.createTopics({
            topics: missing.map((topic) => ({ topic, numPartitions: config.partitions, replicationFactor: 1 })),
            waitForLeaders: true,
          }),
        );
      }
    } finally {
      await client.disconnect().catch(() => undefined);
    }
  },

  addresses(config) {
    const files = securityFiles(config);
    return {
      brokers: kafkaBrokers(config).join(','),
      saslSslBrokers: kafkaSaslSslBrokers(config).join(','),
      saslSslCaFile: files.caFile,
      saslSslCredentialsFile: files.credentialsFile,
      podBrokers: kafkaPodBrokers(config).join(','),
    };
  },

  ports(config) {
    const p = config.ports.kafka;
    return [p.broker, p.controller, p.saslSsl, p.pod];
  },
};

/**
 * Creates the stack's SCRAM user (both mechanisms) through the admin API when the data dir does
 * not hold it yet: a data dir formatted by an older configuration, or a changed password.
 * kafkajs cannot alter SCRAM credentials, so Kafka's own ConfigCommand does it.
 */
async function ensureScramUsers(config: StackConfig): Promise<void> {
  const dataDir = join(config.dataDir, 'kafka');
  const credentials = stackCredentials(config);
  const marker = scramMarker(dataDir, credentials);
  if (existsSync(marker.file) && readFileSync(marker.file, 'utf8') === marker.content) return;
  const java = requireTool('java', 'the Kafka broker runs on the JDK');
  // One request per mechanism: the broker refuses a request that alters one user twice.
  for (const mechanism of scramMechanisms) {
    await runRedacted(
      java,
      [
        '-cp',
        join(libsDir(config), 'libs', '*'),
        `-Dlog4j.configuration=file:${join(projectRoot, 'compose/kafka/log4j.properties')}`,
        'kafka.admin.ConfigCommand',
        '--bootstrap-server',
        kafkaBrokers(config).join(','),
        '--alter',
        '--add-config',
        `${mechanism}=[password=${credentials.password}]`,
        '--entity-type',
        'users',
        '--entity-name',
        credentials.username,
      ],
      { logFile: join(config.logDir, 'kafka.log'), what: `Kafka ${mechanism} user`, secrets: [credentials.password] },
    );
  }
  writeFileSync(marker.file, marker.content);
}
