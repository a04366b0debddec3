import type { Admin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createPlatformTopics, parseTopicOptions, platformTopics, topicDefaults } from '../../../cli/topics-command.js';

/** The part of a kafkajs Admin the command uses, over an in-memory cluster. */
function fakeAdmin(existing: Record<string, { partitions: number; policy: string }>): { admin: Admin; created: { topic: string; numPartitions?: number; replicationFactor?: number; configEntries?: { name: string; value: string }[] }[] } {
  const created: { topic: string; numPartitions?: number; replicationFactor?: number; configEntries?: { name: string; value: string }[] }[] = [];
  const admin = {
    listTopics: async () => Object.keys(existing),
    createTopics: async ({ topics }: { topics: typeof created }) => {
      created.push(...topics);
      for (const t of topics) existing[t.topic] = { partitions: t.numPartitions ?? 1, policy: t.configEntries?.find((c) => c.name === 'cleanup.policy')?.value ?? 'delete' };
      return true;
    },
    fetchTopicMetadata: async ({ topics }: { topics: string[] }) => ({ topics: topics.map((name) => ({ name, partitions: Array.from({ length: existing[name]?.partitions ?? 0 }, (_, i) => ({ partitionId: i })) })) }),
    describeConfigs: async ({ resources }: { resources: { name: string }[] }) => ({
      resources: resources.map((r) => ({ resourceName: r.name, configEntries: [{ configName: 'cleanup.policy', configValue: existing[r.name]?.policy ?? 'delete' }] })),
    }),
  } as unknown as Admin;
  return { admin, created };
}

describe('aiops topics create', () => {
  it('names every platform topic once: changelogs and the Grafana id map compacted, event topics with retention', () => {
    const topics = platformTopics({ ...topicDefaults, partitions: 12, minInsyncReplicas: 2 });
    expect(topics.map((t) => t.name)).toEqual(['otlp_metrics', 'aiops.signals.v1', 'aiops.signal-values.v1', 'aiops.anomalies.v1', 'aiops.slo.v1', 'aiops.measurements.v1', 'aiops.dlq.v1', 'aiops.ingest.state', 'aiops.evaluate.state', 'aiops.sink.grafana.annotations', 'aiops.sink.alertmanager.active']);
    expect(topics.filter((t) => t.config['cleanup.policy'] === 'compact').map((t) => t.name)).toEqual(['aiops.ingest.state', 'aiops.evaluate.state', 'aiops.sink.grafana.annotations', 'aiops.sink.alertmanager.active']);
    expect(topics.find((t) => t.name === 'aiops.anomalies.v1')?.config).toEqual({ 'retention.ms': '604800000', 'min.insync.replicas': '2' });
    expect(topics.find((t) => t.name === 'otlp_metrics')?.config['retention.ms']).toBe('86400000');
    // A changelog partition holds the state of the same input partition: the counts must match.
    expect(topics.find((t) => t.name === 'aiops.ingest.state')?.partitions).toBe(12);
    expect(topics.find((t) => t.name === 'aiops.sink.grafana.annotations')?.partitions).toBe(1);
    expect(topics.find((t) => t.name === 'aiops.sink.alertmanager.active')?.partitions).toBe(1);
  });

  it('creates what is missing and leaves what exists, reporting a different partition count', async () => {
    const { admin, created } = fakeAdmin({ otlp_metrics: { partitions: 4, policy: 'delete' } });
    const outcomes = await createPlatformTopics(admin, { ...topicDefaults, partitions: 6, replicationFactor: 3 });
    expect(created.map((t) => t.topic)).not.toContain('otlp_metrics');
    expect(created).toHaveLength(10);
    expect(created.every((t) => t.replicationFactor === 3)).toBe(true);
    expect(outcomes.find((o) => o.name === 'otlp_metrics')).toEqual({ name: 'otlp_metrics', action: 'exists', notes: [expect.stringContaining('has 4 partitions, 6 asked')] });
    // A second run changes nothing.
    const again = await createPlatformTopics(admin, { ...topicDefaults, partitions: 6, replicationFactor: 3 });
    expect(created).toHaveLength(10);
    expect(again.every((o) => o.action === 'exists')).toBe(true);
  });

  it('fails when a changelog exists without compaction (its state would expire)', async () => {
    const { admin } = fakeAdmin({ 'aiops.evaluate.state': { partitions: 6, policy: 'delete' } });
    await expect(createPlatformTopics(admin, topicDefaults)).rejects.toThrow(/aiops\.evaluate\.state: cleanup\.policy is "delete", must be compact/);
  });

  it('reports every bad option at once', () => {
    expect(() => parseTopicOptions(['--partitions', '0', '--replication-factor', 'x'])).toThrow(/--partitions.*\n.*--replication-factor/s);
    expect(parseTopicOptions(['--partitions=3', '--retention-ms=-1'])).toEqual({ ...topicDefaults, partitions: 3, retentionMs: -1 });
  });
});
