import kafkajs from 'kafkajs';
import type { Kafka, KafkaConfig, SASLOptions } from 'kafkajs';
import { AiopsError, aiopsError } from './errors.js';
import { plaintextConnection } from './kafka-config.js';
import type { KafkaConnection } from './kafka-config.js';

const { logLevel } = kafkajs;

/** The connection each client was made with, so the runners can check it before they start. */
const connections = new WeakMap<Kafka, KafkaConnection>();

/** A connection from either a validated connection or a plain broker list (plaintext, as before). */
export function asConnection(target: KafkaConnection | readonly string[]): KafkaConnection {
  return isBrokerList(target) ? plaintextConnection(target) : target;
}

function isBrokerList(target: KafkaConnection | readonly string[]): target is readonly string[] {
  return Array.isArray(target);
}

/** The `brokers`, `ssl` and `sasl` pieces of a kafkajs `KafkaConfig`. */
export function kafkaClientConfig(connection: KafkaConnection): Pick<KafkaConfig, 'brokers' | 'ssl' | 'sasl'> {
  return {
    brokers: [...connection.brokers],
    ...(connection.ssl ? { ssl: connection.ssl } : {}),
    ...(connection.sasl ? { sasl: connection.sasl as SASLOptions } : {}),
  };
}

/** A kafkajs client for `connection` (the rest of `config` as given), remembered for {@link verifyKafka}. */
export function createKafka(connection: KafkaConnection, config: Omit<KafkaConfig, 'brokers' | 'ssl' | 'sasl'>): Kafka {
  const kafka = new kafkajs.Kafka({ ...config, ...kafkaClientConfig(connection) });
  connections.set(kafka, connection);
  return kafka;
}

/** The connection a client made by {@link createKafka} uses. */
export function connectionOf(kafka: Kafka): KafkaConnection | undefined {
  return connections.get(kafka);
}

// Node's certificate verification codes (and OpenSSL's handshake failures) that no retry cures.
const tlsCodes: Readonly<Record<string, string>> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the broker certificate is self-signed and not trusted; set AIOPS_KAFKA_SSL_CA_FILE',
  SELF_SIGNED_CERT_IN_CHAIN: 'the broker certificate chains to a CA that is not trusted; set AIOPS_KAFKA_SSL_CA_FILE to that CA',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the broker certificate is signed by an unknown CA; set AIOPS_KAFKA_SSL_CA_FILE to that CA',
  UNABLE_TO_GET_ISSUER_CERT: 'the issuer of the broker certificate is unknown; set AIOPS_KAFKA_SSL_CA_FILE',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the issuer of the broker certificate is unknown; set AIOPS_KAFKA_SSL_CA_FILE',
  CERT_UNTRUSTED: 'the broker certificate is not trusted',
  CERT_REJECTED: 'the broker certificate was rejected',
  CERT_HAS_EXPIRED: 'the broker certificate has expired',
  CERT_NOT_YET_VALID: 'the broker certificate is not valid yet',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the broker certificate does not name this host; connect by a name it holds or set AIOPS_KAFKA_SSL_SERVERNAME',
  HOSTNAME_MISMATCH: 'the broker certificate does not name this host; set AIOPS_KAFKA_SSL_SERVERNAME',
  ERR_SSL_WRONG_VERSION_NUMBER: 'the broker did not answer with TLS (a PLAINTEXT or SASL_PLAINTEXT listener?)',
  ERR_SSL_PACKET_LENGTH_TOO_LONG: 'the broker did not answer with TLS (a PLAINTEXT or SASL_PLAINTEXT listener?)',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'the broker does not trust the client certificate',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'the broker refused the client certificate',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'the broker requires a client certificate; set AIOPS_KAFKA_SSL_CERT_FILE and AIOPS_KAFKA_SSL_KEY_FILE',
};

interface ErrorLike {
  name?: string;
  message?: string;
  code?: string;
  broker?: string;
  cause?: unknown;
  originalError?: unknown;
}

function chain(error: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  let current: unknown = error;
  while (current && typeof current === 'object' && out.length < 8 && !out.includes(current as ErrorLike)) {
    const e = current as ErrorLike;
    out.push(e);
    current = e.cause ?? e.originalError;
  }
  return out;
}

/** Removes every occurrence of the connection's secrets from a text meant for people. */
function scrub(text: string, connection: KafkaConnection | undefined): string {
  const secrets = [connection?.sasl?.password, typeof connection?.ssl?.passphrase === 'string' ? connection.ssl.passphrase : undefined].filter((s): s is string => !!s && s.length >= 3);
  return secrets.reduce((t, s) => t.split(s).join('[redacted]'), text);
}

/**
 * The platform error for a kafkajs failure that no retry cures, or undefined: SASL authentication
 * refused (AIOPS_ERR_KAFKA_AUTH) or a TLS handshake that failed verification (AIOPS_ERR_KAFKA_TLS),
 * found anywhere in the error's cause chain (kafkajs wraps them in connection, retry and
 * non-retriable errors). `broker` names the address when the error does not.
 */
export function classifyKafkaError(error: unknown, broker?: string, connection?: KafkaConnection): AiopsError | undefined {
  if (error instanceof AiopsError && (error.code === 'AIOPS_ERR_KAFKA_AUTH' || error.code === 'AIOPS_ERR_KAFKA_TLS')) return error;
  const errors = chain(error);
  const where = errors.find((e) => typeof e.broker === 'string')?.broker ?? broker ?? 'unknown';
  const auth = errors.find((e) => e.name === 'KafkaJSSASLAuthenticationError' || /SASL .*authentication failed/i.test(e.message ?? ''));
  if (auth) {
    const mechanism = connection?.sasl ? `${connection.sasl.mechanism.toUpperCase()} as "${connection.sasl.username}"` : 'SASL';
    return aiopsError('KAFKA_AUTH', [where, mechanism, scrub(auth.message ?? 'authentication failed', connection)], error);
  }
  const tls = errors.find((e) => typeof e.code === 'string' && (e.code in tlsCodes || e.code.startsWith('ERR_SSL_')));
  if (tls?.code) {
    const hint = tlsCodes[tls.code] ?? 'the TLS handshake failed';
    return aiopsError('KAFKA_TLS', [where, `${hint} (${tls.code})`], error);
  }
  return undefined;
}

/**
 * Connects once to every bootstrap broker of `kafka`'s connection, without retries, and throws
 * AIOPS_ERR_KAFKA_AUTH or AIOPS_ERR_KAFKA_TLS naming the broker when the credentials or the
 * certificates are wrong, so a process ends at start instead of retrying a connection that
 * cannot succeed. Any other failure (a broker not up yet) is left to the client's own retries.
 * Clients not made by {@link createKafka} are not checked.
 */
export async function verifyKafka(kafka: Kafka, timeoutMs = 10_000): Promise<void> {
  const connection = connectionOf(kafka);
  if (!connection) return;
  const results = await Promise.all(
    connection.brokers.map(async (broker) => {
      const admin = new kafkajs.Kafka({
        clientId: 'aiops-connection-check',
        ...kafkaClientConfig({ ...connection, brokers: [broker] }),
        connectionTimeout: timeoutMs,
        authenticationTimeout: timeoutMs,
        requestTimeout: timeoutMs,
        retry: { retries: 0 },
        logLevel: logLevel.NOTHING,
      }).admin();
      try {
        await admin.connect();
        return undefined;
      } catch (error) {
        return classifyKafkaError(error, broker, connection);
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    }),
  );
  const failure = results.find((r) => r !== undefined);
  if (failure) throw failure;
}
