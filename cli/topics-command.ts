import { parseArgs } from 'node:util';
import kafkajs from 'kafkajs';
import type { Admin, ITopicConfig } from 'kafkajs';
import { ingestInputTopic } from '../processors/ingest/index.js';
import { anomaliesTopic } from '../schemas/anomalies.js';
import { measurementsTopic } from '../schemas/measurements.js';
import { signalValuesTopic } from '../schemas/signal-values.js';
import { signalsTopic } from '../schemas/signals.js';
import { sloTopic } from '../schemas/slo.js';
import { deadLetterTopic } from '../runtime/dead-letter.js';
import { aiopsError } from '../runtime/errors.js';
import { kafkaConnectionFromEnv } from '../runtime/kafka-config.js';
import { verifyKafka } from '../runtime/kafka-connect.js';
import { retryKafka } from '../runtime/retry.js';
import { processKafka } from '../runtime/runner.js';
import { defaultActiveTopic } from '../sinks/alertmanager/alertmanager-sink.js';
import { defaultAnnotationsTopic } from '../sinks/grafana/grafana-sink.js';

const { ConfigResourceTypes } = kafkajs;

const usage = `usage: aiops topics create [options]

Creates the platform's topics that are missing, with the Kafka settings of every platform
client (AIOPS_KAFKA_*), and checks the ones that exist. Safe to run again: a topic that exists
is left as it is (a partition count that differs is reported, a changelog that is not
compacted is an error).

  --partitions N            partitions of every topic but the Grafana id map (default 6)
  --replication-factor N    replicas of each partition (default 3)
  --retention-ms N          retention.ms of the event topics (default 604800000: 7 days; -1 forever)
  --input-retention-ms N    retention.ms of otlp_metrics (default 86400000: 1 day)
  --min-insync-replicas N   min.insync.replicas of every topic (default: the broker's)
`;

/** What one topic of the platform needs. */
export interface PlatformTopic {
  readonly name: string;
  /** input: the collector's output; event: the platform's streams; compacted: changelogs and id maps. */
  readonly kind: 'input' | 'event' | 'compacted';
  readonly partitions: number;
  readonly config: Readonly<Record<string, string>>;
}

export interface TopicOptions {
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly retentionMs: number;
  readonly inputRetentionMs: number;
  readonly minInsyncReplicas?: number;
}

export const topicDefaults: TopicOptions = Object.freeze({ partitions: 6, replicationFactor: 3, retentionMs: 604_800_000, inputRetentionMs: 86_400_000 });

/**
 * The platform's topics. The changelogs have as many partitions as their input topics (a task's
 * state lives in the changelog partition of its input partition); the sinks' state topics (the
 * Grafana sink's id map, the Alertmanager sink's active alerts) have one, as the sinks create them.
 */
export function platformTopics(options: TopicOptions = topicDefaults): PlatformTopic[] {
  const isr: Record<string, string> = options.minInsyncReplicas === undefined ? {} : { 'min.insync.replicas': String(options.minInsyncReplicas) };
  const event = (name: string): PlatformTopic => ({ name, kind: 'event', partitions: options.partitions, config: { 'retention.ms': String(options.retentionMs), ...isr } });
  const compacted = (name: string, partitions: number): PlatformTopic => ({ name, kind: 'compacted', partitions, config: { 'cleanup.policy': 'compact', ...isr } });
  return [
    { name: ingestInputTopic, kind: 'input', partitions: options.partitions, config: { 'retention.ms': String(options.inputRetentionMs), ...isr } },
    ...[signalsTopic, signalValuesTopic, anomaliesTopic, sloTopic, measurementsTopic, deadLetterTopic].map(event),
    compacted('aiops.ingest.state', options.partitions),
    compacted('aiops.evaluate.state', options.partitions),
    compacted(defaultAnnotationsTopic, 1),
    compacted(defaultActiveTopic, 1),
  ];
}

/** What {@link createPlatformTopics} did for one topic. */
export interface TopicOutcome {
  readonly name: string;
  readonly action: 'created' | 'exists';
  /** Differences of an existing topic that are worth a look (left as they are). */
  readonly notes: readonly string[];
}

/** Creates the missing topics, checks existing ones; throws when a compacted topic is not compacted. */
export async function createPlatformTopics(admin: Admin, options: TopicOptions): Promise<TopicOutcome[]> {
  const wanted = platformTopics(options);
  const existing = new Set(await admin.listTopics());
  const missing = wanted.filter((t) => !existing.has(t.name));
  if (missing.length > 0) {
    const topics: ITopicConfig[] = missing.map((t) => ({
      topic: t.name,
      numPartitions: t.partitions,
      replicationFactor: options.replicationFactor,
      configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
    }));
    await admin.createTopics({ topics, waitForLeaders: true }).catch((error: unknown) => {
      // Another run created them in the meantime: fine, they are checked below like any other.
      if (!String((error as Error).message).includes('already exists')) throw error;
    });
  }
  const present = wanted.filter((t) => existing.has(t.name));
  const outcomes: TopicOutcome[] = missing.map((t) => ({ name: t.name, action: 'created', notes: [] }));
  if (present.length === 0) return outcomes;
  const meta = await admin.fetchTopicMetadata({ topics: present.map((t) => t.name) });
  const configs = await admin.describeConfigs({
    resources: present.map((t) => ({ type: ConfigResourceTypes.TOPIC, name: t.name, configNames: ['cleanup.policy'] })),
    includeSynonyms: false,
  });
  const problems: string[] = [];
  for (const topic of present) {
    const notes: string[] = [];
    const partitions = meta.topics.find((m) => m.name === topic.name)?.partitions.length ?? 0;
    if (partitions !== topic.partitions) notes.push(`has ${partitions} partitions, ${topic.partitions} asked: left as it is (a change would move keys between partitions)`);
    const policy = configs.resources.find((r) => r.resourceName === topic.name)?.configEntries.find((c) => c.configName === 'cleanup.policy')?.configValue ?? '';
    if (topic.kind === 'compacted' && !policy.includes('compact')) problems.push(`  - ${topic.name}: cleanup.policy is "${policy}", must be compact (state would expire)`);
    outcomes.push({ name: topic.name, action: 'exists', notes });
  }
  if (problems.length > 0) throw aiopsError('CONFIG_INVALID', [problems.join('\n')]);
  return outcomes;
}

function integerOption(name: string, raw: string | undefined, fallback: number, min: number, problems: string[]): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) problems.push(`  - --${name}: expected a whole number of at least ${min}, got "${raw}"`);
  return value;
}

/** Parses `aiops topics create` options; every problem at once. */
export function parseTopicOptions(argv: readonly string[]): TopicOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        partitions: { type: 'string' },
        'replication-factor': { type: 'string' },
        'retention-ms': { type: 'string' },
        'input-retention-ms': { type: 'string' },
        'min-insync-replicas': { type: 'string' },
      },
    }));
  } catch (error) {
    throw aiopsError('CLI_USAGE', [`${(error as Error).message}\n\n${usage}`]);
  }
  const problems: string[] = [];
  const options: TopicOptions = {
    partitions: integerOption('partitions', values.partitions, topicDefaults.partitions, 1, problems),
    replicationFactor: integerOption('replication-factor', values['replication-factor'], topicDefaults.replicationFactor, 1, problems),
    retentionMs: integerOption('retention-ms', values['retention-ms'], topicDefaults.retentionMs, -1, problems),
    inputRetentionMs: integerOption('input-retention-ms', values['input-retention-ms'], topicDefaults.inputRetentionMs, -1, problems),
    ...(values['min-insync-replicas'] === undefined ? {} : { minInsyncReplicas: integerOption('min-insync-replicas', values['min-insync-replicas'], 1, 1, problems) }),
  };
  if (problems.length > 0) throw aiopsError('CONFIG_INVALID', [problems.join('\n')]);
  return options;
}

/** `aiops topics create [options]`: the platform's topics, idempotently (the Helm chart's hook Job). */
export async function runTopics(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    process.stdout.write(usage);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'create') throw aiopsError('CLI_USAGE', [`unknown topics command "${sub}"\n\n${usage}`]);
  const options = parseTopicOptions(rest);
  const connection = kafkaConnectionFromEnv(process.env);
  const kafka = processKafka(connection, 'aiops-topics');
  // Wrong credentials or an untrusted certificate end the Job at once with the broker named.
  await verifyKafka(kafka);
  // A broker that is still starting (the hook Job may run next to it) is waited out up to the deadline.
  const outcomes = await retryKafka('creating the platform topics', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return await createPlatformTopics(admin, options);
    } finally {
      await admin.disconnect();
    }
  });
  for (const outcome of outcomes) {
    process.stdout.write(`${outcome.action.padEnd(7)}  ${outcome.name}${outcome.notes.length > 0 ? `  (${outcome.notes.join('; ')})` : ''}\n`);
  }
  return 0;
}
