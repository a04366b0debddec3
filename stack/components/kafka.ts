import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { projectRoot, versions } from '../config.js';
import type { StackConfig } from '../config.js';
import { fileHash, isComplete, markComplete, requireTool, runLogged } from '../install.js';
import type { Health, LaunchSpec, StackComponent } from '../types.js';

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
    const properties = renderTemplate(readFileSync(join(projectRoot, 'compose/kafka/server.properties'), 'utf8'), {
      AIOPS_KAFKA_HOST: config.host,
      AIOPS_KAFKA_PORT: String(config.ports.kafka.broker),
      AIOPS_KAFKA_CONTROLLER_PORT: String(config.ports.kafka.controller),
      AIOPS_KAFKA_LOG_DIRS: dataDir,
    });
    const propertiesFile = join(runDir, 'server.properties');
    writeFileSync(propertiesFile, properties);
    const classpath = join(libsDir(config), 'libs', '*');
    const java = requireTool('java', 'the Kafka broker runs on the JDK');
    const log4j = `-Dlog4j.configuration=file:${join(projectRoot, 'compose/kafka/log4j.properties')}`;
    if (!existsSync(join(dataDir, 'meta.properties'))) {
      // KRaft storage must be formatted once with a cluster id before the first start.
      const clusterId = randomBytes(16).toString('base64url');
      await runLogged(java, ['-cp', classpath, log4j, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propertiesFile, '--ignore-formatted'], {
        logFile: join(config.logDir, 'kafka.log'),
        what: 'Kafka storage format',
      });
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
    const client = admin(config);
    try {
      await client.connect();
      const existing = new Set(await client.listTopics());
      const missing = stackTopics.filter((topic) => !existing.has(topic));
      if (missing.length > 0) {
        await client.createTopics({
          topics: missing.map((topic) => ({ topic, numPartitions: config.partitions, replicationFactor: 1 })),
          waitForLeaders: true,
        });
      }
    } finally {
      await client.disconnect().catch(() => undefined);
    }
  },

  addresses(config) {
    return { brokers: kafkaBrokers(config).join(',') };
  },

  ports(config) {
    return [config.ports.kafka.broker, config.ports.kafka.controller];
  },
};
