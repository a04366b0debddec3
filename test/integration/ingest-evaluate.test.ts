import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { Histogram } from '@opentelemetry/api';
import { evaluateFactory } from '../../processors/evaluate/index.js';
import { defaultRules, ingestFactory, parseIngestConfig } from '../../processors/ingest/index.js';
import { decodeMetricsRequest } from '../../runtime/otlp/index.js';
import { runProcess } from '../../runtime/process.js';
import type { RunningProcess } from '../../runtime/process.js';
import { processKafka } from '../../runtime/runner.js';
import { sleep } from '../../runtime/retry.js';
import { signalValueSerde } from '../../schemas/index.js';
import type { SignalValue } from '../../schemas/index.js';
import { collectMessages, endOffsets, kafkaClient } from '../../stack/clients/index.js';
import { eventually } from '../helpers/eventually.js';
import { stackEndpoints } from '../helpers/stack.js';

const BUCKET_MS = 3_000;
const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const ROUTE = '/api/users';

interface Instance {
  id: string;
  provider: MeterProvider;
  duration: Histogram;
  partition?: number;
}

/** Requests and errors each instance sends in each bucket, and their latencies (seconds). */
const pattern = [
  { a: { requests: 40, errors: 2 }, b: { requests: 25, errors: 0 } },
  { a: { requests: 10, errors: 5 }, b: { requests: 30, errors: 6 } },
  { a: { requests: 55, errors: 0 }, b: { requests: 5, errors: 5 } },
];

function latency(i: number, bucket: number): number {
  // Deterministic spread over several histogram buckets, slower in the second bucket.
  return (0.004 + ((i * 37) % 100) / 180) * (bucket === 1 ? 3 : 1);
}

function trueQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] as number;
}

describe('OTel SDK → collector → otlp_metrics → ingest → signals → evaluate', () => {
  const endpoints = stackEndpoints();
  const run = randomUUID().slice(0, 8);
  const service = `checkout-${run}`;
  const signalsTopic = `test.signals.${run}`;
  const valuesTopic = `test.signal-values.${run}`;
  const processes: RunningProcess[] = [];
  const instances: Instance[] = [];
  const sentLatencies: number[][] = pattern.map(() => []);

  function makeInstance(id: string): Instance {
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'service.instance.id': id }),
      readers: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: `${endpoints.otlpHttp}/v1/metrics` }), exportIntervalMillis: 3_600_000 })],
    });
    const meter = provider.getMeter('test');
    meter.createCounter('test.probe').add(1);
    const duration = meter.createHistogram('http.server.request.duration', { unit: 's', advice: { explicitBucketBoundaries: BOUNDS } });
    return { id, provider, duration };
  }

  beforeAll(async () => {
    const kafka = kafkaClient(endpoints.kafkaBrokers);
    // Find two instance ids whose resources the collector puts on different partitions.
    const start = await endOffsets(kafka, 'otlp_metrics');
    const candidates = Array.from({ length: 8 }, (_, i) => makeInstance(`${service}-${i}`));
    await Promise.all(candidates.map((c) => c.provider.forceFlush()));
    const probes = await collectMessages(kafka, {
      topic: 'otlp_metrics',
      count: candidates.length,
      startOffsets: start,
      timeoutMs: 60_000,
      filter: (m) => m.value !== null && decodeMetricsRequest(m.value).resourceMetrics.some((rm) => rm.resource['service.name'] === service),
    });
    for (const p of probes) {
      const id = decodeMetricsRequest(p.value as Buffer).resourceMetrics[0]?.resource['service.instance.id'];
      const c = candidates.find((x) => x.id === id);
      if (c) c.partition = p.partition;
    }
    const first = candidates[0] as Instance;
    const second = candidates.find((c) => c.partition !== first.partition);
    if (!second) throw new Error(`all 8 candidate instances landed on partition ${first.partition}`);
    instances.push(first, second);
    for (const c of candidates) if (!instances.includes(c)) await c.provider.shutdown();

    const config = parseIngestConfig({ rules: defaultRules, bucketMs: BUCKET_MS, allowedLatenessMs: 0, idleTimeoutMs: 1_500, signalsTopic });
    const brokers = endpoints.kafkaBrokers;
    processes.push(
      await runProcess({ name: `ingest-${run}`, kafka: processKafka(brokers, 'test-ingest'), inputTopic: 'otlp_metrics', outputTopics: [signalsTopic], factory: ingestFactory(config), idleTimeoutMs: 1_500, port: 0, fromBeginning: false }),
    );
    processes.push(
      await runProcess({ name: `evaluate-${run}`, kafka: processKafka(brokers, 'test-evaluate'), inputTopic: signalsTopic, outputTopics: [valuesTopic], factory: evaluateFactory({ valuesTopic }), idleTimeoutMs: 1_500, port: 0 }),
    );
    await eventually('processors ready', async () => ((await Promise.all(processes.map((p) => p.runner.ready()))).every(Boolean) ? true : undefined));
    await sleep(1_500);
  });

  afterAll(async () => {
    for (const p of processes) await p.stop();
    for (const i of instances) await i.provider.shutdown();
  });

  it('puts the two instances on different otlp_metrics partitions', () => {
    expect(instances).toHaveLength(2);
    expect(instances[0]?.partition).not.toBe(instances[1]?.partition);
  });

  it('gives exact per-bucket request and error counts, merged from both partitions, and p95 within its histogram bucket', async () => {
    const buckets: number[] = [];
    for (const [k, step] of pattern.entries()) {
      // One export per instance per bucket, well inside the bucket.
      const now = Date.now();
      const nextStart = Math.ceil((now + 1) / BUCKET_MS) * BUCKET_MS;
      await sleep(nextStart - now + 300);
      const bucket = Math.floor(Date.now() / BUCKET_MS) * BUCKET_MS;
      for (const [which, counts] of [['a', step.a], ['b', step.b]] as const) {
        const instance = instances[which === 'a' ? 0 : 1] as Instance;
        for (let i = 0; i < counts.requests; i++) {
          const value = latency(i + (which === 'b' ? 1000 : 0), k);
          sentLatencies[k]?.push(value);
          instance.duration.record(value, { 'http.route': ROUTE, 'http.request.method': 'GET', 'http.response.status_code': i < counts.errors ? 500 : 200 });
        }
      }
      await Promise.all(instances.map((i) => i.provider.forceFlush()));
      expect(Math.floor(Date.now() / BUCKET_MS) * BUCKET_MS).toBe(bucket);
      buckets.push(bucket);
    }

    const kafka = kafkaClient(endpoints.kafkaBrokers);
    const messages = await collectMessages(kafka, { topic: valuesTopic, count: pattern.length, timeoutMs: 60_000, filter: (m) => (m.key?.toString() ?? '').includes(service) });
    const values = messages.map((m) => signalValueSerde.deserialize(m.value as Buffer)).sort((x, y) => x.bucketStartMs - y.bucketStartMs);
    expect(values.map((v) => v.bucketStartMs)).toEqual(buckets);
    for (const [k, v] of values.entries()) {
      const step = pattern[k] as (typeof pattern)[number];
      expect({ count: v.count, errors: v.errors, sources: v.sources }, `bucket ${k}`).toEqual({
        count: step.a.requests + step.b.requests,
        errors: step.a.errors + step.b.errors,
        sources: 2,
      });
      expect(v.dimensions).toEqual({ 'service.name': service, 'http.route': ROUTE });
      const truth = trueQuantile(sentLatencies[k] as number[], 0.95);
      const upperIndex = BOUNDS.findIndex((b) => truth <= b);
      const lower = upperIndex <= 0 ? 0 : (BOUNDS[upperIndex - 1] as number);
      const upper = BOUNDS[upperIndex] as number;
      expect(v.p95, `bucket ${k}: true p95 ${truth} lies in (${lower}, ${upper}]`).toBeGreaterThanOrEqual(lower);
      expect(v.p95).toBeLessThanOrEqual(upper);
    }
    const all: SignalValue[] = values;
    expect(all.reduce((n, v) => n + v.count, 0)).toBe(pattern.reduce((n, s) => n + s.a.requests + s.b.requests, 0));
  });
});
