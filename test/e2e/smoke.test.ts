import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sendSmokeTelemetry, smokeMetricNames } from '../../producers/smoke/index.js';
import { decodeMetricsRequest } from '../../runtime/otlp/index.js';
import type { MetricsRequest } from '../../runtime/otlp/index.js';
import { collectMessages, endOffsets, getTrace, kafkaClient, promQuery } from '../../stack/clients/index.js';
import { eventually } from '../helpers/eventually.js';
import { stackEndpoints } from '../helpers/stack.js';

function serviceOf(request: MetricsRequest): unknown[] {
  return request.resourceMetrics.map((rm) => rm.resource['service.name']);
}

describe('telemetry from the OpenTelemetry Node SDK through the real collector', () => {
  const endpoints = stackEndpoints();
  const serviceName = `smoke-${randomUUID().slice(0, 8)}`;
  const kafka = kafkaClient(endpoints.kafkaBrokers);
  let sent: Awaited<ReturnType<typeof sendSmokeTelemetry>>;
  let startOffsets: Awaited<ReturnType<typeof endOffsets>>;

  it('is accepted by the collector', async () => {
    startOffsets = await endOffsets(kafka, 'otlp_metrics');
    sent = await sendSmokeTelemetry({ otlpHttpEndpoint: endpoints.otlpHttp, serviceName, requests: 20 });
    expect(sent.errors).toBe(4);
  });

  it('arrives on otlp_metrics as ExportMetricsServiceRequest with the metric names and attributes sent', async () => {
    const [message] = await collectMessages(kafka, {
      topic: 'otlp_metrics',
      count: 1,
      startOffsets,
      timeoutMs: 60_000,
      filter: (m) => m.value !== null && serviceOf(decodeMetricsRequest(m.value)).includes(serviceName),
    });
    const request = decodeMetricsRequest(message?.value ?? Buffer.alloc(0));
    const ours = request.resourceMetrics.filter((rm) => rm.resource['service.name'] === serviceName);
    expect(ours).toHaveLength(1);
    expect(ours[0]?.resource['service.instance.id']).toBe(`${serviceName}-0`);
    const metrics = ours.flatMap((rm) => rm.scopeMetrics.flatMap((s) => s.metrics));
    expect(metrics.map((m) => m.name).sort()).toEqual([smokeMetricNames.duration, smokeMetricNames.requests].sort());

    const counter = metrics.find((m) => m.name === smokeMetricNames.requests);
    expect(counter?.kind).toBe('sum');
    if (counter?.kind !== 'sum') return;
    expect(counter.monotonic).toBe(true);
    const byStatus = Object.fromEntries(counter.points.map((p) => [p.attributes['http.response.status_code'], p.value]));
    expect(byStatus).toEqual({ '200': 16, '500': 4 });
    for (const p of counter.points) expect(p.attributes['http.route']).toBe('/smoke');

    const histogram = metrics.find((m) => m.name === smokeMetricNames.duration);
    expect(histogram?.kind).toBe('histogram');
    if (histogram?.kind !== 'histogram') return;
    const total = histogram.points.reduce((n, p) => n + p.count, 0);
    expect(total).toBe(20);
    for (const p of histogram.points) expect(p.bucketCounts.reduce((a, b) => a + b, 0)).toBe(p.count);
  });

  it('is scraped by Prometheus from the collector, with job = service.name', async () => {
    const samples = await eventually('smoke counter in Prometheus', async () => {
      const result = await promQuery(endpoints.prometheus, `aiops_smoke_requests_total{job="${serviceName}"}`);
      return result.length === 2 ? result : undefined;
    });
    const byStatus = Object.fromEntries(samples.map((s) => [s.metric.http_response_status_code, s.value]));
    expect(byStatus).toEqual({ '200': 16, '500': 4 });
    const [count] = await promQuery(endpoints.prometheus, `sum(aiops_smoke_duration_seconds_count{job="${serviceName}"})`);
    expect(count?.value).toBe(20);
  });

  it('stores the trace in the trace store, both spans under the service', async () => {
    const trace = await eventually('smoke trace in the trace store', () => getTrace(endpoints.traceQuery, sent.traceId));
    expect(trace.spans.map((s) => s.operationName).sort()).toEqual(['GET /smoke', 'smoke.work']);
    const services = new Set(trace.spans.map((s) => trace.processes[s.processID]?.serviceName));
    expect([...services]).toEqual([serviceName]);
    const child = trace.spans.find((s) => s.operationName === 'smoke.work');
    const parent = trace.spans.find((s) => s.operationName === 'GET /smoke');
    expect(child?.references).toContainEqual(expect.objectContaining({ refType: 'CHILD_OF', spanID: parent?.spanID }));
  });
});
