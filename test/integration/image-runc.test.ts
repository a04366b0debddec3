import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection, createServer } from 'node:net';
import type { Server } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMetricsRequest } from '../../runtime/otlp/index.js';
import type { MetricsRequest } from '../../runtime/otlp/index.js';
import { signalSerde, signalValueSerde, signalValuesTopic } from '../../schemas/index.js';
import { collectMessages, createTopics, endOffsets, kafkaClient } from '../../stack/clients/index.js';
import { loadStackConfig } from '../../stack/config.js';
import { buildImage, exportDockerArchive, readImageConfig, readManifest } from '../../stack/image/build.js';
import type { ImageBuildReport } from '../../stack/image/build.js';
import { createPodNetwork, podNetworkDefaults, removePodNetwork } from '../../stack/image/pod-network.js';
import type { PodNetwork } from '../../stack/image/pod-network.js';
import { containerBundle, containerState, removeContainers, runContainer, unpackBundle } from '../../stack/image/runc.js';
import type { RunningContainer } from '../../stack/image/runc.js';
import { ensureImageTools } from '../../stack/image/tools.js';
import { eventually } from '../helpers/eventually.js';
import { stackEndpoints } from '../helpers/stack.js';

const execFileP = promisify(execFile);

/** Ids of this test's containers start with this, so a run can clear what an interrupted one left. */
const prefix = 'aiops-img-test-';
/** The stated stop time of the image (docs/deploy.md): SIGTERM to exit within 30 s. */
const STOP_BOUND_MS = 30_000;
const BUCKET_MS = 2_000;

const ports = { ingest: 9464, evaluate: 9465, sinks: 9466 } as const;
type Component = keyof typeof ports;
/** A second ingest that commits only when it stops (commit interval 10 min), to see SIGTERM commit. */
const LATE_PORT = 9474;
const LATE_RECORDS = 5;

/** One delta histogram point of http.server.request.duration for `service`, at `timeMs`. */
function otlpRecord(service: string, timeMs: number): Buffer {
  const request: MetricsRequest = {
    resourceMetrics: [
      {
        resource: { 'service.name': service, 'service.instance.id': 'img-0' },
        scopeMetrics: [
          {
            scope: { name: 'image-test', version: '', attributes: {} },
            metrics: [
              {
                name: 'http.server.request.duration',
                description: '',
                unit: 's',
                kind: 'histogram',
                temporality: 1,
                points: [
                  {
                    attributes: { 'http.route': '/img', 'http.request.method': 'GET', 'http.response.status_code': 200 },
                    startTimeMs: timeMs - 1_000,
                    timeMs,
                    startTimeUnixNano: `${timeMs - 1_000}000000`,
                    timeUnixNano: `${timeMs}000000`,
                    flags: 0,
                    count: 4,
                    sum: 0.2,
                    min: 0.02,
                    max: 0.09,
                    bucketCounts: [1, 3, 0],
                    explicitBounds: [0.025, 0.1],
                  },
                ],
              },
            ],
          },
        ],
      },
    ],
  };
  return Buffer.from(encodeMetricsRequest(request));
}

async function httpStatus(url: string): Promise<number> {
  const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
  await response.arrayBuffer();
  return response.status;
}

/** A TCP relay from the pod gateway to a service the stack binds to loopback only. */
function relay(listenHost: string, listenPort: number, target: URL): Promise<Server> {
  const server = createServer((inbound) => {
    const outbound = createConnection({ host: target.hostname, port: Number(target.port) });
    inbound.pipe(outbound).pipe(inbound);
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, listenHost, () => resolve(server));
  });
}

describe('the image under runc: non-root, read-only root, its own network namespace', () => {
  const endpoints = stackEndpoints();
  const config = loadStackConfig();
  const run = randomUUID().slice(0, 8);
  const service = `img-${run}`;
  const inputTopic = `test.img-otlp.${run}`;
  const signalsTopic = `test.img-signals.${run}`;
  const lateInput = `test.img-late-otlp.${run}`;
  const lateGroup = `aiops.img-late-${run}`;
  const log = (line: string): void => {
    process.stderr.write(`[image] ${line}\n`);
  };
  let runc = '';
  let report: ImageBuildReport;
  let pod: PodNetwork | undefined;
  let alertmanagerRelay: Server | undefined;
  const containers = new Map<Component | 'late', RunningContainer>();

  beforeAll(async () => {
    if (endpoints.external) throw new Error('the image test needs the local stack (its Kafka advertises the POD listener at the pod gateway)');
    runc = (await ensureImageTools(config, log, ['runc', 'umoci', 'ip'])).runc;
    await removeContainers(runc, prefix);
    await removePodNetwork();

    report = await buildImage({ config, log });
    log(`image ${report.reference}: build ${(report.buildMs / 1000).toFixed(1)} s, base ${(report.baseMs / 1000).toFixed(1)} s; ${report.unpackedSize} unpacked`);
    const bundle = await unpackBundle(config, report.layout, report.tag, log);
    const image = readImageConfig(report.layout, report.tag).config;

    pod = await createPodNetwork();
    alertmanagerRelay = await relay(pod.gateway, 9093, new URL(endpoints.alertmanager));
    const kafka = kafkaClient(endpoints.kafkaBrokers);
    await createTopics(kafka, [inputTopic, signalsTopic, lateInput, `test.img-late-signals.${run}`], 1);

    const common = {
      AIOPS_KAFKA_BROKERS: `${pod.gateway}:${config.ports.kafka.pod}`,
      AIOPS_LOG_LEVEL: 'info',
    };
    const env: Record<Component, Record<string, string>> = {
      ingest: {
        ...common,
        AIOPS_INGEST_NAME: `img-ingest-${run}`,
        AIOPS_INGEST_TOPIC: inputTopic,
        AIOPS_INGEST_SIGNALS_TOPIC: signalsTopic,
        AIOPS_INGEST_BUCKET_MS: String(BUCKET_MS),
        AIOPS_INGEST_LATENESS_MS: '0',
        AIOPS_INGEST_IDLE_MS: '1000',
      },
      evaluate: { ...common, AIOPS_EVALUATE_NAME: `img-evaluate-${run}`, AIOPS_EVALUATE_TOPIC: signalsTopic, AIOPS_EVALUATE_IDLE_MS: '1000' },
      sinks: { ...common, AIOPS_SINKS: 'alertmanager', AIOPS_ALERTMANAGER_URL: `http://${pod.gateway}:9093` },
    };
    for (const component of Object.keys(ports) as Component[]) {
      const id = `${prefix}${component}-${run}`;
      const { dir } = containerBundle(bundle, id, { entrypoint: image.Entrypoint ?? [], args: [component], env: env[component], netns: pod.path });
      containers.set(component, runContainer(runc, dir, id));
    }
    const lateEnv = {
      ...env.ingest,
      AIOPS_INGEST_NAME: lateGroup.replace(/^aiops\./, ''),
      AIOPS_INGEST_TOPIC: lateInput,
      AIOPS_INGEST_SIGNALS_TOPIC: `test.img-late-signals.${run}`,
      AIOPS_INGEST_PORT: String(LATE_PORT),
      AIOPS_KAFKA_COMMIT_INTERVAL_MS: '600000',
      AIOPS_KAFKA_COMMIT_WHEN_CAUGHT_UP: 'false',
    };
    const lateId = `${prefix}late-${run}`;
    containers.set('late', runContainer(runc, containerBundle(bundle, lateId, { entrypoint: image.Entrypoint ?? [], args: ['ingest'], env: lateEnv, netns: pod.path }).dir, lateId));
  }, 1_800_000);

  afterAll(async () => {
    for (const c of containers.values()) await execFileP(runc, ['kill', c.id, 'KILL']).catch(() => undefined);
    if (runc) await removeContainers(runc, prefix);
    await new Promise<void>((resolve) => (alertmanagerRelay ? alertmanagerRelay.close(() => resolve()) : resolve()));
    await removePodNetwork();
  }, 60_000);

  function container(component: Component | 'late'): RunningContainer {
    const c = containers.get(component);
    if (!c) throw new Error(`${component} did not start`);
    return c;
  }

  it('exports a docker-archive that `docker load` takes: tagged with the reference, the same layers and configuration', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aiops-archive-'));
    try {
      const file = await exportDockerArchive(config, join(dir, 'aiops.tar'), log);
      const tarEntry = async (name: string): Promise<string> => (await execFileP('tar', ['-xOf', file, name], { maxBuffer: 64 * 1024 * 1024 })).stdout;
      const [entry] = JSON.parse(await tarEntry('manifest.json')) as { Config: string; RepoTags: string[]; Layers: string[] }[];
      expect(entry?.RepoTags).toEqual([report.reference]);
      expect(entry?.Layers).toHaveLength(readManifest(report.layout, report.tag).layers.length);
      const archived = (JSON.parse(await tarEntry(entry?.Config ?? '')) as { config: Record<string, unknown> }).config;
      const oci = readImageConfig(report.layout, report.tag).config;
      for (const key of ['User', 'Env', 'Entrypoint', 'Cmd', 'WorkingDir', 'Labels', 'ExposedPorts', 'StopSignal'] as const) expect(archived[key], key).toEqual(oci[key]);
      expect(oci.User).toBe('10001:10001');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('answers /health and /ready on the pod address for ingest, evaluate and sinks', async () => {
    for (const [component, port] of Object.entries(ports) as [Component, number][]) {
      const base = `http://${podNetworkDefaults.address}:${port}`;
      await eventually(
        `${component} ready at ${base}`,
        async () => {
          const health = await httpStatus(`${base}/health`);
          const ready = await httpStatus(`${base}/ready`);
          return health === 200 && ready === 200 ? true : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 1_000 },
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n--- ${component} output ---\n${container(component).output().slice(-4000)}`);
      });
    }
  }, 120_000);

  it('runs as uid 10001 with no capabilities, and cannot write to its root filesystem (only /tmp)', async () => {
    const c = container('ingest');
    const { pid } = await containerState(runc, c.id);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    expect(status).toMatch(/^Uid:\s+10001\s+10001\s+10001\s+10001$/m);
    expect(status).toMatch(/^Gid:\s+10001\s+10001\s+10001\s+10001$/m);
    expect(status).toMatch(/^CapEff:\s+0+$/m);
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    const probe = `for (const p of ['/probe', '/app/probe', '/tmp/probe']) { try { require('fs').writeFileSync(p, 'x'); console.log(p, 'written'); } catch (e) { console.log(p, e.code); } }`;
    const { stdout } = await execFileP(runc, ['exec', c.id, 'node', '-e', probe]);
    expect(stdout.trim().split('\n')).toEqual(['/probe EROFS', '/app/probe EROFS', '/tmp/probe written']);
  });

  it('takes an OTLP record through ingest and evaluate to the signals and signal-values topics', async () => {
    const kafka = kafkaClient(endpoints.kafkaBrokers);
    const valuesStart = await endOffsets(kafka, signalValuesTopic);
    const producer = kafka.producer();
    await producer.connect();
    // One record per bucket until the outputs arrive: each later bucket moves ingest's watermark on.
    let sending = true;
    const sender = (async () => {
      while (sending) {
        await producer.send({ topic: inputTopic, messages: [{ value: otlpRecord(service, Date.now()) }] });
        await new Promise((r) => setTimeout(r, BUCKET_MS / 2));
      }
    })();
    try {
      const signals = await collectMessages(kafka, { topic: signalsTopic, count: 1, timeoutMs: 90_000, filter: (m) => m.value !== null && (m.key?.toString() ?? '').includes(service) });
      const signal = signalSerde.deserialize(signals[0]?.value as Buffer);
      expect(signal).toBeDefined();
      const values = await collectMessages(kafka, { topic: signalValuesTopic, count: 1, timeoutMs: 90_000, startOffsets: valuesStart, filter: (m) => m.value !== null && (m.key?.toString() ?? '').includes(service) });
      const value = signalValueSerde.deserialize(values[0]?.value as Buffer);
      expect(value.dimensions).toEqual({ 'service.name': service, 'http.route': '/img' });
      expect(value.count % 4).toBe(0);
      expect(value.count).toBeGreaterThan(0);
      expect(value.errors).toBe(0);
    } finally {
      sending = false;
      await sender;
      await producer.disconnect();
    }
  }, 200_000);

  it('commits what it processed when SIGTERM stops it, then exits 0', async () => {
    const kafka = kafkaClient(endpoints.kafkaBrokers);
    const late = container('late');
    const metrics = `http://${podNetworkDefaults.address}:${LATE_PORT}/metrics`;
    const events = async (kind: string): Promise<number> => {
      const text = await (await fetch(metrics, { signal: AbortSignal.timeout(3_000) })).text();
      const line = text.split('\n').find((l) => l.startsWith('aiops_process_events') && l.includes(`kind="${kind}"`));
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    await eventually('late ingest ready', async () => ((await httpStatus(`http://${podNetworkDefaults.address}:${LATE_PORT}/ready`)) === 200 ? true : undefined), { timeoutMs: 90_000 });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: lateInput, messages: Array.from({ length: LATE_RECORDS }, (_, i) => ({ value: otlpRecord(`${service}-late`, Date.now() - 60_000 + i) })) });
    await producer.disconnect();
    await eventually('late ingest consumed the records', async () => ((await events('records')) >= LATE_RECORDS ? true : undefined));
    const admin = kafka.admin();
    await admin.connect();
    try {
      const committed = async (): Promise<string | undefined> => (await admin.fetchOffsets({ groupId: lateGroup, topics: [lateInput] }))[0]?.partitions[0]?.offset;
      // Processed, not committed: the commit interval has not passed.
      expect(await events('commits')).toBe(0);
      expect(await committed()).toBe('-1');
      await execFileP(runc, ['kill', late.id, 'TERM']);
      expect(await late.exited, late.output().slice(-3000)).toBe(0);
      expect(await committed()).toBe(String(LATE_RECORDS));
    } finally {
      await admin.disconnect();
    }
  }, 180_000);

  it(`stops each process on SIGTERM (runc kill) with exit 0 within ${STOP_BOUND_MS / 1000} s`, async () => {
    for (const component of Object.keys(ports) as Component[]) {
      const c = container(component);
      const started = Date.now();
      await execFileP(runc, ['kill', c.id, 'TERM']);
      const code = await Promise.race([c.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), STOP_BOUND_MS))]);
      log(`${component}: SIGTERM to exit ${String(code)} in ${Date.now() - started} ms`);
      expect(code, `${component} output:\n${c.output().slice(-3000)}`).toBe(0);
    }
  }, 120_000);
});
