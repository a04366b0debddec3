import { SpanStatusCode, metrics, trace } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';

/** What to send, and where. */
export interface SmokeOptions {
  /** Base URL of the collector's OTLP/HTTP receiver, e.g. http://127.0.0.1:4318. */
  readonly otlpHttpEndpoint: string;
  /** service.name of the telemetry; make it unique per run to find it again. */
  readonly serviceName: string;
  /** Requests to record (default 20). */
  readonly requests?: number;
}

/** What was sent, for the caller to look for downstream. */
export interface SmokeResult {
  readonly serviceName: string;
  readonly traceId: string;
  readonly requests: number;
  readonly errors: number;
  /** The OTel metric names recorded. */
  readonly metricNames: readonly string[];
  readonly attributes: Readonly<Record<string, string>>;
}

export const smokeMetricNames = { requests: 'aiops.smoke.requests', duration: 'aiops.smoke.duration' } as const;

/**
 * Sends a small, known batch of telemetry through the OpenTelemetry Node SDK over OTLP/HTTP:
 * a request counter and a duration histogram (one in five requests fails), and one trace with a
 * parent and a child span. Shuts the SDK down, which flushes both signals, before returning.
 */
export async function sendSmokeTelemetry(options: SmokeOptions): Promise<SmokeResult> {
  const requests = options.requests ?? 20;
  const base = options.otlpHttpEndpoint.replace(/\/$/, '');
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ 'service.name': options.serviceName, 'service.instance.id': `${options.serviceName}-0` }),
    autoDetectResources: false,
    traceExporter: new OTLPTraceExporter({ url: `${base}/v1/traces` }),
    metricReaders: [
      new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: `${base}/v1/metrics` }), exportIntervalMillis: 60_000 }),
    ],
    instrumentations: [],
  });
  sdk.start();
  try {
    const meter = metrics.getMeter('aiops-smoke');
    const counter = meter.createCounter(smokeMetricNames.requests, { description: 'Requests handled by the smoke producer', unit: '{request}' });
    const histogram = meter.createHistogram(smokeMetricNames.duration, { description: 'Duration of smoke requests', unit: 's' });
    const attributes = { 'http.route': '/smoke', 'http.request.method': 'GET' };
    let errors = 0;
    for (let i = 0; i < requests; i++) {
      const failed = i % 5 === 4;
      if (failed) errors++;
      const status = failed ? '500' : '200';
      counter.add(1, { ...attributes, 'http.response.status_code': status });
      histogram.record(0.01 * (1 + (i % 10)), { ...attributes, 'http.response.status_code': status });
    }

    const tracer = trace.getTracer('aiops-smoke');
    const traceId = await tracer.startActiveSpan('GET /smoke', async (parent) => {
      parent.setAttributes(attributes);
      await tracer.startActiveSpan('smoke.work', async (child) => {
        child.setAttribute('smoke.step', 'work');
        child.end();
      });
      parent.setStatus({ code: SpanStatusCode.OK });
      parent.end();
      return parent.spanContext().traceId;
    });
    return { serviceName: options.serviceName, traceId, requests, errors, metricNames: Object.values(smokeMetricNames), attributes };
  } finally {
    await sdk.shutdown();
  }
}
