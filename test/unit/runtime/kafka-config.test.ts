import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { AiopsError } from '../../../runtime/errors.js';
import { describeKafkaConnection, kafkaConnectionFromEnv } from '../../../runtime/kafka-config.js';
import { classifyKafkaError, connectionOf, kafkaClientConfig } from '../../../runtime/kafka-connect.js';
import { processKafka } from '../../../runtime/runner.js';
import { kafkaClient } from '../../../stack/clients/kafka-client.js';

const dir = mkdtempSync(join(tmpdir(), 'kafka-config-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const ca = file('ca.pem', rootCertificates[0] ?? '');
const secret = 'pa55-w0rd-never-shown';

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    kafkaConnectionFromEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(AiopsError);
    expect((error as AiopsError).code).toBe('AIOPS_ERR_CONFIG_INVALID');
    return (error as Error).message.split('\n').slice(1).map((l) => l.replace(/^ {2}- /, ''));
  }
  return [];
}


describe('kafkaConnectionFromEnv', () => {
  it('defaults to plaintext on 127.0.0.1:9092, with no TLS or SASL pieces (the demo and tests as before)', () => {
    const c = kafkaConnectionFromEnv({});
    expect(c).toEqual({ brokers: ['127.0.0.1:9092'], securityProtocol: 'PLAINTEXT' });
    expect(kafkaClientConfig(c)).toEqual({ brokers: ['127.0.0.1:9092'] });
  });

  it('builds TLS options with verification on and SASL credentials for SASL_SSL', () => {
    const c = kafkaConnectionFromEnv({
      AIOPS_KAFKA_BROKERS: 'b1:9095, b2:9095',
      AIOPS_KAFKA_SECURITY_PROTOCOL: 'sasl_ssl',
      AIOPS_KAFKA_SSL_CA_FILE: ca,
      AIOPS_KAFKA_SSL_SERVERNAME: 'kafka.internal',
      AIOPS_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      AIOPS_KAFKA_SASL_USERNAME: 'svc',
      AIOPS_KAFKA_SASL_PASSWORD: secret,
    });
    expect(c.brokers).toEqual(['b1:9095', 'b2:9095']);
    expect(c.securityProtocol).toBe('SASL_SSL');
    expect(c.ssl).toMatchObject({ rejectUnauthorized: true, servername: 'kafka.internal', ca: [rootCertificates[0]] });
    expect(c.sasl).toMatchObject({ mechanism: 'scram-sha-512', username: 'svc' });
    expect(c.sasl?.password).toBe(secret);
    expect(JSON.stringify(c)).not.toContain(secret);
  });

  it('uses the system CAs when SSL has no CA file', () => {
    const c = kafkaConnectionFromEnv({ AIOPS_KAFKA_SECURITY_PROTOCOL: 'SSL' });
    expect(c.ssl?.rejectUnauthorized).toBe(true);
    expect(c.ssl?.ca).toBeUndefined();
    expect(c.sasl).toBeUndefined();
  });

  it('reads every setting from its _FILE form, without the final line break', () => {
    const c = kafkaConnectionFromEnv({
      AIOPS_KAFKA_BROKERS_FILE: file('brokers', 'k:9093\n'),
      AIOPS_KAFKA_SECURITY_PROTOCOL_FILE: file('protocol', 'SASL_PLAINTEXT\n'),
      AIOPS_KAFKA_SASL_MECHANISM_FILE: file('mechanism', 'PLAIN'),
      AIOPS_KAFKA_SASL_USERNAME_FILE: file('user', 'api-key\n'),
      AIOPS_KAFKA_SASL_PASSWORD_FILE: file('password', `${secret}\n`),
    });
    expect(c).toMatchObject({ brokers: ['k:9093'], securityProtocol: 'SASL_PLAINTEXT', sasl: { mechanism: 'plain', username: 'api-key' } });
    expect(c.sasl?.password).toBe(secret);
  });

  it('reports every problem at once, one line each', () => {
    const found = problems({
      AIOPS_KAFKA_BROKERS: 'nohost',
      AIOPS_KAFKA_SECURITY_PROTOCOL: 'TLS',
      AIOPS_KAFKA_SASL_MECHANISM: 'GSSAPI',
    });
    expect(found).toHaveLength(3);
    expect(found[0]).toMatch(/AIOPS_KAFKA_BROKERS: "nohost" is not host:port/);
    expect(found[1]).toMatch(/AIOPS_KAFKA_SECURITY_PROTOCOL=TLS: expected one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL/);
    expect(found[2]).toMatch(/AIOPS_KAFKA_SASL_MECHANISM=GSSAPI/);
  });

  it('requires mechanism, user and password with SASL, and names each one missing', () => {
    expect(problems({ AIOPS_KAFKA_SECURITY_PROTOCOL: 'SASL_SSL' })).toEqual([
      'AIOPS_KAFKA_SASL_MECHANISM: required with SASL_SSL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)',
      'AIOPS_KAFKA_SASL_USERNAME: required with SASL_SSL',
      'AIOPS_KAFKA_SASL_PASSWORD: required with SASL_SSL',
    ]);
  });

  it('refuses SASL and TLS settings a protocol would silently ignore', () => {
    const found = problems({ AIOPS_KAFKA_SASL_MECHANISM: 'PLAIN', AIOPS_KAFKA_SSL_CA_FILE: ca });
    expect(found).toEqual([
      'AIOPS_KAFKA_SSL_CA_FILE set, but AIOPS_KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not use TLS (SSL or SASL_SSL does)',
      'AIOPS_KAFKA_SASL_MECHANISM set, but AIOPS_KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not use SASL (SASL_SSL or SASL_PLAINTEXT does)',
    ]);
  });

  it('names unreadable files, a certificate without its key, and a value given twice', () => {
    const found = problems({
      AIOPS_KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      AIOPS_KAFKA_SSL_CA_FILE: join(dir, 'missing-ca.pem'),
      AIOPS_KAFKA_SSL_CERT_FILE: ca,
      AIOPS_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256',
      AIOPS_KAFKA_SASL_USERNAME: 'svc',
      AIOPS_KAFKA_SASL_USERNAME_FILE: file('user2', 'svc'),
      AIOPS_KAFKA_SASL_PASSWORD_FILE: join(dir, 'missing-password'),
    });
    expect(found).toEqual([
      'AIOPS_KAFKA_SASL_USERNAME and AIOPS_KAFKA_SASL_USERNAME_FILE are both set: set one of them',
      `AIOPS_KAFKA_SASL_PASSWORD_FILE=${join(dir, 'missing-password')}: cannot read the file (ENOENT)`,
      `AIOPS_KAFKA_SSL_CA_FILE=${join(dir, 'missing-ca.pem')}: cannot read the file (ENOENT)`,
      'AIOPS_KAFKA_SSL_CERT_FILE is set without AIOPS_KAFKA_SSL_KEY_FILE: a client certificate needs its private key',
      'AIOPS_KAFKA_SASL_USERNAME: required with SASL_SSL',
      'AIOPS_KAFKA_SASL_PASSWORD: required with SASL_SSL',
    ]);
  });

  it('refuses a CA file that holds no certificate and a key file that holds no key', () => {
    const notPem = file('not.pem', 'hello');
    const found = problems({ AIOPS_KAFKA_SECURITY_PROTOCOL: 'SSL', AIOPS_KAFKA_SSL_CA_FILE: notPem, AIOPS_KAFKA_SSL_CERT_FILE: ca, AIOPS_KAFKA_SSL_KEY_FILE: ca });
    expect(found).toEqual([`AIOPS_KAFKA_SSL_CA_FILE=${notPem}: does not hold a certificate in PEM form`, `AIOPS_KAFKA_SSL_KEY_FILE=${ca}: does not hold a private key in PEM form`]);
  });

  it('says that OAUTHBEARER and AWS MSK IAM are not supported', () => {
    const found = problems({ AIOPS_KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', AIOPS_KAFKA_SASL_MECHANISM: 'OAUTHBEARER', AIOPS_KAFKA_SASL_USERNAME: 'u', AIOPS_KAFKA_SASL_PASSWORD: secret });
    expect(found).toEqual(['AIOPS_KAFKA_SASL_MECHANISM=OAUTHBEARER: expected one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (OAUTHBEARER and AWS_MSK_IAM are not supported)']);
  });
});

describe('secrets', () => {
  const env = {
    AIOPS_KAFKA_BROKERS: '127.0.0.1:1',
    AIOPS_KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
    AIOPS_KAFKA_SSL_CA_FILE: ca,
    AIOPS_KAFKA_SSL_CERT_FILE: ca,
    AIOPS_KAFKA_SSL_KEY_FILE: file('key.pem', '-----BEGIN PRIVATE KEY-----\nMIIsecretkeymaterial\n-----END PRIVATE KEY-----\n'),
    AIOPS_KAFKA_SSL_KEY_PASSWORD: `${secret}-key`,
    AIOPS_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
    AIOPS_KAFKA_SASL_USERNAME: 'svc',
    AIOPS_KAFKA_SASL_PASSWORD: secret,
  };

  it('never shows the password, key or key password in logs of the connection or the client config', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = pino({ level: 'trace' }, sink);
    const connection = kafkaConnectionFromEnv(env);
    log.info({ connection }, 'connection');
    log.info({ config: kafkaClientConfig(connection) }, 'client config');
    log.info(describeKafkaConnection(connection), 'kafka');
    const text = lines.join('');
    expect(text).toContain('svc');
    expect(text).not.toContain(secret);
    expect(text).not.toContain('secretkeymaterial');
    // kafkajs and tls still get them.
    expect(connection.ssl?.key).toContain('secretkeymaterial');
    expect(connection.ssl?.passphrase).toBe(`${secret}-key`);
    expect(connection.sasl?.password).toBe(secret);
  });

  it('never puts a secret value into a configuration error, even a misplaced one', () => {
    try {
      kafkaConnectionFromEnv({ AIOPS_KAFKA_SASL_PASSWORD: secret, AIOPS_KAFKA_SASL_USERNAME: 'svc', AIOPS_KAFKA_SSL_KEY_PASSWORD: secret });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toContain('AIOPS_KAFKA_SASL_PASSWORD');
      expect((error as Error).message).not.toContain(secret);
    }
  });

  it('classifies authentication failures with the broker named and any echo of the password removed', () => {
    const connection = kafkaConnectionFromEnv(env);
    const refused = Object.assign(new Error(`SASL SCRAM SHA512 authentication failed: bad password ${secret}`), { name: 'KafkaJSSASLAuthenticationError' });
    const wrapped = Object.assign(new Error('wrapped'), { name: 'KafkaJSNonRetriableError', cause: refused });
    const error = classifyKafkaError(wrapped, 'k1:9095', connection);
    expect(error?.code).toBe('AIOPS_ERR_KAFKA_AUTH');
    expect(error?.retriable).toBe(false);
    expect(error?.message).toContain('k1:9095');
    expect(error?.message).toContain('SCRAM-SHA-512 as "svc"');
    expect(error?.message).not.toContain(secret);
  });
});

describe('classifyKafkaError', () => {
  it('turns certificate failures anywhere in kafkajs wrapping into AIOPS_ERR_KAFKA_TLS naming the broker', () => {
    const socket = Object.assign(new Error('Connection error: self-signed certificate in certificate chain'), { name: 'KafkaJSConnectionError', code: 'SELF_SIGNED_CERT_IN_CHAIN', broker: 'k2:9095' });
    const retries = Object.assign(new Error('retries exceeded'), { name: 'KafkaJSNumberOfRetriesExceeded', cause: socket });
    const error = classifyKafkaError(retries);
    expect(error?.code).toBe('AIOPS_ERR_KAFKA_TLS');
    expect(error?.message).toContain('k2:9095');
    expect(error?.message).toContain('AIOPS_KAFKA_SSL_CA_FILE');
    expect(classifyKafkaError(Object.assign(new Error('x'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), 'k3:1')?.message).toMatch(/k3:1 .*does not name this host/);
  });

  it('leaves errors a retry may cure alone', () => {
    expect(classifyKafkaError(Object.assign(new Error('Connection error: connect ECONNREFUSED'), { name: 'KafkaJSConnectionError', code: 'ECONNREFUSED' }))).toBeUndefined();
    expect(classifyKafkaError(new Error('The group coordinator is loading'))).toBeUndefined();
  });
});

describe('clients', () => {
  it('processKafka and kafkaClient take a broker list (plaintext) or a connection, and remember it', () => {
    const connection = kafkaConnectionFromEnv({ AIOPS_KAFKA_SECURITY_PROTOCOL: 'SSL', AIOPS_KAFKA_BROKERS: 'a:1' });
    expect(connectionOf(processKafka(connection, 'test'))).toBe(connection);
    expect(connectionOf(kafkaClient(['b:2']))).toEqual({ brokers: ['b:2'], securityProtocol: 'PLAINTEXT' });
  });
});
