import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import kafkajs from 'kafkajs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../runtime/retry.js';
import { anomalyEventId, anomalySerde } from '../../schemas/anomalies.js';
import type { AnomalyEvent } from '../../schemas/anomalies.js';
import { sloEventId, sloEventSerde } from '../../schemas/slo.js';
import type { SloEvent } from '../../schemas/slo.js';
import { Credentials } from '../../sinks/credentials.js';
import { GrafanaSink } from '../../sinks/grafana/grafana-sink.js';
import { SinkRunner } from '../../sinks/runtime.js';
import { createTopics, kafkaClient, readTopicToEnd } from '../../stack/clients/index.js';
import { eventually } from '../helpers/eventually.js';
import { FakeGrafana, TOKEN } from '../helpers/fake-grafana.js';
import { stackEndpoints } from '../helpers/stack.js';


const T = Date.now() - 3_600_000;

function anomaly(signal: string, metric: string, state: AnomalyEvent['state'], at: number, startedAt = at): AnomalyEvent {
  return {
    id: anomalyEventId(signal, metric, startedAt, 1), timestamp: at, metric, signal, expected_value: 0.12, actual_value: state === 'RESOLVED' ? 0.13 : 2.4, lower: 0.08, upper: 0.16,
    deviation: 2.28, score: state === 'RESOLVED' ? 0.1 : 0.97, confidence: 0.8, severity: 'critical', state, detector: 'holt-winters', mode: 'seasonal', started_at: startedAt,
    context: { service: signal.split('"')[1] ?? '', endpoint: '/api/pay', dimensions: {} },
  };
}

function slo(name: string, state: SloEvent['state'], at: number, startedAt = at): SloEvent {
  return {
    id: sloEventId(name, 'page', startedAt), timestamp: at, slo: name, service: 'payments', description: '', sli: 'availability', objective: 0.999, period: '30d rolling',
    period_ms: 30 * 86_400_000, tier: 'page', state, long_window_ms: 3_600_000, short_window_ms: 300_000, factor: 14.4, long_burn_rate: state === 'RESOLVED' ? 0.5 : 20,
    short_burn_rate: state === 'RESOLVED' ? 0.2 : 300, budget_remaining: 0.6, projected_exhaustion: state === 'RESOLVED' ? null : at + 3_600_000, started_at: startedAt, labels: { team: 'payments' },
  };
}

/**
 * The Grafana sink through a real SinkRunner on real Kafka, against a fake Grafana that enforces
 * the documented annotations contract: region annotations opened and closed, idempotent across a
 * full replay (the map rebuilt from the compacted topic), a bad event skipped without leaking the
 * token into the logs, and a Grafana outage that loses and duplicates nothing.
 */
describe('Grafana sink (real Kafka, a fake Grafana holding to the annotations HTTP API)', () => {
  const endpoints = stackEndpoints();
  const run = randomUUID().slice(0, 8);
  const anomaliesTopic = `test.anomalies.${run}`;
  const sloTopic = `test.slo.${run}`;
  const mappingTopic = `test.grafana-annotations.${run}`;
  const name = `grafana-test-${run}`;
  const grafana = new FakeGrafana();
  const logs: string[] = [];
  const log = pino(
    { level: 'debug', name: 'test.sink.grafana' },
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logs.push(chunk.toString('utf8'));
        callback();
      },
    }),
  );
  const credentials = Credentials.fromEnv('AIOPS_GRAFANA', 'Bearer', { AIOPS_GRAFANA_TOKEN: TOKEN });
  let sink: GrafanaSink;
  let runner: SinkRunner;
  let produced = 0;
  const sig = (s: string): string => `http{service.name="${s}-${run}",http.route="/api/pay"}`;

  async function startRunner(): Promise<void> {
    sink = new GrafanaSink({ url: grafana.url, ...(credentials ? { credentials } : {}), dashboardUid: 'aiops-overview', kafka: kafkaClient(endpoints.kafkaBrokers), mappingTopic, name, log });
    runner = new SinkRunner({ kafka: kafkaClient(endpoints.kafkaBrokers), topics: [anomaliesTopic, sloTopic], sink, log, maxBackoffMs: 1_000 });
    await runner.start();
  }

  async function produce(topic: string, values: Buffer[]): Promise<void> {
    const producer = kafkaClient(endpoints.kafkaBrokers).producer();
    await producer.connect();
    await producer.send({ topic, messages: values.map((value) => ({ key: 'k', value })) });
    await producer.disconnect();
    produced += values.length;
  }

  /** Waits until the runner has delivered `n` events since it started. */
  async function delivered(n: number): Promise<void> {
    await eventually(`${n} events delivered`, async () => (runner.stats.delivered >= n ? true : undefined));
  }

  beforeAll(async () => {
    await grafana.start();
    await createTopics(kafkaClient(endpoints.kafkaBrokers), [anomaliesTopic, sloTopic], 2);
    await startRunner();
  });

  afterAll(async () => {
    await runner?.stop();
    await grafana.stop();
    const admin = kafkaClient(endpoints.kafkaBrokers).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [anomaliesTopic, sloTopic, mappingTopic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('opens one region annotation for an anomaly OPEN, with its time, tags and dashboard, and nothing for UPDATE', async () => {
    const open = anomaly(sig('shop'), 'http.p95', 'OPEN', T);
    await produce(anomaliesTopic, [anomalySerde.serialize(open), anomalySerde.serialize(anomaly(sig('shop'), 'http.p95', 'UPDATE', T + 10_000, T))]);
    await delivered(2);
    const [annotation, ...more] = grafana.withTag(`service:shop-${run}`);
    expect(more).toHaveLength(0);
    expect(annotation).toMatchObject({
      time: T,
      dashboardUID: 'aiops-overview',
      tags: ['aiops', 'anomaly', `service:shop-${run}`, 'endpoint:/api/pay', 'metric:http.p95', 'severity:critical', `event:${open.id}`],
    });
    expect(annotation?.timeEnd).toBeUndefined();
    expect(annotation?.text).toContain('2.4 where 0.12 was expected');
    const posts = grafana.ok('POST');
    expect(posts).toHaveLength(1);
    expect(posts[0]?.authorization).toBe(`Bearer ${TOKEN}`);
    expect(posts[0]?.contentType).toMatch(/^application\/json/);
    expect(grafana.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0);
    expect(sink.mapping(open.id)).toEqual({ annotationId: annotation?.id, resolved: false, text: annotation?.text, kind: 'anomaly' });
  });

  it('closes the region on RESOLVED with one PATCH of timeEnd, and records that on the compacted topic', async () => {
    const open = anomaly(sig('shop'), 'http.p95', 'OPEN', T);
    const annotationId = sink.mapping(open.id)?.annotationId;
    await produce(anomaliesTopic, [anomalySerde.serialize(anomaly(sig('shop'), 'http.p95', 'RESOLVED', T + 60_000, T))]);
    await eventually('region closed', async () => grafana.annotations.get(annotationId ?? -1)?.timeEnd);
    const patches = grafana.requests.filter((r) => r.method === 'PATCH');
    expect(patches).toHaveLength(1);
    expect(patches[0]?.path).toBe(`/api/annotations/${annotationId}`);
    expect(patches[0]?.authorization).toBe(`Bearer ${TOKEN}`);
    expect(patches[0]?.body).toMatchObject({ timeEnd: T + 60_000 });
    const stored = grafana.annotations.get(annotationId ?? -1);
    expect(stored?.timeEnd).toBe(T + 60_000);
    expect(stored?.text).toMatch(/^Anomaly in http\.p95 .*2\.4 where 0\.12 was expected.*\nResolved .* after 1m: http\.p95 at 0\.13/s);
    const records = await readTopicToEnd(kafkaClient(endpoints.kafkaBrokers), mappingTopic);
    const last = records.filter((r) => r.key?.toString() === open.id).at(-1);
    expect(JSON.parse(last?.value?.toString() ?? '{}')).toMatchObject({ annotationId, resolved: true });
  });

  it('marks an SLO alert from FIRING to RESOLVED as a region', async () => {
    const name = `checkout-availability-${run}`;
    const start = T + 120_000;
    await produce(sloTopic, [sloEventSerde.serialize(slo(name, 'FIRING', start))]);
    const [firing] = await eventually('SLO annotation', () => grafana.tagged(`slo:${name}`));
    expect(firing).toMatchObject({ time: start, dashboardUID: 'aiops-overview', tags: ['aiops', 'slo', 'service:payments', `slo:${name}`, 'tier:page', 'severity:critical', `event:${sloEventId(name, 'page', start)}`] });
    expect(firing?.text).toContain('20x over 1h and 300x over 5m');
    expect(firing?.text).toContain('60% of the error budget left');
    await produce(sloTopic, [sloEventSerde.serialize(slo(name, 'RESOLVED', start + 1_800_000, start))]);
    await eventually('SLO region closed', async () => grafana.annotations.get(firing?.id ?? -1)?.timeEnd);
    expect(grafana.withTag(`slo:${name}`)).toHaveLength(1);
    expect(grafana.annotations.get(firing?.id ?? -1)?.timeEnd).toBe(start + 1_800_000);
    expect(grafana.annotations.get(firing?.id ?? -1)?.text).toContain('after 30m: 0.5x over 1h');
  });

  it('creates the whole region at once for a RESOLVED whose OPEN it never saw', async () => {
    const start = T + 180_000;
    await produce(anomaliesTopic, [anomalySerde.serialize(anomaly(sig('late'), 'http.p95', 'RESOLVED', start + 300_000, start))]);
    const [region] = await eventually('region annotation', () => grafana.tagged(`service:late-${run}`));
    expect(region).toMatchObject({ time: start, timeEnd: start + 300_000 });
    expect(region?.text).toContain('after 5m');
  });

  it('skips an event Grafana refuses as a bad request, logging the status and message but never the token', async () => {
    grafana.rejectText = 'REJECT-ME';
    const bad = anomaly(sig('bad'), 'REJECT-ME.p95', 'OPEN', T + 240_000);
    await produce(anomaliesTopic, [anomalySerde.serialize(bad), anomalySerde.serialize(anomaly(sig('good'), 'http.p95', 'OPEN', T + 240_000))]);
    // The event after the bad one is not held up behind it.
    await eventually('annotation after the bad event', () => grafana.tagged(`service:good-${run}`));
    expect(grafana.requests.filter((r) => r.status === 400)).toHaveLength(1);
    expect(sink.stats.rejected).toBe(1);
    expect(sink.mapping(bad.id)).toBeUndefined();
    const refusal = logs.find((line) => line.includes(bad.id) && line.includes('"status":400'));
    expect(refusal).toContain('Failed to save annotation');
    expect(JSON.parse(refusal ?? '{}')).toMatchObject({ level: 50, status: 400, grafanaMessage: 'Failed to save annotation', event: bad.id });
    const all = logs.join('');
    expect(all).not.toContain(TOKEN);
    expect(all).not.toMatch(/authorization/i);
  });

  it('creates nothing again on a full replay: the map comes back from the compacted topic', async () => {
    await delivered(produced);
    const created = grafana.ok('POST').length;
    const patched = grafana.ok('PATCH').length;
    const annotations = grafana.annotations.size;
    const mapped = sink.mapped;
    await runner.stop();
    // Forget every committed offset of the sink's group: everything on the topics is delivered again.
    const admin = kafkaClient(endpoints.kafkaBrokers).admin();
    await admin.connect();
    try {
      for (const topic of [anomaliesTopic, sloTopic]) await admin.resetOffsets({ groupId: `aiops.sink.${name}`, topic, earliest: true });
      const described = await admin.describeConfigs({ resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: mappingTopic, configNames: ['cleanup.policy'] }], includeSynonyms: false });
      expect(described.resources[0]?.configEntries.find((c) => c.configName === 'cleanup.policy')?.configValue).toBe('compact');
    } finally {
      await admin.disconnect();
    }
    await startRunner();
    // A fresh sink: what it knows before consuming came from the mapping topic alone.
    expect(sink.mapped).toBe(mapped);
    // The start read the id map alone (one entry per event id), not the event topics.
    expect(runner.stats.rebuilt).toBe(mapped);
    await delivered(produced);
    expect(grafana.ok('POST')).toHaveLength(created);
    expect(grafana.ok('PATCH')).toHaveLength(patched);
    expect(grafana.annotations.size).toBe(annotations);
    expect(sink.stats.created).toBe(0);
    // The refused event is tried once more on the replay and refused again; nothing else is sent.
    expect(sink.stats.rejected).toBe(1);
  });

  it('loses and duplicates nothing while Grafana is down', async () => {
    await grafana.stop();
    const retriesBefore = runner.stats.retries;
    const start = T + 300_000;
    const name = `search-latency-${run}`;
    await produce(anomaliesTopic, [anomalySerde.serialize(anomaly(sig('cart'), 'http.p95', 'OPEN', start)), anomalySerde.serialize(anomaly(sig('cart'), 'http.p95', 'RESOLVED', start + 90_000, start))]);
    await produce(sloTopic, [sloEventSerde.serialize(slo(name, 'FIRING', start))]);
    await eventually('deliveries retried', async () => (runner.stats.retries > retriesBefore + 2 ? true : undefined));
    await sleep(3_000);
    expect(grafana.withTag(`service:cart-${run}`)).toHaveLength(0);
    await grafana.start();
    await delivered(produced);
    const cart = grafana.withTag(`service:cart-${run}`);
    expect(cart).toHaveLength(1);
    expect(cart[0]).toMatchObject({ time: start, timeEnd: start + 90_000 });
    expect(grafana.withTag(`slo:${name}`)).toHaveLength(1);
    expect(logs.join('')).toContain('Grafana not reachable');
    expect(logs.join('')).not.toContain(TOKEN);
  });

  it('closes the regions whose source went silent as stale, with a last line saying so', async () => {
    // The SLO alert of the outage test never resolved; nothing more comes about it.
    const name = `search-latency-${run}`;
    const [region] = grafana.withTag(`slo:${name}`);
    expect(region?.timeEnd).toBeUndefined();
    await runner.stop();
    sink = new GrafanaSink({ url: grafana.url, ...(credentials ? { credentials } : {}), kafka: kafkaClient(endpoints.kafkaBrokers), mappingTopic, name: `grafana-test-${run}`, staleness: { anomalyMs: 2_000, sloMs: 2_000 }, log });
    runner = new SinkRunner({ kafka: kafkaClient(endpoints.kafkaBrokers), topics: [anomaliesTopic, sloTopic], sink, log, maxBackoffMs: 1_000 });
    await runner.start();
    await eventually('region closed as stale', async () => (grafana.withTag(`slo:${name}`)[0]?.timeEnd !== undefined ? true : undefined), { timeoutMs: 30_000 });
    const closed = grafana.withTag(`slo:${name}`)[0];
    expect(closed?.text).toMatch(/\nResolved as stale [0-9T:.-]+Z: no event about it for \d+s \(stale after 2s\)\.$/);
    expect(sink.stats.stale.slo).toBeGreaterThanOrEqual(1);
    expect(sink.mapping(sloEventId(name, 'page', T + 300_000))?.resolved).toBe(true);
    expect(logs.join('')).toContain('closed as stale');
  });
});
