import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { aiopsError } from '../../runtime/errors.js';
import type { StackConfig } from '../config.js';
import { requireTool } from '../install.js';

/**
 * Runs a command with its output appended to `logFile`; neither the logged command line nor the
 * output shows a secret (Kafka's tools echo their arguments when they fail).
 */
export function runRedacted(command: string, args: readonly string[], options: { logFile: string; what: string; secrets: readonly string[]; cwd?: string; env?: Record<string, string> }): Promise<void> {
  mkdirSync(dirname(options.logFile), { recursive: true });
  const redact = (text: string): string => options.secrets.filter((s) => s.length > 0).reduce((t, secret) => t.split(secret).join('[redacted]'), text);
  const chunks: Buffer[] = [];
  const flush = (): void => {
    const fd = openSync(options.logFile, 'a');
    try {
      writeFileSync(fd, `\n$ ${redact(`${command} ${args.join(' ')}`)}\n${redact(Buffer.concat(chunks).toString('utf8'))}`);
    } finally {
      closeSync(fd);
    }
  };
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.once('error', (error) => {
      flush();
      reject(aiopsError('STACK_INSTALL_FAILED', [options.what, error.message, options.logFile], error));
    });
    child.once('close', (code, signal) => {
      flush();
      if (code === 0) resolve();
      else reject(aiopsError('STACK_INSTALL_FAILED', [options.what, `${command} exited with ${code ?? signal}`, options.logFile]));
    });
  });
}

/** Address a container in its own network namespace reaches the host by (host end of its veth pair). */
export function podGateway(env: NodeJS.ProcessEnv = process.env): string {
  return env.AIOPS_STACK_POD_GATEWAY || '10.203.0.1';
}

/** The SASL user of the local stack's SASL_SSL listener (SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN). */
export interface KafkaStackCredentials {
  readonly username: string;
  readonly password: string;
}

/** Where the SASL_SSL listener's files live: the CA clients trust, the broker keystore, the users. */
export interface KafkaSecurityFiles {
  /** PEM CA that signed the broker certificate (AIOPS_KAFKA_SSL_CA_FILE for clients). */
  readonly caFile: string;
  /** PKCS12 keystore of the broker (key and certificate chain). */
  readonly keystore: string;
  /** PKCS12 truststore holding the CA. */
  readonly truststore: string;
  /** File holding the password of both stores (0600). */
  readonly storePasswordFile: string;
  /** JSON `{ username, password }`, mode 0600. */
  readonly credentialsFile: string;
}

export function securityDir(config: StackConfig): string {
  return join(config.runDir, 'kafka', 'security');
}

export function securityFiles(config: StackConfig): KafkaSecurityFiles {
  const dir = securityDir(config);
  return {
    caFile: join(dir, 'ca.pem'),
    keystore: join(dir, 'broker.p12'),
    truststore: join(dir, 'truststore.p12'),
    storePasswordFile: join(dir, 'store-password'),
    credentialsFile: join(dir, 'credentials.json'),
  };
}

function writeSecret(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
}

function readOrCreateSecret(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
  const secret = randomBytes(18).toString('base64url');
  writeSecret(file, `${secret}\n`);
  return secret;
}

/** The stack's SASL user, generated once per stack home and kept in the run dir (0600). */
export function stackCredentials(config: StackConfig): KafkaStackCredentials {
  const file = join(securityDir(config), 'credentials.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as KafkaStackCredentials;
  mkdirSync(securityDir(config), { recursive: true, mode: 0o700 });
  const credentials: KafkaStackCredentials = { username: 'aiops', password: randomBytes(18).toString('base64url') };
  writeSecret(file, `${JSON.stringify(credentials, null, 2)}\n`);
  return credentials;
}

/** The stack's credentials if `stack up` made them, without creating any. */
export function existingStackCredentials(config: StackConfig): KafkaStackCredentials | undefined {
  const file = join(securityDir(config), 'credentials.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as KafkaStackCredentials) : undefined;
}

/** Names the broker certificate holds: what clients on this host and in pods connect by. */
export function brokerNames(config: StackConfig): string[] {
  const ips = [...new Set(['127.0.0.1', config.host, podGateway()])].filter((h) => /^[\d.]+$/.test(h) || h.includes(':'));
  const dns = [...new Set(['localhost', ...(/^[\d.]+$/.test(config.host) || config.host.includes(':') ? [] : [config.host])])];
  return [...dns.map((d) => `dns:${d}`), ...ips.map((ip) => `ip:${ip}`)];
}

/**
 * Makes (once, then reuses) a CA and a broker certificate signed by it with keytool from the JDK
 * the broker runs on: a PKCS12 keystore and truststore for the broker and the CA in PEM for
 * clients. Made anew only when the names the certificate must hold change.
 */
export async function ensureBrokerCertificates(config: StackConfig): Promise<KafkaSecurityFiles & { storePassword: string }> {
  const files = { ...securityFiles(config), storePassword: readOrCreateSecret(securityFiles(config).storePasswordFile) };
  const dir = securityDir(config);
  const names = brokerNames(config).join(',');
  const marker = join(dir, 'certificate-names');
  if (existsSync(files.keystore) && existsSync(files.caFile) && existsSync(files.truststore) && existsSync(marker) && readFileSync(marker, 'utf8') === names) return files;
  const keytool = requireTool('keytool', 'the local Kafka broker certificate is made with the JDK keytool');
  const staging = join(dir, 'staging');
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  const pass = files.storePassword;
  const logFile = join(config.logDir, 'kafka-certificates.log');
  const run = (args: string[], what: string): Promise<void> => runRedacted(keytool, args, { logFile, what, cwd: staging, secrets: [pass] });
  const ca = join(staging, 'ca.p12');
  const broker = join(staging, 'broker.p12');
  const common = ['-storetype', 'PKCS12', '-storepass', pass, '-keypass', pass];
  await run(['-genkeypair', '-alias', 'ca', '-keyalg', 'RSA', '-keysize', '2048', '-dname', 'CN=aiops local stack CA', '-ext', 'bc:c', '-ext', 'KU:c=keyCertSign,cRLSign', '-validity', '3650', '-keystore', ca, ...common], 'the local stack CA');
  await run(['-exportcert', '-alias', 'ca', '-keystore', ca, '-storepass', pass, '-rfc', '-file', join(staging, 'ca.pem')], 'the CA certificate');
  await run(['-genkeypair', '-alias', 'broker', '-keyalg', 'RSA', '-keysize', '2048', '-dname', 'CN=localhost', '-validity', '825', '-keystore', broker, ...common], 'the broker key');
  await run(['-certreq', '-alias', 'broker', '-keystore', broker, '-storepass', pass, '-file', join(staging, 'broker.csr')], 'the broker certificate request');
  await run(
    ['-gencert', '-alias', 'ca', '-keystore', ca, '-storepass', pass, '-infile', join(staging, 'broker.csr'), '-outfile', join(staging, 'broker.pem'), '-rfc', '-validity', '825', '-ext', `SAN=${names}`, '-ext', 'KU=digitalSignature,keyEncipherment', '-ext', 'EKU=serverAuth'],
    'the broker certificate',
  );
  await run(['-importcert', '-noprompt', '-alias', 'ca', '-file', join(staging, 'ca.pem'), '-keystore', broker, '-storepass', pass], 'the CA into the broker keystore');
  await run(['-importcert', '-alias', 'broker', '-file', join(staging, 'broker.pem'), '-keystore', broker, '-storepass', pass], 'the broker certificate into its keystore');
  await run(['-importcert', '-noprompt', '-alias', 'ca', '-file', join(staging, 'ca.pem'), '-keystore', join(staging, 'truststore.p12'), '-storetype', 'PKCS12', '-storepass', pass], 'the truststore');
  renameSync(broker, files.keystore);
  renameSync(join(staging, 'truststore.p12'), files.truststore);
  renameSync(join(staging, 'ca.pem'), files.caFile);
  writeFileSync(marker, names);
  // The CA's private key is not needed again: a new certificate means a new CA.
  rmSync(staging, { recursive: true, force: true });
  return files;
}
