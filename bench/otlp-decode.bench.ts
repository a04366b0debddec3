/**
 * Throughput of the streaming OTLP metrics decoder on one realistic payload: 200 resources (one
 * service instance each), each with request counts and 15-bucket latency histograms per route,
 * method and status, connection-pool sums and a CPU gauge, 3 to 5 attributes per point. Built
 * once with the OpenTelemetry SDK's own serializers, then decoded repeatedly with a visitor that
 * does the minimum a processor would (reads the hash, one extracted value, the values).
 *
 * Prints one JSON line. Run: `npx tsx bench/otlp-decode.bench.ts` (BENCH_SECONDS: budget of the
 * main measurement, default 4). points_per_sec and mb_per_sec are for otlp_proto; the
 * reference decoder and the otlp_json path are measured in the same run for comparison.
 */

import { loadavg } from 'node:os';
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { OtlpMetricsDecoder, decodeMetricsRequest } from '../runtime/otlp/index.js';
import type { AttributeSet, MetricsVisitor } from '../runtime/otlp/index.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const RESOURCES = 200;
const ROUTES = ['/api/orders', '/api/orders/{id}', '/api/cart', '/health'];
const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** One service instance's metrics as an otlp_proto request and its otlp_json object. */
async function instance(i: number): Promise<{ proto: Uint8Array; json: { resourceMetrics: unknown[] } }> {
  const reader = new CollectingReader({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  const service = `svc-${i % 20}`;
  const resource = resourceFromAttributes({
    'service.name': service,
    'service.namespace': 'shop',
    'service.instance.id': `${service}-${i}`,
    'host.name': `node-${i % 37}`,
    'k8s.pod.name': `${service}-7d9f8b-${i.toString(36)}`,
    'deployment.environment.name': 'prod',
  });
  const provider = new MeterProvider({ resource, readers: [reader] });
  const meter = provider.getMeter('bench', '1.0.0');
  const requests = meter.createCounter('http.server.requests', { unit: '{request}' });
  const duration = meter.createHistogram('http.server.request.duration', { unit: 's', advice: { explicitBucketBoundaries: BOUNDS } });
  for (const route of ROUTES) {
    for (const [method, status] of [['GET', 200], ['POST', 201], ['GET', 500]] as const) {
      const attrs = { 'http.route': route, 'http.request.method': method, 'http.response.status_code': status, 'server.address': `${service}.shop.svc` };
      requests.add(100 + ((i * 7 + status) % 50), attrs);
      for (let k = 0; k < 20; k++) duration.record(((i + k * 13) % 100) / 37, attrs);
    }
  }
  const pool = meter.createUpDownCounter('db.client.connection.count');
  pool.add(7, { 'db.client.connection.state': 'idle', 'db.client.connection.pool.name': 'main', 'db.system.name': 'postgresql' });
  pool.add(3, { 'db.client.connection.state': 'used', 'db.client.connection.pool.name': 'main', 'db.system.name': 'postgresql' });
  meter.createGauge('process.cpu.utilization').record(0.42, { 'cpu.mode': 'user', 'process.runtime.name': 'nodejs', 'cpu.logical_number': i % 4 });
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  const proto = ProtobufMetricsSerializer.serializeRequest(resourceMetrics);
  const json = JsonMetricsSerializer.serializeRequest(resourceMetrics);
  if (!proto || !json) throw new Error('serializer returned nothing');
  return { proto, json: JSON.parse(new TextDecoder().decode(json)) as { resourceMetrics: unknown[] } };
}

async function buildPayloads(): Promise<{ proto: Uint8Array; json: Uint8Array }> {
  const parts = [];
  for (let i = 0; i < RESOURCES; i++) parts.push(await instance(i));
  // Concatenated requests are one request whose repeated resource_metrics field holds them all.
  const proto = new Uint8Array(parts.reduce((n, p) => n + p.proto.length, 0));
  let at = 0;
  for (const p of parts) {
    proto.set(p.proto, at);
    at += p.proto.length;
  }
  const json = new TextEncoder().encode(JSON.stringify({ resourceMetrics: parts.flatMap((p) => p.json.resourceMetrics) }));
  return { proto, json };
}

/** Touches what a processor would: the series hash, one extracted value, every value. */
class SummingVisitor implements MetricsVisitor {
  total = 0;
  onResource(r: AttributeSet): void {
    this.total += r.hashLo + (r.value(0)?.length ?? 0);
  }
  onMetric(): void {}
  onNumberPoint(a: AttributeSet, _start: number, time: number, value: number): void {
    this.total += value + (a.hashHi & 1) + (a.value(1)?.length ?? 0) + time * 0;
  }
  onHistogramPoint(a: AttributeSet, _s: number, _t: number, count: number, sum: number, _bounds: Float64Array, counts: Float64Array, n: number): void {
    let c = 0;
    for (let i = 0; i < n; i++) c += counts[i] as number;
    this.total += count + sum + c + (a.hashLo & 1) + (a.value(1)?.length ?? 0);
  }
  onExponentialHistogramPoint(_a: AttributeSet, _s: number, _t: number, count: number): void {
    this.total += count;
  }
  onSummaryPoint(_a: AttributeSet, _s: number, _t: number, count: number): void {
    this.total += count;
  }
}

/**
 * Runs `round` (after a warm-up) until the budget is spent. Returns rounds per wall-clock second,
 * and per second of process CPU time: on a shared machine the second is the steadier measure of
 * what one core does (it includes the GC's helper threads, so it is slightly pessimistic).
 */
function measure(budgetSeconds: number, round: () => void): { wall: number; cpu: number } {
  const warmUntil = performance.now() + Math.min(1000, budgetSeconds * 250);
  while (performance.now() < warmUntil) round();
  let rounds = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  let elapsed = 0;
  while (elapsed < budgetSeconds * 1000) {
    round();
    rounds++;
    elapsed = performance.now() - start;
  }
  const cpu = process.cpuUsage(cpuStart);
  return { wall: (rounds * 1000) / elapsed, cpu: (rounds * 1e6) / (cpu.user + cpu.system) };
}

const { proto, json } = await buildPayloads();
const decoder = new OtlpMetricsDecoder({ extractKeys: ['service.name', 'http.route', 'http.response.status_code'] });
const visitor = new SummingVisitor();
const points = decoder.decode(proto, visitor).points;

const protoRate = measure(seconds, () => void decoder.decode(proto, visitor));
const heapUsed = process.memoryUsage().heapUsed;
const referenceRate = measure(seconds / 2, () => void decodeMetricsRequest(proto));
const jsonRate = measure(seconds / 2, () => void decoder.decodeJson(json, visitor));

const round = (n: number): number => Math.round(n);
console.log(
  JSON.stringify({
    bench: 'otlp-decode',
    points_per_sec: round(protoRate.wall * points),
    points_per_cpu_sec: round(protoRate.cpu * points),
    mb_per_sec: Number(((protoRate.wall * proto.length) / 1e6).toFixed(1)),
    payload_bytes: proto.length,
    points_per_payload: points,
    resources_per_payload: RESOURCES,
    heap_used_mb: Number((heapUsed / 1e6).toFixed(1)),
    reference_points_per_sec: round(referenceRate.wall * points),
    reference_points_per_cpu_sec: round(referenceRate.cpu * points),
    json_points_per_sec: round(jsonRate.wall * points),
    json_points_per_cpu_sec: round(jsonRate.cpu * points),
    json_payload_bytes: json.length,
    load_average_1m: Number(loadavg()[0]?.toFixed(2)),
    checksum: visitor.total > 0,
    node: process.version,
  }),
);
