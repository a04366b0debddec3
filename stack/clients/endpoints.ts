import type { StackConfig } from '../config.js';
import { existingStackCredentials, securityFiles } from '../components/kafka-security.js';

/** The local stack's SASL_SSL listener: TLS with the stack's CA, SCRAM-SHA-256/512 or PLAIN. */
export interface SaslSslEndpoint {
  readonly brokers: readonly string[];
  /** PEM CA that signed the broker certificate. */
  readonly caFile: string;
  readonly username: string;
  readonly password: string;
}

/** Where the platform's real services answer: the local stack's, or external ones. */
export interface StackEndpoints {
  readonly kafkaBrokers: readonly string[];
  /** Collector OTLP/HTTP base URL. */
  readonly otlpHttp: string;
  /** Collector OTLP/gRPC host:port. */
  readonly otlpGrpc: string;
  readonly prometheus: string;
  readonly alertmanager: string;
  /** Trace store query API base URL (Jaeger). */
  readonly traceQuery: string;
  /**
   * InfluxDB base URL (InfluxDB 1.8 locally): v2 write API at /api/v2/write with bucket
   * `aiops/autogen`, Flux at /api/v2/query, InfluxQL at /query.
   */
  readonly influxdb: string;
  /** The SASL_SSL listener, when the stack has made its certificates and user (absent for external services). */
  readonly kafkaSaslSsl?: SaslSslEndpoint;
  /** True when the endpoints came from the environment rather than the local stack. */
  readonly external: boolean;
}

export function localEndpoints(config: StackConfig): StackEndpoints {
  const { host, ports } = config;
  return {
    kafkaBrokers: [`${host}:${ports.kafka.broker}`],
    otlpHttp: `http://${host}:${ports.otelcol.http}`,
    otlpGrpc: `${host}:${ports.otelcol.grpc}`,
    prometheus: `http://${host}:${ports.prometheus.http}`,
    alertmanager: `http://${host}:${ports.alertmanager.http}`,
    traceQuery: `http://${host}:${ports.jaeger.query}`,
    influxdb: `http://${host}:${ports.influxdb.http}`,
    ...saslSsl(config),
    external: false,
  };
}

function saslSsl(config: StackConfig): { kafkaSaslSsl?: SaslSslEndpoint } {
  const credentials = existingStackCredentials(config);
  if (!credentials) return {};
  const brokers = [`${config.host}:${config.ports.kafka.saslSsl}`];
  return { kafkaSaslSsl: { brokers, caFile: securityFiles(config).caFile, username: credentials.username, password: credentials.password } };
}

/** Environment variables that point tests and tools at an already running set of services. */
export const externalEndpointVariables = ['KAFKA_BROKERS', 'OTLP_HTTP_ENDPOINT', 'OTLP_GRPC_ENDPOINT', 'PROMETHEUS_URL', 'ALERTMANAGER_URL', 'TRACE_QUERY_URL', 'INFLUXDB_URL'] as const;

/**
 * Endpoints from KAFKA_BROKERS and friends when KAFKA_BROKERS is set; undefined otherwise.
 * Every missing variable is reported at once.
 */
export function externalEndpoints(env: NodeJS.ProcessEnv = process.env): StackEndpoints | undefined {
  if (!env.KAFKA_BROKERS) return undefined;
  const missing = externalEndpointVariables.filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`KAFKA_BROKERS is set, so these must be too: ${missing.join(', ')}`);
  return {
    kafkaBrokers: (env.KAFKA_BROKERS ?? '').split(',').map((b) => b.trim()),
    otlpHttp: env.OTLP_HTTP_ENDPOINT as string,
    otlpGrpc: env.OTLP_GRPC_ENDPOINT as string,
    prometheus: env.PROMETHEUS_URL as string,
    alertmanager: env.ALERTMANAGER_URL as string,
    traceQuery: env.TRACE_QUERY_URL as string,
    influxdb: env.INFLUXDB_URL as string,
    external: true,
  };
}
