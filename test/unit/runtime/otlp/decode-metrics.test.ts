import { describe, expect, it } from 'vitest';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, AggregationType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { ProtoDecodeError, Temporality, decodeMetricsRequest } from '../../../../runtime/otlp/index.js';
import type { Metric } from '../../../../runtime/otlp/index.js';

/** A reader that hands back what the SDK collected, so the SDK's own serializer can encode it. */
class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

async function record(temporality: AggregationTemporality): Promise<{ bytes: Uint8Array; collected: ResourceMetrics }> {
  const reader = new CollectingReader({ aggregationTemporalitySelector: () => temporality });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout', 'service.instance.id': 'i-1', 'host.cores': 2, 'deployment.canary': false }),
    readers: [reader],
    views: [{ instrumentName: 'exp.latency', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  });
  const meter = provider.getMeter('unit', '1.2.3');
  const requests = meter.createCounter('http.server.requests');
  requests.add(3, { 'http.route': '/a', 'http.response.status_code': 200 });
  requests.add(2, { 'http.route': '/a', 'http.response.status_code': 500 });
  const inflight = meter.createUpDownCounter('inflight');
  inflight.add(-5);
  const latency = meter.createHistogram('http.server.request.duration', { unit: 's', advice: { explicitBucketBoundaries: [0.1, 0.5, 1] } });
  for (const v of [0.05, 0.2, 0.3, 0.7, 2]) latency.record(v, { 'http.route': '/a', tags: 'x' });
  const exp = meter.createHistogram('exp.latency');
  for (const v of [1, 2, 4, 8, 8]) exp.record(v);
  const gauge = meter.createGauge('queue.depth');
  gauge.record(7.5, { queue: 'q1' });
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  const bytes = ProtobufMetricsSerializer.serializeRequest(resourceMetrics);
  if (!bytes) throw new Error('serializer returned nothing');
  await provider.shutdown();
  return { bytes, collected: resourceMetrics };
}

function byName(metrics: Metric[], name: string): Metric {
  const m = metrics.find((x) => x.name === name);
  if (!m) throw new Error(`metric ${name} missing`);
  return m;
}

describe('decodeMetricsRequest (reference OTLP decoder)', () => {
  it('decodes what the OpenTelemetry SDK serializes: resource, scope, sums, gauges, histograms', async () => {
    const { bytes, collected } = await record(AggregationTemporality.CUMULATIVE);
    const request = decodeMetricsRequest(bytes);
    expect(request.resourceMetrics).toHaveLength(1);
    const [rm] = request.resourceMetrics;
    expect(rm?.resource).toMatchObject({ 'service.name': 'checkout', 'service.instance.id': 'i-1', 'host.cores': 2, 'deployment.canary': false });
    expect(rm?.scopeMetrics[0]?.scope).toMatchObject({ name: 'unit', version: '1.2.3' });
    const metrics = rm?.scopeMetrics[0]?.metrics ?? [];

    const requests = byName(metrics, 'http.server.requests');
    expect(requests).toMatchObject({ kind: 'sum', monotonic: true, temporality: Temporality.CUMULATIVE });
    const values = Object.fromEntries(requests.points.map((p) => [String(p.attributes['http.response.status_code']), 'value' in p ? p.value : NaN]));
    expect(values).toEqual({ '200': 3, '500': 2 });

    const inflight = byName(metrics, 'inflight');
    expect(inflight).toMatchObject({ kind: 'sum', monotonic: false });
    expect(inflight.points[0]).toMatchObject({ value: -5 });

    const latency = byName(metrics, 'http.server.request.duration');
    expect(latency).toMatchObject({ kind: 'histogram', unit: 's', temporality: Temporality.CUMULATIVE });
    expect(latency.points[0]).toMatchObject({ count: 5, explicitBounds: [0.1, 0.5, 1], bucketCounts: [1, 2, 1, 1], min: 0.05, max: 2 });
    expect((latency.points[0] as { sum: number }).sum).toBeCloseTo(3.25, 12);

    const exp = byName(metrics, 'exp.latency');
    expect(exp.kind).toBe('exponentialHistogram');
    if (exp.kind === 'exponentialHistogram') {
      const p = exp.points[0];
      expect(p?.count).toBe(5);
      expect(p?.positive.bucketCounts.reduce((a, b) => a + b, 0)).toBe(5);
      // Same scale and offset as the SDK's own data point.
      const sdkPoint = collected.scopeMetrics[0]?.metrics.find((m) => m.descriptor.name === 'exp.latency')?.dataPoints[0]?.value as {
        scale: number;
        positive: { offset: number; bucketCounts: number[] };
      };
      expect(p?.scale).toBe(sdkPoint.scale);
      expect(p?.positive.offset).toBe(sdkPoint.positive.offset);
      expect(p?.positive.bucketCounts).toEqual(sdkPoint.positive.bucketCounts);
    }

    const gauge = byName(metrics, 'queue.depth');
    expect(gauge).toMatchObject({ kind: 'gauge' });
    expect(gauge.points[0]).toMatchObject({ value: 7.5, attributes: { queue: 'q1' } });
  });

  it('keeps exact nanosecond timestamps and derives milliseconds from them', async () => {
    const { bytes, collected } = await record(AggregationTemporality.CUMULATIVE);
    const point = decodeMetricsRequest(bytes).resourceMetrics[0]?.scopeMetrics[0]?.metrics[0]?.points[0];
    const sdk = collected.scopeMetrics[0]?.metrics[0]?.dataPoints[0];
    if (!point || !sdk) throw new Error('no point');
    const [sec, nanos] = sdk.endTime;
    expect(point.timeUnixNano).toBe((BigInt(sec) * 1_000_000_000n + BigInt(nanos)).toString());
    expect(point.timeMs).toBe(Math.floor(sec * 1000 + nanos / 1e6));
    expect(point.startTimeMs).toBeLessThanOrEqual(point.timeMs);
  });

  it('reports delta temporality', async () => {
    const { bytes } = await record(AggregationTemporality.DELTA);
    const metrics = decodeMetricsRequest(bytes).resourceMetrics[0]?.scopeMetrics[0]?.metrics ?? [];
    expect(byName(metrics, 'http.server.requests')).toMatchObject({ temporality: Temporality.DELTA });
    expect(byName(metrics, 'http.server.request.duration')).toMatchObject({ temporality: Temporality.DELTA });
  });

  it('rejects truncated and garbage payloads with a ProtoDecodeError that says where', async () => {
    const { bytes } = await record(AggregationTemporality.CUMULATIVE);
    for (const cut of [1, 7, Math.floor(bytes.length / 2), bytes.length - 1]) {
      expect(() => decodeMetricsRequest(bytes.subarray(0, cut))).toThrow(ProtoDecodeError);
    }
    expect(() => decodeMetricsRequest(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow(/runs past the end/);
    expect(() => decodeMetricsRequest(new Uint8Array([0x0b]))).toThrow(/wire type/);
  });

  it('decodes an empty request to no resources', () => {
    expect(decodeMetricsRequest(new Uint8Array(0))).toEqual({ resourceMetrics: [] });
  });
});
