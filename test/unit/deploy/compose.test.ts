import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { configuredSinks } from '../../../cli/sinks-command.js';
import { parseTopicOptions } from '../../../cli/topics-command.js';
import { demoAdminMode, parseDemoAppArgs } from '../../../producers/demo-app/config.js';
import type { DemoAppConfig } from '../../../producers/demo-app/config.js';
import { parseDuration, parseMixSpec } from '../../../producers/loadgen/cli.js';
import { demoFaults } from '../../../cli/demo-command.js';
import { projectRoot } from '../../../stack/config.js';
import { ensureTool } from '../../../stack/tools.js';
import { commandRequirements, composeProblems, knownVariables, loadCompose, withDefaults } from './compose-references.js';
import type { CheckContext, ComposeModel } from './compose-references.js';

const run = promisify(execFile);
const composeDir = join(projectRoot, 'compose');
const baseFile = join(composeDir, 'docker-compose.yaml');
const saslFile = join(composeDir, 'docker-compose.sasl.yaml');
const base = readFileSync(baseFile, 'utf8');
const sasl = readFileSync(saslFile, 'utf8');
const deployDoc = readFileSync(join(projectRoot, 'docs/deploy.md'), 'utf8');
const version = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;

/** The profiles docs/deploy.md explains: `demo` (shop and load), `local-kafka` (the broker the SASL override leaves out). */
const knownProfiles = ['demo', 'local-kafka'];

const context: CheckContext = {
  composeDir,
  root: projectRoot,
  docs: deployDoc,
  knownProfiles,
  requirements: commandRequirements(projectRoot),
  knownVariables: knownVariables(projectRoot),
  platformImage: { repository: 'ghcr.io/aiops-stream/aiops', version },
};

const platformServices = ['ingest', 'evaluate', 'sinks'];

function copy(model: ComposeModel): ComposeModel {
  return JSON.parse(JSON.stringify(model)) as ComposeModel;
}

describe('compose/docker-compose.yaml', () => {
  it('passes the Compose Specification schema (check-jsonschema, builtin vendor.compose-spec), with and without the SASL override', async () => {
    const bin = await ensureTool('check-jsonschema');
    const { stdout } = await run(bin, ['--builtin-schema', 'vendor.compose-spec', baseFile, saslFile]);
    expect(stdout).toContain('ok');
  }, 300_000);

  it('the schema check fails a service with a key Compose does not know', async () => {
    const bin = await ensureTool('check-jsonschema');
    const doc = parse(base, { merge: true }) as { services: Record<string, Record<string, unknown>> };
    (doc.services.ingest as Record<string, unknown>).restart_policy = 'always';
    const dir = mkdtempSync(join(tmpdir(), 'aiops-compose-'));
    const file = join(dir, 'docker-compose.yaml');
    writeFileSync(file, stringify(doc));
    const failed = await run(bin, ['--builtin-schema', 'vendor.compose-spec', file]).then(
      () => '',
      (error: { stdout?: string }) => error.stdout ?? 'failed',
    );
    rmSync(dir, { recursive: true, force: true });
    expect(failed).toContain('restart_policy');
  }, 300_000);

  it('refers only to services, volumes, networks, files and variables that exist, and sets what the platform code needs', () => {
    expect(composeProblems(loadCompose([base]), context)).toEqual([]);
    expect(composeProblems(loadCompose([base, sasl]), context)).toEqual([]);
  });

  it('finds the variables the platform reads without a default in the source (the list is not empty)', () => {
    // If these go, the extraction stopped seeing reads, not the code stopped needing them.
    expect(context.requirements.get('sinks')?.map((r) => r.name)).toEqual(expect.arrayContaining(['AIOPS_INFLUXDB_URL', 'AIOPS_GRAFANA_URL']));
    expect(context.requirements.get('loadgen')).toEqual([expect.objectContaining({ name: 'AIOPS_LOADGEN_URL', flag: 'url' })]);
    expect([...context.requirements.keys()]).toEqual(expect.arrayContaining(['ingest', 'evaluate', 'sinks', 'demo-app', 'loadgen']));
  });

  it('the references check reports what is broken in a mutated copy', () => {
    const model = copy(loadCompose([base]));
    const s = model.services;
    delete model.volumes['prometheus-data'];
    (s.grafana as Record<string, unknown>).depends_on = { prometheus: { condition: 'service_healthy' }, jaegr: { condition: 'service_started' } };
    (s.grafana as Record<string, unknown>).image = 'grafana/grafana:latest';
    (s.jaeger as Record<string, unknown>).healthcheck = { disable: true };
    (s.jaeger as Record<string, unknown>).volumes = ['./jaeger/missing.yaml:/etc/jaeger/config.yaml:ro'];
    (s.loadgen as Record<string, unknown>).command = ['loadgen', '--rate', '25'];
    (s.loadgen as Record<string, unknown>).profiles = ['demos'];
    const sinksEnv = (s.sinks as { environment: Record<string, string> }).environment;
    delete sinksEnv.AIOPS_INFLUXDB_URL;
    sinksEnv.AIOPS_INFLUXDB_BUKET = 'aiops/autogen';
    (s.ingest as { environment: Record<string, string> }).environment.AIOPS_INGEST_BUCKET_MS = '${AIOPS_BUCKET}';
    (s.evaluate as Record<string, unknown>).networks = ['backend'];
    const problems = composeProblems(model, context).join('\n');
    expect(problems).toContain('service prometheus: volume prometheus-data is not declared');
    expect(problems).toContain('service grafana: depends_on jaegr, which is not a service');
    expect(problems).toContain('image grafana/grafana:latest is not pinned');
    expect(problems).toContain('service otel-collector: waits for jaeger to be healthy, but jaeger has no healthcheck');
    expect(problems).toContain('./jaeger/missing.yaml does not exist');
    expect(problems).toContain('service loadgen: AIOPS_LOADGEN_URL is read without a default');
    expect(problems).toContain('service loadgen: unknown profile demos');
    expect(problems).toContain('service sinks: AIOPS_INFLUXDB_URL is read without a default (sinks/influxdb/influxdb-sink.ts)');
    expect(problems).toContain('service sinks: sets AIOPS_INFLUXDB_BUKET, which the platform');
    expect(problems).toContain('variable ${AIOPS_BUCKET} has no default');
    expect(problems).toContain('service evaluate: network backend is not declared');
  });

  it('runs the platform image at the package version, non-root, read-only, without capabilities, with time to commit', () => {
    const model = loadCompose([base]);
    for (const name of ['topics', ...platformServices, 'demo-app', 'loadgen']) {
      const s = model.services[name] as Record<string, unknown>;
      expect(withDefaults(String(s.image)), name).toBe(`ghcr.io/aiops-stream/aiops:${version}`);
      expect(s.build, name).toEqual({ context: '..', dockerfile: 'Dockerfile' });
      expect(s.user, name).toBe('10001:10001');
      expect(s.read_only, name).toBe(true);
      expect(s.tmpfs, name).toEqual(['/tmp']);
      expect(s.cap_drop, name).toEqual(['ALL']);
      expect(s.security_opt, name).toEqual(['no-new-privileges:true']);
      expect(Number(/^(\d+)s$/.exec(String(s.stop_grace_period))?.[1]), name).toBeGreaterThan(30);
    }
    for (const name of platformServices) expect((model.services[name] as { command: string[] }).command, name).toEqual([name]);
    // The topics exist, with retention and compaction, before the processors start.
    for (const name of platformServices) expect((model.services[name] as { depends_on: Record<string, unknown> }).depends_on.topics, name).toEqual({ condition: 'service_completed_successfully' });
    expect(model.services.topics?.restart).toBe('no');
    expect(model.services['demo-app']?.profiles).toEqual(['demo']);
    expect(model.services.loadgen?.profiles).toEqual(['demo']);
  });

  it('gives every platform service a /ready health check on the port it listens on, and Prometheus scrapes those ports', () => {
    const model = loadCompose([base]);
    const targets = (JSON.parse(readFileSync(join(composeDir, 'prometheus/targets/aiops.json'), 'utf8')) as { targets: string[] }[]).flatMap((t) => t.targets);
    const ports: Record<string, string> = { ingest: 'AIOPS_INGEST_PORT', evaluate: 'AIOPS_EVALUATE_PORT', sinks: 'AIOPS_SINKS_PORT', 'demo-app': 'AIOPS_DEMO_PORT' };
    for (const [name, variable] of Object.entries(ports)) {
      const s = model.services[name] as { environment: Record<string, unknown>; healthcheck: { test: string[] } };
      const port = String(s.environment[variable]);
      expect(s.healthcheck.test.join(' '), name).toContain(`fetch('http://127.0.0.1:${port}/ready')`);
      if (name !== 'demo-app') expect(targets, name).toContain(`${name}:${port}`);
    }
    expect(targets).toHaveLength(3);
    // Every file_sd target names a compose service (or Prometheus itself).
    for (const file of ['aiops', 'alertmanager', 'otel-collector', 'otel-collector-telemetry', 'prometheus']) {
      const hosts = (JSON.parse(readFileSync(join(composeDir, `prometheus/targets/${file}.json`), 'utf8')) as { targets: string[] }[]).flatMap((t) => t.targets.map((x) => x.split(':')[0]));
      for (const host of hosts) expect(host === 'localhost' || (host ?? '') in model.services, `${file}: ${host}`).toBe(true);
    }
    const prometheus = model.services.prometheus as { command: string[]; volumes: string[] };
    expect(prometheus.command).toContain('--storage.tsdb.retention.time=15d');
    expect(prometheus.volumes).toContain('prometheus-data:/prometheus');
  });

  it('runs the demo as `npm run demo` does: the SLOs of slo/demo, evaluate.demo.yaml, the demo faults and load', () => {
    const model = loadCompose([base]);
    const env = (name: string): Record<string, string> => (model.services[name] as { environment: Record<string, string> }).environment;
    for (const name of ['ingest', 'evaluate']) {
      expect(env(name).AIOPS_SLO_PATHS).toBe('/etc/aiops/slo');
      expect((model.services[name] as { volumes: string[] }).volumes).toContain('${AIOPS_COMPOSE_SLO_DIR:-../slo/demo}:/etc/aiops/slo:ro');
    }
    expect(env('evaluate').AIOPS_EVALUATE_CONFIG).toBe('/etc/aiops/evaluate.yaml');
    expect((model.services.evaluate as { volumes: string[] }).volumes).toContain('${AIOPS_COMPOSE_EVALUATE_CONFIG:-./aiops/evaluate.demo.yaml}:/etc/aiops/evaluate.yaml:ro');
    expect(withDefaults(env('sinks').AIOPS_SINKS ?? '')).toBe('alertmanager,influxdb');
    const schedule = JSON.parse(env('demo-app').AIOPS_DEMO_FAULT_SCHEDULE ?? '[]') as { route: string; durationMs: number; latencyMs: number; errorRate: number }[];
    expect(schedule.map((f) => [f.route, f.durationMs, f.latencyMs, f.errorRate])).toEqual(demoFaults.map((f) => [f.fault.route, f.until - f.at, f.fault.latencyMs, f.fault.errorRate]));
    expect(env('demo-app').OTEL_SERVICE_NAME).toBe('demo-shop');
    expect(env('demo-app').OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://otel-collector:4318');
    expect((model.services.loadgen as { command: string[] }).command.slice(0, 5)).toEqual(['loadgen', '--url', 'http://demo-app:8080', '--rate', '25']);
  });

  it("the platform's own configuration accepts the services' environments: the sinks named, the shop's schedule, the load's mix", async () => {
    const model = loadCompose([base]);
    const env = (name: string, extra: Record<string, string> = {}): Record<string, string> => ({
      ...Object.fromEntries(Object.entries((model.services[name] as { environment: Record<string, unknown> }).environment).map(([k, v]) => [k, withDefaults(String(v)) ?? ''])),
      ...extra,
    });
    const withoutToken = await configuredSinks(env('sinks'));
    expect(withoutToken.map((s) => s.name)).toEqual(['alertmanager', 'influxdb']);
    // With a token, the Grafana sink joins (Compose's ${AIOPS_GRAFANA_TOKEN:+,grafana}).
    const sinksWithToken = env('sinks', { AIOPS_GRAFANA_TOKEN: 'glsa_example' });
    sinksWithToken.AIOPS_SINKS = String((model.services.sinks as { environment: Record<string, string> }).environment.AIOPS_SINKS).replace('${AIOPS_GRAFANA_TOKEN:+,grafana}', ',grafana');
    expect((await configuredSinks(sinksWithToken)).map((s) => s.name)).toEqual(['alertmanager', 'grafana', 'influxdb']);

    const shop = parseDemoAppArgs([], env('demo-app'));
    expect(shop?.host).toBe('0.0.0.0');
    expect(shop?.serviceName).toBe('demo-shop');
    expect(shop?.schedule).toHaveLength(2);
    expect(demoAdminMode(shop as DemoAppConfig)).toEqual({ mode: 'off' });
    expect(demoAdminMode(parseDemoAppArgs([], env('demo-app', { AIOPS_DEMO_FAULTS_TOKEN: 'a-token-of-16-chars' })) as DemoAppConfig).mode).toBe('token');

    const topics = (model.services.topics as { command: string[] }).command;
    expect(topics.slice(0, 2)).toEqual(['topics', 'create']);
    expect(parseTopicOptions(topics.slice(2))).toMatchObject({ partitions: 4, replicationFactor: 1 });
    const managed = (parse(sasl, { merge: true }) as { services: { topics: { command: string[] } } }).services.topics.command;
    expect(parseTopicOptions(managed.slice(2))).toMatchObject({ partitions: 6, replicationFactor: 3 });

    const load = (model.services.loadgen as { command: string[] }).command;
    expect(parseMixSpec(load[load.indexOf('--mix') + 1] ?? '')).toEqual({ 'GET /api/users': 5, 'GET /api/users/:id': 2, 'POST /api/orders': 2, 'GET /api/checkout': 1 });
    expect(parseDuration(load[load.indexOf('--duration') + 1] ?? '')).toBe(86_400_000);
  });

  it('docs/deploy.md "Docker Compose" names only files, services, volumes, profiles and variables that exist', () => {
    const section = /^## Docker Compose\n([\s\S]*?)(?=^## )/m.exec(deployDoc)?.[1] ?? '';
    expect(section.length).toBeGreaterThan(1000);
    const model = loadCompose([base, sasl]);
    const composeText = `${base}\n${sasl}`;
    const code = `${[...context.knownVariables].join('\n')}`;
    const ticked = [...section.matchAll(/`([^`\n]+)`/g)].map((m) => m[1] ?? '');
    for (const path of ticked.filter((t) => /^(compose|slo|helm|docs)\/[\w./-]*$/.test(t) || t === './Dockerfile')) {
      expect(existsSync(join(projectRoot, path)), path).toBe(true);
    }
    for (const [, name] of section.matchAll(/\b((?:AIOPS|GF)_[A-Z0-9_]*[A-Z0-9])\b/g)) {
      expect(composeText.includes(name ?? '') || code.includes(name ?? ''), name).toBe(true);
    }
    for (const [, service] of section.matchAll(/^\| `([\w-]+)`(?: \(profile `\w+`\))? \|/gm)) {
      if (service === 'demo' || service === 'local-kafka' || service?.startsWith('AIOPS_') || service?.startsWith('GF_')) continue;
      expect(model.services, service).toHaveProperty([service ?? '']);
    }
    for (const volume of Object.keys(model.volumes)) expect(section, volume).toContain(`\`${volume}\``);
    for (const profile of knownProfiles) expect(section, profile).toContain(`\`${profile}\``);
    for (const [, file] of section.matchAll(/ -f (compose\/\S+)/g)) expect(existsSync(join(projectRoot, file ?? '')), file).toBe(true);
    // Each image the file runs, with its version, is in the table.
    for (const s of Object.values(model.services)) if (typeof s.image === 'string') expect(section).toContain(`\`${withDefaults(s.image)}\``);
  });

  it('the SASL override sets only the contract variables against a managed Kafka and leaves the local broker out', () => {
    const model = loadCompose([base, sasl]);
    const contract = ['BROKERS', 'SECURITY_PROTOCOL', 'SSL_CA_FILE', 'SSL_CERT_FILE', 'SSL_KEY_FILE', 'SSL_KEY_PASSWORD', 'SSL_SERVERNAME', 'SASL_MECHANISM', 'SASL_USERNAME', 'SASL_PASSWORD'].map((k) => `AIOPS_KAFKA_${k}`);
    const override = parse(sasl, { merge: true }) as { services: Record<string, { environment?: Record<string, string> }> };
    for (const [name, s] of Object.entries(override.services)) {
      for (const key of Object.keys(s.environment ?? {})) expect(contract.includes(key.replace(/_FILE$/, '')) || contract.includes(key), `${name}: ${key}`).toBe(true);
    }
    expect(model.services.kafka?.profiles).toEqual(['local-kafka']);
    for (const name of ['topics', ...platformServices, 'otel-collector']) {
      const env = (model.services[name] as { environment: Record<string, string> }).environment;
      // Required: Compose stops with the message when they are not given.
      expect(withDefaults(env.AIOPS_KAFKA_BROKERS ?? ''), name).toBeUndefined();
      expect(withDefaults(env.AIOPS_KAFKA_SASL_PASSWORD ?? ''), name).toBeUndefined();
      expect(env.AIOPS_KAFKA_SECURITY_PROTOCOL, name).toBe('SASL_SSL');
    }
    // The collector's Kafka exporter takes them through the TLS and SASL overlays.
    const collector = model.services['otel-collector'] as { command: string[]; volumes: string[] };
    expect(collector.command).toEqual(['--config=/etc/otelcol/config.yaml', '--config=/etc/otelcol/kafka-tls.yaml', '--config=/etc/otelcol/kafka-sasl.yaml']);
    for (const overlay of ['kafka-tls.yaml', 'kafka-sasl.yaml']) {
      expect(collector.volumes).toContain(`./otelcol/${overlay}:/etc/otelcol/${overlay}:ro`);
      expect(readFileSync(join(composeDir, 'otelcol', overlay), 'utf8')).toMatch(/\$\{env:AIOPS_KAFKA_/);
    }
  });
});
