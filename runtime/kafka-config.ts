import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { aiopsError } from './errors.js';

/** How a client talks to the brokers: Kafka's own `security.protocol` names. */
export type KafkaSecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';

/** SASL mechanisms kafkajs implements that the platform supports, in kafkajs spelling. */
export type KafkaSaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

/** SASL credentials as kafkajs takes them. The password does not show in JSON or logs. */
export interface KafkaSasl {
  /** Mechanism, lower case as kafkajs wants it. */
  readonly mechanism: KafkaSaslMechanism;
  /** SASL user name. */
  readonly username: string;
  /** SASL password (non-enumerable: never serialised). */
  readonly password: string;
}

/** Everything a platform Kafka client needs to reach the brokers, validated and frozen. */
export interface KafkaConnection {
  /** Bootstrap brokers, `host:port`. */
  readonly brokers: readonly string[];
  /** The configured security protocol. */
  readonly securityProtocol: KafkaSecurityProtocol;
  /** TLS options (SSL, SASL_SSL): CA, client certificate, server name; verification always on. */
  readonly ssl?: ConnectionOptions;
  /** SASL credentials (SASL_PLAINTEXT, SASL_SSL). */
  readonly sasl?: KafkaSasl;
}

export const securityProtocols: readonly KafkaSecurityProtocol[] = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];
const mechanisms: Readonly<Record<string, KafkaSaslMechanism>> = { PLAIN: 'plain', 'SCRAM-SHA-256': 'scram-sha-256', 'SCRAM-SHA-512': 'scram-sha-512' };

/** Every variable the connection is read from; each may instead be given as `<NAME>_FILE`. */
export const kafkaConnectionVariables = [
  'AIOPS_KAFKA_BROKERS',
  'AIOPS_KAFKA_SECURITY_PROTOCOL',
  'AIOPS_KAFKA_SSL_CA_FILE',
  'AIOPS_KAFKA_SSL_CERT_FILE',
  'AIOPS_KAFKA_SSL_KEY_FILE',
  'AIOPS_KAFKA_SSL_KEY_PASSWORD',
  'AIOPS_KAFKA_SSL_SERVERNAME',
  'AIOPS_KAFKA_SASL_MECHANISM',
  'AIOPS_KAFKA_SASL_USERNAME',
  'AIOPS_KAFKA_SASL_PASSWORD',
] as const;

type VariableName = (typeof kafkaConnectionVariables)[number];

export const defaultKafkaBrokers = '127.0.0.1:9092';

/** A plaintext connection to `brokers`: what the platform did before security settings existed. */
export function plaintextConnection(brokers: readonly string[]): KafkaConnection {
  return Object.freeze({ brokers: Object.freeze([...brokers]), securityProtocol: 'PLAINTEXT' });
}

function reason(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code ?? e.message;
}

/** The value of `name` or of `name_FILE` (the file's content, without a final line break). */
function readVariable(env: NodeJS.ProcessEnv, name: VariableName, problems: string[]): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  const hasDirect = direct !== undefined && direct !== '';
  const hasFile = file !== undefined && file !== '';
  if (hasDirect && hasFile) {
    problems.push(`${name} and ${name}_FILE are both set: set one of them`);
    return undefined;
  }
  if (hasFile) {
    try {
      return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      problems.push(`${name}_FILE=${file}: cannot read the file (${reason(error)})`);
      return undefined;
    }
  }
  return hasDirect ? direct : undefined;
}

/** Reads a PEM file named by a variable; `what` says what it must hold. */
function readPem(name: string, path: string, marker: RegExp, what: string, problems: string[]): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    problems.push(`${name}=${path}: cannot read the file (${reason(error)})`);
    return undefined;
  }
  if (!marker.test(text)) {
    problems.push(`${name}=${path}: does not hold ${what} in PEM form`);
    return undefined;
  }
  return text;
}

function checkBrokers(raw: string, problems: string[]): string[] {
  const brokers = raw.split(',').map((b) => b.trim()).filter((b) => b.length > 0);
  if (brokers.length === 0) problems.push('AIOPS_KAFKA_BROKERS: expected host:port[,host:port...]');
  for (const broker of brokers) {
    const match = /^(.+):(\d+)$/.exec(broker);
    const port = Number(match?.[2]);
    if (!match || !(port >= 1 && port <= 65535)) problems.push(`AIOPS_KAFKA_BROKERS: "${broker}" is not host:port`);
  }
  return brokers;
}

/** Hides a value from JSON (and so from pino) while kafkajs and tls still read it. */
function hidden<T extends object>(target: T, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: false, writable: false, configurable: false });
}

/**
 * Reads the Kafka connection settings from `env` (see docs/configuration.md), validates them once
 * and reports every problem at once (AIOPS_ERR_CONFIG_INVALID, one line each). Secret values
 * never appear in the error or in the returned object's JSON.
 */
export function kafkaConnectionFromEnv(env: NodeJS.ProcessEnv = process.env, defaults: { brokers?: string } = {}): KafkaConnection {
  const problems: string[] = [];
  const connection = parseKafkaConnection(env, problems, defaults);
  if (!connection) throw aiopsError('CONFIG_INVALID', [problems.map((p) => `  - ${p}`).join('\n')]);
  return connection;
}

/**
 * As {@link kafkaConnectionFromEnv}, but adds its problems to `problems` (for a command that
 * validates its other settings in the same pass) and returns undefined when there are any.
 */
export function parseKafkaConnection(env: NodeJS.ProcessEnv, problems: string[], defaults: { brokers?: string } = {}): KafkaConnection | undefined {
  const before = problems.length;
  const value = (name: VariableName): string | undefined => readVariable(env, name, problems);
  const brokers = checkBrokers(value('AIOPS_KAFKA_BROKERS') ?? defaults.brokers ?? defaultKafkaBrokers, problems);

  const protocolRaw = value('AIOPS_KAFKA_SECURITY_PROTOCOL');
  const protocol = (protocolRaw ?? 'PLAINTEXT').trim().toUpperCase() as KafkaSecurityProtocol;
  const protocolKnown = securityProtocols.includes(protocol);
  if (!protocolKnown) problems.push(`AIOPS_KAFKA_SECURITY_PROTOCOL=${protocolRaw}: expected one of ${securityProtocols.join(', ')}`);
  const usesTls = protocol === 'SSL' || protocol === 'SASL_SSL';
  const usesSasl = protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';

  const caFile = value('AIOPS_KAFKA_SSL_CA_FILE');
  const certFile = value('AIOPS_KAFKA_SSL_CERT_FILE');
  const keyFile = value('AIOPS_KAFKA_SSL_KEY_FILE');
  const keyPassword = value('AIOPS_KAFKA_SSL_KEY_PASSWORD');
  const servername = value('AIOPS_KAFKA_SSL_SERVERNAME');
  const mechanismRaw = value('AIOPS_KAFKA_SASL_MECHANISM');
  const username = value('AIOPS_KAFKA_SASL_USERNAME');
  const password = value('AIOPS_KAFKA_SASL_PASSWORD');

  const tlsSet = [
    ['AIOPS_KAFKA_SSL_CA_FILE', caFile],
    ['AIOPS_KAFKA_SSL_CERT_FILE', certFile],
    ['AIOPS_KAFKA_SSL_KEY_FILE', keyFile],
    ['AIOPS_KAFKA_SSL_KEY_PASSWORD', keyPassword],
    ['AIOPS_KAFKA_SSL_SERVERNAME', servername],
  ].filter(([, v]) => v !== undefined).map(([n]) => n);
  const saslSet = [
    ['AIOPS_KAFKA_SASL_MECHANISM', mechanismRaw],
    ['AIOPS_KAFKA_SASL_USERNAME', username],
    ['AIOPS_KAFKA_SASL_PASSWORD', password],
  ].filter(([, v]) => v !== undefined).map(([n]) => n);
  if (protocolKnown && !usesTls && tlsSet.length > 0) problems.push(`${tlsSet.join(', ')} set, but AIOPS_KAFKA_SECURITY_PROTOCOL=${protocol} does not use TLS (SSL or SASL_SSL does)`);
  if (protocolKnown && !usesSasl && saslSet.length > 0) problems.push(`${saslSet.join(', ')} set, but AIOPS_KAFKA_SECURITY_PROTOCOL=${protocol} does not use SASL (SASL_SSL or SASL_PLAINTEXT does)`);

  let ssl: ConnectionOptions | undefined;
  if (usesTls) {
    const options: ConnectionOptions = { rejectUnauthorized: true };
    if (caFile !== undefined) {
      const ca = readPem('AIOPS_KAFKA_SSL_CA_FILE', caFile, /-----BEGIN CERTIFICATE-----/, 'a certificate', problems);
      if (ca !== undefined) options.ca = [ca];
    }
    if (certFile !== undefined && keyFile === undefined) problems.push('AIOPS_KAFKA_SSL_CERT_FILE is set without AIOPS_KAFKA_SSL_KEY_FILE: a client certificate needs its private key');
    if (keyFile !== undefined && certFile === undefined) problems.push('AIOPS_KAFKA_SSL_KEY_FILE is set without AIOPS_KAFKA_SSL_CERT_FILE');
    if (keyPassword !== undefined && keyFile === undefined) problems.push('AIOPS_KAFKA_SSL_KEY_PASSWORD is set without AIOPS_KAFKA_SSL_KEY_FILE');
    if (certFile !== undefined) {
      const cert = readPem('AIOPS_KAFKA_SSL_CERT_FILE', certFile, /-----BEGIN CERTIFICATE-----/, 'a certificate', problems);
      if (cert !== undefined) options.cert = cert;
    }
    if (keyFile !== undefined) {
      const key = readPem('AIOPS_KAFKA_SSL_KEY_FILE', keyFile, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key', problems);
      if (key !== undefined) options.key = key;
    }
    if (keyPassword !== undefined) options.passphrase = keyPassword;
    if (servername !== undefined) options.servername = servername;
    // kafkajs copies the options into tls.connect (own enumerable properties only), so the key
    // stays enumerable; JSON (and so pino) sees them without key material.
    hidden(options, 'toJSON', () => ({ ...options, ...(options.key ? { key: '[redacted]' } : {}), ...(options.passphrase ? { passphrase: '[redacted]' } : {}), ca: options.ca ? '[pem]' : undefined }));
    ssl = options;
  }

  let sasl: KafkaSasl | undefined;
  const mechanism = mechanismRaw === undefined ? undefined : mechanisms[mechanismRaw.trim().toUpperCase()];
  if (mechanismRaw !== undefined && mechanism === undefined) problems.push(`AIOPS_KAFKA_SASL_MECHANISM=${mechanismRaw}: expected one of ${Object.keys(mechanisms).join(', ')} (OAUTHBEARER and AWS_MSK_IAM are not supported)`);
  if (usesSasl) {
    if (mechanismRaw === undefined) problems.push(`AIOPS_KAFKA_SASL_MECHANISM: required with ${protocol} (${Object.keys(mechanisms).join(', ')})`);
    if (username === undefined) problems.push(`AIOPS_KAFKA_SASL_USERNAME: required with ${protocol}`);
    if (password === undefined) problems.push(`AIOPS_KAFKA_SASL_PASSWORD: required with ${protocol}`);
    if (mechanism !== undefined && username !== undefined && password !== undefined) {
      const credentials = { mechanism, username } as { mechanism: KafkaSaslMechanism; username: string; password: string };
      hidden(credentials, 'password', password);
      sasl = credentials;
    }
  }

  if (problems.length > before) return undefined;
  return Object.freeze({
    brokers: Object.freeze(brokers),
    securityProtocol: protocol,
    ...(ssl ? { ssl } : {}),
    ...(sasl ? { sasl } : {}),
  });
}

/** The connection in words, for start-up logs: protocol, brokers, mechanism and user, CA; no secrets. */
export function describeKafkaConnection(connection: KafkaConnection): Record<string, unknown> {
  return {
    brokers: connection.brokers.join(','),
    securityProtocol: connection.securityProtocol,
    ...(connection.ssl ? { tlsCa: connection.ssl.ca ? 'file' : 'system', clientCertificate: connection.ssl.cert !== undefined, ...(connection.ssl.servername ? { servername: connection.ssl.servername } : {}) } : {}),
    ...(connection.sasl ? { saslMechanism: connection.sasl.mechanism, saslUsername: connection.sasl.username } : {}),
  };
}
