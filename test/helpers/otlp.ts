import { encodeMetricsRequest } from '../../runtime/otlp/index.js';
import type { MetricsRequest } from '../../runtime/otlp/index.js';

export interface SumRecordOptions {
  readonly service: string;
  readonly value: number;
  /** Interval of the one point (delta temporality). */
  readonly startMs: number;
  readonly timeMs: number;
  readonly metric?: string;
  readonly instance?: string;
  /** Extra resource attributes (e.g. padding to make a record large). */
  readonly resource?: Readonly<Record<string, string>>;
}

/** An `ExportMetricsServiceRequest` (otlp_proto) with one monotonic delta sum point, as the collector writes it to Kafka. */
export function sumRecord(o: SumRecordOptions): Buffer {
  const request: MetricsRequest = {
    resourceMetrics: [
      {
        resource: { 'service.name': o.service, 'service.instance.id': o.instance ?? 'i', ...o.resource },
        scopeMetrics: [
          {
            scope: { name: 't', version: '', attributes: {} },
            metrics: [
              {
                name: o.metric ?? 'http.server.requests',
                description: '',
                unit: '1',
                kind: 'sum',
                temporality: 2,
                monotonic: true,
                points: [{ attributes: {}, startTimeMs: o.startMs, timeMs: o.timeMs, startTimeUnixNano: `${o.startMs}000000`, timeUnixNano: `${o.timeMs}000000`, flags: 0, value: o.value, isInt: false }],
              },
            ],
          },
        ],
      },
    ],
  };
  return Buffer.from(encodeMetricsRequest(request));
}
