import { encodeMetricsRequest } from '../../runtime/otlp/encode-metrics.js';
import type { MetricsRequest, NumberPoint } from '../../runtime/otlp/types.js';

/** What a NAB replay writes: a gauge per file, told apart by a point attribute. */
export interface NabOtlpNames {
  /** Resource `service.name` (default `nab`). */
  readonly serviceName: string;
  /** Gauge metric name (default `nab.value`, unit `1`). */
  readonly metricName: string;
  /** Point attribute holding the file's name (default `nab.file`). */
  readonly fileAttribute: string;
}

export const defaultNabOtlpNames: NabOtlpNames = Object.freeze({ serviceName: 'nab', metricName: 'nab.value', fileAttribute: 'nab.file' });

/** Instrumentation scope of replayed metrics. */
export const replayScope = 'aiops.replay';

/**
 * One OTLP request with every file's point at one time: resource `service.name`, one gauge
 * `nab.value` (unit `1`), a double point per file with attribute `nab.file`.
 */
export function nabRequest(timeMs: number, points: readonly { readonly file: string; readonly value: number }[], names: NabOtlpNames = defaultNabOtlpNames): MetricsRequest {
  const out: NumberPoint[] = points.map((p) => ({
    attributes: { [names.fileAttribute]: p.file },
    startTimeMs: 0,
    timeMs,
    startTimeUnixNano: '',
    timeUnixNano: '',
    flags: 0,
    value: p.value,
    isInt: false,
  }));
  return {
    resourceMetrics: [
      {
        resource: { 'service.name': names.serviceName },
        scopeMetrics: [{ scope: { name: replayScope, version: '', attributes: {} }, metrics: [{ name: names.metricName, description: '', unit: '1', kind: 'gauge', points: out }] }],
      },
    ],
  };
}

/** {@link nabRequest} encoded as otlp_proto, as a Buffer for kafkajs. */
export function encodeNabRecord(timeMs: number, points: readonly { readonly file: string; readonly value: number }[], names: NabOtlpNames = defaultNabOtlpNames): Buffer {
  const bytes = encodeMetricsRequest(nabRequest(timeMs, points, names));
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
