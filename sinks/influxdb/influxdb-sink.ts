import { InfluxDB, Point, setLogger } from '@influxdata/influxdb-client';
import type { WriteApi } from '@influxdata/influxdb-client';
import { aiopsError } from '../../runtime/errors.js';
import type { Logger } from '../../runtime/logger.js';
import { anomaliesTopic } from '../../schemas/anomalies.js';
import { measurementsTopic } from '../../schemas/measurements.js';
import { sloTopic } from '../../schemas/slo.js';
import { Credentials } from '../credentials.js';
import type { Sink, SinkEvent } from '../runtime.js';

export interface InfluxSinkOptions {
  /** Server URL, e.g. http://127.0.0.1:8086. */
  readonly url: string;
  readonly org: string;
  readonly bucket: string;
  /** Token (`Authorization: Token ...`); InfluxDB 1.8 takes `user:password`, or none without auth. */
  readonly credentials?: Credentials;
  readonly log: Logger;
}

/** The topics the InfluxDB sink reads: measurements and both event topics. */
export const influxTopics: readonly string[] = [measurementsTopic, anomaliesTopic, sloTopic];

function addFields(point: Point, fields: Readonly<Record<string, number>>): number {
  let n = 0;
  for (const [name, value] of Object.entries(fields)) {
    // Line protocol has no NaN or infinity: a value the model does not have yet is left out.
    if (Number.isFinite(value)) {
      point.floatField(name, value);
      n++;
    }
  }
  return n;
}

/**
 * Writes to InfluxDB through its v2 write API (`@influxdata/influxdb-client`, millisecond
 * precision), one batch per delivered batch of records:
 * - measurements as they are (`anomaly`: actual, expected, lower, upper, score per signal and
 *   metric; `slo`: burn rates, error ratios and budget per SLO);
 * - anomaly events as `anomaly_event` (tags signal, metric, service, endpoint, state, severity,
 *   detector; fields score, actual, expected, lower, upper);
 * - SLO events as `slo_event` (tags slo, service, tier, state; fields long_burn_rate,
 *   short_burn_rate, factor, budget_remaining).
 * The client's own retries are off: a failed write rejects the batch and the sink runner retries
 * it with backoff, committing offsets only once the server accepted it. Rewriting a point is
 * harmless (same series and time: the same point).
 */
export class InfluxSink implements Sink {
  readonly name = 'influxdb';
  private readonly client: InfluxDB;
  /** Points written so far. */
  written = 0;

  constructor(private readonly options: InfluxSinkOptions) {
    const token = options.credentials?.rawToken();
    // The client logs failed writes to the console itself; the sink runner reports them once per retry.
    setLogger({ error: (message, error) => options.log.debug({ error: (error as Error | undefined)?.message }, message), warn: (message) => options.log.debug(message) });
    this.client = new InfluxDB({ url: options.url, ...(token === undefined ? {} : { token }), timeout: 10_000 });
  }

  /** A write API for one batch: no timer, no retries of its own, everything in one request. */
  private writeApi(): WriteApi {
    return this.client.getWriteApi(this.options.org, this.options.bucket, 'ms', { maxRetries: 0, batchSize: 1_000_000, flushInterval: 0, maxBufferLines: 1_000_000 });
  }

  /** Point of one record, or undefined when it has no value to write. */
  static point(e: SinkEvent): Point | undefined {
    let point: Point;
    let fields = 0;
    if (e.kind === 'measurement') {
      point = new Point(e.event.measurement).timestamp(e.event.timestamp);
      for (const [k, v] of Object.entries(e.event.tags)) if (v !== '') point.tag(k, v);
      fields = addFields(point, e.event.fields);
    } else if (e.kind === 'anomaly') {
      const a = e.event;
      point = new Point('anomaly_event').timestamp(a.timestamp).tag('signal', a.signal).tag('metric', a.metric).tag('state', a.state).tag('severity', a.severity).tag('detector', a.detector);
      if (a.context.service) point.tag('service', a.context.service);
      if (a.context.endpoint) point.tag('endpoint', a.context.endpoint);
      fields = addFields(point, { score: a.score, actual: a.actual_value, expected: a.expected_value, lower: a.lower, upper: a.upper });
    } else {
      const s = e.event;
      point = new Point('slo_event').timestamp(s.timestamp).tag('slo', s.slo).tag('service', s.service).tag('tier', s.tier).tag('state', s.state);
      fields = addFields(point, { long_burn_rate: s.long_burn_rate, short_burn_rate: s.short_burn_rate, factor: s.factor, budget_remaining: s.budget_remaining });
    }
    return fields > 0 ? point : undefined;
  }

  async deliver(events: readonly SinkEvent[]): Promise<void> {
    const write = this.writeApi();
    let n = 0;
    for (const e of events) {
      const point = InfluxSink.point(e);
      if (point) {
        write.writePoint(point);
        n++;
      }
    }
    try {
      // close() flushes and rejects when the server refused the lines.
      await write.close();
    } catch (error) {
      throw new Error(`InfluxDB did not accept ${n} points: ${(error as Error).message}`);
    }
    this.written += n;
  }
}

/** The sink from the environment: AIOPS_INFLUXDB_URL (required), _ORG, _BUCKET, _TOKEN(_FILE). */
export function influxSinkFromEnv(env: NodeJS.ProcessEnv, log: Logger): InfluxSink {
  if (!env.AIOPS_INFLUXDB_URL) throw aiopsError('CONFIG_INVALID', ['  - AIOPS_INFLUXDB_URL: required when the influxdb sink is enabled (AIOPS_SINKS)']);
  const credentials = Credentials.fromEnv('AIOPS_INFLUXDB', 'Token', env);
  return new InfluxSink({ url: env.AIOPS_INFLUXDB_URL, org: env.AIOPS_INFLUXDB_ORG ?? 'aiops', bucket: env.AIOPS_INFLUXDB_BUCKET ?? 'aiops', ...(credentials ? { credentials } : {}), log });
}
