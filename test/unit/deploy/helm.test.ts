import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { platformTopics } from '../../../cli/topics-command.js';
import { sloFilePaths } from '../../../cli/slo-command.js';
import { parseAnomalyStageConfig } from '../../../processors/anomaly/index.js';
import { defaultRules, parseIngestConfig } from '../../../processors/ingest/index.js';
import { sloIngestRules } from '../../../processors/slo/index.js';
import { sloRulesYaml } from '../../../processors/slo/rules.js';
import { kafkaConnectionFromEnv } from '../../../runtime/kafka-config.js';
import { parseSloFiles } from '../../../processors/slo/spec.js';
import { projectRoot } from '../../../stack/config.js';
import { ensureCrdSchemas } from '../../../stack/crds.js';
import { ensureTool } from '../../../stack/tools.js';

// The Helm chart, checked the way its peers check charts, without an API server: helm lint,
// helm template of every values file in helm/aiops/ci for every supported Kubernetes version,
// kubernetes-validate --strict on the built-in kinds, the custom resources against their CRDs'
// schemas, golden files of the rendered manifests (AIOPS_UPDATE_GOLDEN=1 rewrites them), and
// values that must fail with a clear message.

const run = promisify(execFile);
const chart = join(projectRoot, 'helm/aiops');
const ciDir = join(chart, 'ci');
const goldenDir = join(ciDir, 'golden');
const valuesFiles = readdirSync(ciDir).filter((f) => f.endsWith('-values.yaml')).sort();
/** Chart.yaml says kubeVersion >=1.30; kubernetes-validate 1.37.0 ships schemas up to 1.37. */
const kubeVersions = ['1.30.0', '1.31.0', '1.32.0', '1.33.0', '1.34.0', '1.35.0', '1.36.0', '1.37.0'];
const goldenKubeVersion = '1.33.0';
const builtInGroups = /^(v1|apps\/v1|batch\/v1|policy\/v1|networking\.k8s\.io\/v1|autoscaling\/v2|rbac\.authorization\.k8s\.io\/v1)$/;

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown>; data?: Record<string, string> } & Record<string, unknown>;

let helm = '';
let kubernetesValidate = '';
let checkJsonschema = '';
let crdSchemas = new Map<string, string>();
const work = mkdtempSync(join(tmpdir(), 'aiops-helm-'));

async function template(chartDir: string, args: readonly string[], kubeVersion = goldenKubeVersion): Promise<string> {
  const { stdout } = await run(helm, ['template', 'aiops', chartDir, '--namespace', 'aiops', '--kube-version', kubeVersion, ...args], { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** helm's failure text (its stderr), or '' when the command succeeded. */
async function failure(command: string, args: readonly string[]): Promise<string> {
  try {
    await run(command, [...args], { maxBuffer: 64 * 1024 * 1024 });
    return '';
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    return `${e.stderr ?? ''}${e.stdout ?? ''}` || e.message;
  }
}

function manifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((d) => d.toJSON() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

/**
 * The rendered manifests as the golden files hold them: what the chart copies verbatim from the
 * files others own (compose/ configuration, rule files, dashboards) is replaced by a marker, and
 * so are the checksums over them, so those files change without touching the goldens; other
 * tests check that the copies are exact and that the checksums follow the configuration.
 */
function normalized(text: string): string {
  const sharedData: Record<string, readonly string[]> = { 'aiops-collector': ['config.yaml', 'kafka-tls.yaml', 'kafka-sasl.yaml'], 'aiops-jaeger': ['config.yaml'], 'aiops-influxdb': ['influxdb.conf'], 'aiops-grafana-dashboards': ['*'] };
  return manifests(text)
    .map((m) => {
      const shared = m.kind === 'ConfigMap' ? sharedData[m.metadata.name] : undefined;
      if (shared && m.data) for (const key of Object.keys(m.data)) if (shared.includes('*') || shared.includes(key)) m.data[key] = `<copied from helm/aiops/files>`;
      if (m.kind === 'PrometheusRule' && m.metadata.name !== 'aiops-slo' && m.spec) m.spec.groups = '<groups of the rule file in helm/aiops/files/rules>';
      const annotations = (m.spec?.template as { metadata?: { annotations?: Record<string, string> } } | undefined)?.metadata?.annotations;
      if (annotations?.['checksum/config']) annotations['checksum/config'] = '<sha256>';
      return `---\n${stringify(m, { lineWidth: 0 })}`;
    })
    .join('');
}

/** What `aiops slo rules <folder>` prints for these SLO files (written into `dir`). */
function cliSloRules(files: Record<string, string>, dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return sloRulesYaml(parseSloFiles(sloFilePaths([dir])));
}

/** A values file with the block scalar `slo.rules: |` replaced by `rules` (the CLI's output). */
function withSloRules(text: string, rules: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l, i) => l === '  rules: |' && lines.slice(0, i).reverse().find((p) => /^\S/.test(p)) === 'slo:');
  if (start < 0) throw new Error('no slo.rules block scalar to rewrite');
  let end = start + 1;
  while (end < lines.length && ((lines[end] ?? '') === '' || (lines[end] ?? '').startsWith('    '))) end += 1;
  const block = rules.trimEnd().split('\n').map((l) => (l === '' ? '' : `    ${l}`));
  return [...lines.slice(0, start + 1), ...block, ...(end < lines.length ? lines.slice(end) : [''])].join('\n');
}

const rendered = new Map<string, string>();
function renderedOf(file: string): Manifest[] {
  const text = rendered.get(file);
  if (text === undefined) throw new Error(`${file} was not rendered`);
  return manifests(text);
}

/** Writes the built-in kinds of each document set to a file and runs kubernetes-validate on them. */
async function validateBuiltIns(docsByName: Map<string, Manifest[]>, kubeVersion: string): Promise<string> {
  const files: string[] = [];
  for (const [name, docs] of docsByName) {
    const file = join(work, `builtin-${kubeVersion}-${name}.json`);
    // One JSON document per line would need a YAML stream; a List would hide the kinds: write YAML.
    writeFileSync(file, docs.filter((d) => builtInGroups.test(d.apiVersion)).map((d) => `---\n${JSON.stringify(d)}\n`).join(''));
    files.push(file);
  }
  return failure(kubernetesValidate, ['--strict', '--quiet', '-k', kubeVersion, ...files]);
}

/** Validates every custom resource against its CRD schema with check-jsonschema; '' when all pass. */
async function validateCustomResources(docs: readonly (Manifest & { source: string })[]): Promise<string> {
  const byKey = new Map<string, string[]>();
  const problems: string[] = [];
  docs.forEach((doc, i) => {
    const key = `${doc.apiVersion}/${doc.kind}`;
    if (!crdSchemas.has(key)) {
      problems.push(`no CRD schema for ${key} (${doc.source})`);
      return;
    }
    const file = join(work, `cr-${i}-${doc.kind}-${doc.metadata.name}.json`);
    writeFileSync(file, JSON.stringify({ ...doc, source: undefined }));
    byKey.set(key, [...(byKey.get(key) ?? []), file]);
  });
  for (const [key, files] of byKey) {
    problems.push(await failure(checkJsonschema, ['--schemafile', crdSchemas.get(key) as string, ...files]));
  }
  return problems.filter((p) => p.length > 0).join('\n');
}

beforeAll(async () => {
  // `npm test` installs the tools first (`aiops tools install`); on a cold cache this builds helm.
  // One after another: the two Python tools share one virtual environment.
  helm = await ensureTool('helm');
  kubernetesValidate = await ensureTool('kubernetes-validate');
  checkJsonschema = await ensureTool('check-jsonschema');
  crdSchemas = await ensureCrdSchemas();
  if (process.env.AIOPS_UPDATE_GOLDEN === '1') {
    for (const file of valuesFiles) {
      const text = readFileSync(join(ciDir, file), 'utf8');
      const files = (parse(text) as { slo?: { files?: Record<string, string> } }).slo?.files ?? {};
      if (Object.keys(files).length > 0) writeFileSync(join(ciDir, file), withSloRules(text, cliSloRules(files, join(work, `update-${basename(file, '.yaml')}`))));
    }
  }
  for (const file of valuesFiles) rendered.set(file, await template(chart, ['-f', join(ciDir, file)]));
}, 900_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('helm/aiops', () => {
  it('has the ci values files the checks need', () => {
    expect(valuesFiles).toEqual(expect.arrayContaining(['minimal-values.yaml', 'production-values.yaml', 'demo-values.yaml', 'strimzi-values.yaml']));
    expect(parse(readFileSync(join(chart, 'Chart.yaml'), 'utf8')).kubeVersion).toBe('>=1.30.0-0');
  });

  it('passes helm lint --strict with each ci values file', async () => {
    for (const file of valuesFiles) {
      const out = await failure(helm, ['lint', '--strict', chart, '-f', join(ciDir, file)]);
      expect(out, file).toBe('');
    }
  }, 120_000);

  it('renders valid built-in objects for every supported Kubernetes version (kubernetes-validate --strict)', async () => {
    for (const version of kubeVersions) {
      const docs = new Map<string, Manifest[]>();
      for (const file of valuesFiles) docs.set(basename(file, '.yaml'), manifests(await template(chart, ['-f', join(ciDir, file)], version)));
      expect(await validateBuiltIns(docs, version), `Kubernetes ${version}`).toBe('');
    }
  }, 300_000);

  it('renders custom resources that match their CRD schemas (prometheus-operator, KEDA, Strimzi)', async () => {
    const crs = valuesFiles.flatMap((file) => renderedOf(file).filter((d) => !builtInGroups.test(d.apiVersion)).map((d) => ({ ...d, source: file })));
    expect(new Set(crs.map((d) => d.kind))).toEqual(new Set(['ServiceMonitor', 'PrometheusRule', 'ScaledObject', 'TriggerAuthentication', 'KafkaTopic']));
    expect(await validateCustomResources(crs)).toBe('');
  }, 120_000);

  it('renders what the golden files hold (AIOPS_UPDATE_GOLDEN=1 rewrites them)', () => {
    mkdirSync(goldenDir, { recursive: true });
    for (const file of valuesFiles) {
      const golden = join(goldenDir, file.replace('-values.yaml', '.yaml'));
      const text = normalized(rendered.get(file) as string);
      if (process.env.AIOPS_UPDATE_GOLDEN === '1') writeFileSync(golden, text);
      expect(text, `${file}: rendered manifests differ from ${golden}; if the change is intended, AIOPS_UPDATE_GOLDEN=1`).toBe(readFileSync(golden, 'utf8'));
    }
  });

  it('copies the shared configuration files verbatim', () => {
    const docs = renderedOf('production-values.yaml');
    const collector = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'aiops-collector');
    expect(collector?.data?.['config.yaml']).toBe(readFileSync(join(chart, 'files/otelcol-config.yaml'), 'utf8').trimEnd());
    const dashboards = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'aiops-grafana-dashboards');
    const files = readdirSync(join(chart, 'files/grafana/dashboards')).filter((f) => f.endsWith('.json'));
    expect(Object.keys(dashboards?.data ?? {}).sort()).toEqual(files.sort());
    for (const f of files) expect(dashboards?.data?.[f], f).toBe(readFileSync(join(chart, 'files/grafana/dashboards', f), 'utf8'));
  });

  it('runs every platform container hardened: non-root, read-only root, no capabilities, RuntimeDefault seccomp, a /tmp tmpfs', () => {
    for (const file of valuesFiles) {
      const workloads = renderedOf(file).filter((d) => ['Deployment', 'StatefulSet', 'Job'].includes(d.kind));
      expect(workloads.length, file).toBeGreaterThan(0);
      for (const w of workloads) {
        const pod = (w.spec as { template: { spec: Record<string, unknown> } }).template.spec as {
          securityContext: { runAsNonRoot: boolean; seccompProfile: { type: string } };
          automountServiceAccountToken: boolean;
          terminationGracePeriodSeconds?: number;
          containers: { name: string; securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean; capabilities: { drop: string[] }; runAsUser: number }; volumeMounts: { name: string; mountPath: string }[]; env?: { name: string; value?: string }[] }[];
          volumes: { name: string; emptyDir?: { medium?: string } }[];
        };
        const where = `${file} ${w.kind}/${w.metadata.name}`;
        expect(pod.securityContext.runAsNonRoot, where).toBe(true);
        expect(pod.securityContext.seccompProfile.type, where).toBe('RuntimeDefault');
        expect(pod.automountServiceAccountToken, where).toBe(false);
        if (w.kind !== 'Job') expect(pod.terminationGracePeriodSeconds, where).toBeGreaterThanOrEqual(45);
        for (const c of pod.containers) {
          expect(c.securityContext, `${where} ${c.name}`).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsUser: 10001 });
          expect(c.volumeMounts.find((m) => m.mountPath === '/tmp'), `${where} ${c.name}: /tmp`).toBeDefined();
          // Secrets reach the containers as files (_FILE variables) or by reference (valueFrom), never as values.
          for (const e of c.env ?? []) if (e.value !== undefined) expect(e.name, where).not.toMatch(/_(PASSWORD|TOKEN)$/);
        }
        expect(pod.volumes.find((v) => v.name === 'tmp')?.emptyDir?.medium, where).toBe('Memory');
        // Secret files readable by the pod's group only (YAML's 0440 would be read as 440 by YAML 1.2 parsers).
        for (const v of pod.volumes as { name: string; secret?: { defaultMode?: number } }[]) if (v.secret) expect(v.secret.defaultMode, `${where} ${v.name}`).toBe(0o440);
      }
    }
  });

  it('probes /health and /ready on the contract ports and mounts configuration with a checksum that follows it', async () => {
    const docs = renderedOf('production-values.yaml');
    const ports = { ingest: 9464, evaluate: 9465, sinks: 9466 } as const;
    for (const [component, port] of Object.entries(ports)) {
      const d = docs.find((m) => m.kind === 'Deployment' && m.metadata.name === `aiops-${component}`);
      const container = (d?.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec.containers[0] as { ports: { containerPort: number }[]; livenessProbe: { httpGet: { path: string } }; readinessProbe: { httpGet: { path: string } }; env: { name: string; value?: string }[] };
      expect(container.ports[0]?.containerPort).toBe(port);
      expect(container.livenessProbe.httpGet.path).toBe('/health');
      expect(container.readinessProbe.httpGet.path).toBe('/ready');
      expect(container.env.find((e) => e.name === `AIOPS_${component.toUpperCase()}_PORT`)?.value).toBe(String(port));
      if (component !== 'sinks') expect(container.env.find((e) => e.name === 'AIOPS_SLO_PATHS')?.value).toBe('/etc/aiops/slo');
    }
    const checksum = (text: string): string | undefined => {
      const evaluate = manifests(text).find((m) => m.kind === 'Deployment' && m.metadata.name === 'aiops-evaluate');
      return (evaluate?.spec as { template: { metadata: { annotations: Record<string, string> } } } | undefined)?.template.metadata.annotations['checksum/config'];
    };
    const before = checksum(rendered.get('production-values.yaml') as string);
    const after = checksum(await template(chart, ['-f', join(ciDir, 'production-values.yaml'), '--set', 'evaluate.config.anomaly.metrics={p95}']));
    expect(before).toMatch(/^[0-9a-f]{64}$/);
    expect(after).not.toBe(before);
  }, 60_000);

  it('renders configuration and Kafka settings the processes accept', () => {
    for (const file of valuesFiles) {
      const docs = renderedOf(file);
      // The mounted files, read by the same parsers as `aiops ingest` and `aiops evaluate`.
      const config = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'aiops-config')?.data ?? {};
      const sloDir = join(work, `mounted-slo-${basename(file, '.yaml')}`);
      mkdirSync(sloDir, { recursive: true });
      for (const [name, content] of Object.entries(docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'aiops-slo')?.data ?? {})) writeFileSync(join(sloDir, name), content);
      const slos = parseSloFiles(sloFilePaths([sloDir]));
      const ingest = ((parse(config['ingest.yaml'] ?? '') ?? {}) as { ingest?: { rules?: unknown[] } }).ingest ?? {};
      expect(() => parseIngestConfig({ ...ingest, rules: [...(ingest.rules ?? defaultRules), ...sloIngestRules(slos)] }), file).not.toThrow();
      expect(() => parseAnomalyStageConfig(((parse(config['evaluate.yaml'] ?? '') ?? {}) as { anomaly?: unknown }).anomaly ?? {}), file).not.toThrow();
      // The Kafka variables of every platform container form a valid connection (secret files stand in).
      const values = parse(readFileSync(join(ciDir, file), 'utf8')) as { kafka?: { securityProtocol?: string } };
      for (const d of docs.filter((m) => ['Deployment', 'Job'].includes(m.kind) && /aiops-(ingest|evaluate|sinks|topics)$/.test(m.metadata.name))) {
        const env: NodeJS.ProcessEnv = {};
        for (const e of (d.spec as { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } }).template.spec.containers[0]?.env ?? []) {
          if (e.value === undefined) continue;
          if (e.name.startsWith('AIOPS_KAFKA_') && e.value.startsWith('/etc/aiops/')) {
            const stand = join(work, 'secret-files', e.value);
            mkdirSync(join(stand, '..'), { recursive: true });
            writeFileSync(stand, e.name.includes('_SSL_') ? '-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n' : 'stand-in');
            env[e.name] = stand;
          } else env[e.name] = e.value;
        }
        const where = `${file} ${d.kind}/${d.metadata.name}`;
        const connection = kafkaConnectionFromEnv(env);
        expect(connection.securityProtocol, where).toBe(values.kafka?.securityProtocol ?? 'PLAINTEXT');
        expect(Boolean(connection.sasl), where).toBe((values.kafka?.securityProtocol ?? '').startsWith('SASL_'));
      }
    }
  });

  it('gives the collector every variable its configuration files read without a default', () => {
    for (const file of valuesFiles) {
      const docs = renderedOf(file);
      const collector = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'aiops-collector');
      const container = (collector?.spec as { template: { spec: { containers: { args: string[]; env: { name: string }[] }[] } } }).template.spec.containers[0];
      const configs = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'aiops-collector')?.data ?? {};
      const given = new Set(container?.env.map((e) => e.name));
      for (const arg of container?.args ?? []) {
        const name = arg.replace('--config=/etc/otelcol/', '');
        const text = configs[name];
        expect(text, `${file}: ${arg} is in the ConfigMap`).toBeDefined();
        for (const [, variable] of (text ?? '').matchAll(/\$\{env:([A-Z0-9_]+)\}/g)) expect(given.has(variable ?? ''), `${file}: ${name} reads ${variable}`).toBe(true);
      }
    }
  });

  it('creates the same topics as `aiops topics create`, with the partitions and configs it uses', () => {
    const topics = renderedOf('strimzi-values.yaml').filter((d) => d.kind === 'KafkaTopic');
    const values = parse(readFileSync(join(ciDir, 'strimzi-values.yaml'), 'utf8')) as { kafka: { topics: { partitions: number; replicationFactor: number } } };
    const expected = platformTopics({ partitions: values.kafka.topics.partitions, replicationFactor: values.kafka.topics.replicationFactor, retentionMs: 604_800_000, inputRetentionMs: 86_400_000 });
    expect(topics.map((t) => (t.spec as { topicName: string }).topicName).sort()).toEqual(expected.map((t) => t.name).sort());
    for (const t of expected) {
      const spec = topics.find((k) => (k.spec as { topicName: string }).topicName === t.name)?.spec as { partitions: number; config: Record<string, string> };
      expect(spec.partitions, t.name).toBe(t.partitions);
      expect(spec.config, t.name).toEqual(t.config);
    }
    // Without Strimzi, a hook Job runs the command with the same settings.
    const job = renderedOf('production-values.yaml').find((d) => d.kind === 'Job');
    expect(job?.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    const args = (job?.spec as { template: { spec: { containers: { args: string[] }[] } } }).template.spec.containers[0]?.args;
    expect(args).toEqual(['topics', 'create', '--partitions=12', '--replication-factor=3', '--retention-ms=1209600000', '--input-retention-ms=86400000', '--min-insync-replicas=2']);
  });

  it('carries, in each ci values file with SLOs, the rules `aiops slo rules` prints for those SLO files', () => {
    let checked = 0;
    for (const file of valuesFiles) {
      const values = parse(readFileSync(join(ciDir, file), 'utf8')) as { slo?: { files?: Record<string, string>; rules?: string } };
      const files = values.slo?.files ?? {};
      if (Object.keys(files).length === 0) continue;
      const dir = join(work, `slo-${basename(file, '.yaml')}`);
      const cli = cliSloRules(files, dir);
      expect((values.slo?.rules ?? '').trimEnd(), `${file}: regenerate slo.rules with npx aiops slo rules`).toBe(cli.trimEnd());
      checked += 1;
    }
    expect(checked).toBeGreaterThanOrEqual(2);
  });

  it('turns every rule file of compose/prometheus/rules and the SLO rules into PrometheusRules', () => {
    const ruleFiles = readdirSync(join(chart, 'files/rules')).filter((f) => f.endsWith('.yml'));
    const rules = renderedOf('production-values.yaml').filter((d) => d.kind === 'PrometheusRule');
    const nameOf = (f: string): string => `aiops-${f.replace(/\.yml$/, '').replace(/\.rules$/, '').replace(/^aiops-/, '').replaceAll('.', '-')}`;
    expect(rules.map((r) => r.metadata.name).sort()).toEqual([...ruleFiles.map(nameOf), 'aiops-slo'].sort());
    for (const f of ruleFiles) {
      const source = parse(readFileSync(join(chart, 'files/rules', f), 'utf8')) as { groups: unknown[] };
      const rendered = rules.find((r) => r.metadata.name === nameOf(f));
      expect((rendered?.spec as { groups: unknown[] }).groups, f).toEqual(source.groups);
      expect(rendered?.metadata.labels?.release).toBe('kube-prometheus-stack');
    }
  });

  it('rejects bad values at template time with a message that names the value', async () => {
    const bad = join(work, 'bad-values.yaml');
    writeFileSync(bad, 'kafka:\n  securityProtocol: SASL_SSL\n  topics:\n    partitions: 0\ntraces:\n  backend: zipkin\nterminationGracePeriodSeconds: 10\ningest:\n  replica: 3\n');
    const out = await failure(helm, ['template', 'aiops', chart, '--kube-version', goldenKubeVersion, '-f', bad]);
    expect(out).toContain("values don't meet the specifications of the schema");
    expect(out).toMatch(/\/kafka\/sasl\/mechanism.*one of 'PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'/);
    expect(out).toMatch(/\/kafka\/sasl\/existingSecret/);
    expect(out).toMatch(/\/kafka\/topics\/partitions.*minimum/);
    expect(out).toMatch(/\/traces\/backend.*one of 'tempo', 'jaeger'/);
    expect(out).toMatch(/\/terminationGracePeriodSeconds.*minimum: got 10, want 45/);
    expect(out).toMatch(/\/ingest.*additional properties 'replica' not allowed/);

    const tooMany = await failure(helm, ['template', 'aiops', chart, '--kube-version', goldenKubeVersion, '--set', 'ingest.autoscaling.enabled=true,ingest.autoscaling.maxReplicas=8,kafka.topics.partitions=4']);
    expect(tooMany).toContain('ingest.autoscaling.maxReplicas (8) is above kafka.topics.partitions (4)');
    expect(await failure(helm, ['template', 'aiops', chart, '--kube-version', '1.29.0'])).toContain('incompatible with Kubernetes v1.29.0');
  }, 60_000);

  it('renders NOTES.txt for every ci values file, naming the objects of the release', async () => {
    // helm renders NOTES only on install; a copy of the chart carries it as a template to render offline.
    const copy = join(work, 'notes');
    cpSync(chart, copy, { recursive: true, dereference: true });
    const notes = readFileSync(join(chart, 'templates/NOTES.txt'), 'utf8');
    writeFileSync(join(copy, 'templates/notes-check.yaml'), `text: |\n${notes.split('\n').map((l) => `  ${l}`).join('\n')}\n`);
    for (const file of valuesFiles) {
      const text = (parse(await template(copy, ['-f', join(ciDir, file), '--show-only', 'templates/notes-check.yaml'])) as { text: string }).text;
      expect(text, file).toContain('kubectl -n aiops get pods -l app.kubernetes.io/instance=aiops');
      expect(text, file).toContain('svc/aiops-evaluate 9465');
    }
  }, 60_000);

  it('fails on a broken chart: a misspelt field of a built-in kind, of a custom resource, and a changed manifest', async () => {
    const broken = join(work, 'broken');
    cpSync(chart, broken, { recursive: true, dereference: true });
    const platform = join(broken, 'templates/platform.yaml');
    writeFileSync(platform, readFileSync(platform, 'utf8').replace('revisionHistoryLimit: 5', 'revisionHistoryLimt: 5'));
    const monitoring = join(broken, 'templates/monitoring.yaml');
    writeFileSync(monitoring, readFileSync(monitoring, 'utf8').replace('honorLabels: true', 'honourLabels: true'));
    const text = await template(broken, ['-f', join(ciDir, 'production-values.yaml')]);
    const docs = manifests(text);
    expect(await validateBuiltIns(new Map([['broken', docs]]), goldenKubeVersion)).toMatch(/revisionHistoryLimt/);
    const crs = docs.filter((d) => !builtInGroups.test(d.apiVersion)).map((d) => ({ ...d, source: 'broken' }));
    expect(await validateCustomResources(crs)).toMatch(/honourLabels/);
    expect(text).not.toBe(rendered.get('production-values.yaml'));
  }, 120_000);
});
