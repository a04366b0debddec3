import { randomUUID } from 'node:crypto';
import { sendSmokeTelemetry } from '../producers/smoke/index.js';
import { decodeMetricsRequest } from '../runtime/otlp/index.js';
import { sleep } from '../runtime/retry.js';
import { loadStackConfig, stackUp } from '../stack/index.js';
import { collectMessages, endOffsets, getTrace, kafkaClient, localEndpoints, promQuery } from '../stack/clients/index.js';

async function poll<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(500);
  }
  return undefined;
}

/**
 * The main job: brings the local stack up, sends telemetry through the collector with the
 * OpenTelemetry SDK, and shows where it arrived: the Kafka topic, Prometheus and the trace store.
 */
export async function runDemo(_argv: string[]): Promise<number> {
  const config = loadStackConfig();
  console.log('1/4 starting the local stack (first run installs Kafka, the collector, Jaeger, Prometheus, Alertmanager)');
  const report = await stackUp({ config, log: (line) => console.log(`    ${line}`) });
  console.log(`    stack ready in ${(report.totalMs / 1000).toFixed(1)} s`);
  const endpoints = localEndpoints(config);
  const kafka = kafkaClient(endpoints.kafkaBrokers, 'aiops-demo');
  const startOffsets = await endOffsets(kafka, 'otlp_metrics');

  const serviceName = `demo-${randomUUID().slice(0, 6)}`;
  console.log(`2/4 sending telemetry as service "${serviceName}" to the collector at ${endpoints.otlpHttp}`);
  const sent = await sendSmokeTelemetry({ otlpHttpEndpoint: endpoints.otlpHttp, serviceName, requests: 50 });
  console.log(`    ${sent.requests} requests (${sent.errors} errors) recorded; trace ${sent.traceId}`);

  console.log('3/4 following it through the platform');
  const [message] = await collectMessages(kafka, {
    topic: 'otlp_metrics',
    count: 1,
    startOffsets,
    timeoutMs: 60_000,
    filter: (m) => m.value !== null && decodeMetricsRequest(m.value).resourceMetrics.some((rm) => rm.resource['service.name'] === serviceName),
  });
  const request = decodeMetricsRequest(message?.value ?? Buffer.alloc(0));
  const names = request.resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((s) => s.metrics.map((m) => `${m.name} (${m.kind})`)));
  console.log(`    Kafka otlp_metrics partition ${message?.partition} offset ${message?.offset}: ${names.join(', ')}`);

  const series = await poll(async () => {
    const r = await promQuery(endpoints.prometheus, `aiops_smoke_requests_total{job="${serviceName}"}`);
    return r.length > 0 ? r : undefined;
  }, 30_000);
  for (const s of series ?? []) console.log(`    Prometheus aiops_smoke_requests_total{http_response_status_code="${s.metric.http_response_status_code}"} = ${s.value}`);
  if (!series) console.log('    Prometheus: series not scraped yet');

  const trace = await poll(() => getTrace(endpoints.traceQuery, sent.traceId), 30_000);
  console.log(trace ? `    trace store: ${trace.spans.length} spans (${trace.spans.map((s) => s.operationName).join(', ')})` : '    trace store: trace not stored yet');

  console.log('4/4 open:');
  console.log(`    Prometheus      ${endpoints.prometheus}/graph?g0.expr=${encodeURIComponent(`aiops_smoke_requests_total{job="${serviceName}"}`)}`);
  console.log(`    Jaeger          ${endpoints.traceQuery}/api/traces/${sent.traceId}`);
  console.log(`    Alertmanager    ${endpoints.alertmanager}/api/v2/alerts`);
  console.log('    the stack keeps running; stop it with: npm run stack:down');
  return series && trace ? 0 : 1;
}
