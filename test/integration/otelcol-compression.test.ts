import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeMetricsRequest } from '../../runtime/otlp/index.js';
import { collectMessages, endOffsets, kafkaClient } from '../../stack/clients/index.js';
import { otelcolBinary, otelcolConfigFile } from '../../stack/components/otelcol.js';
import { loadStackConfig } from '../../stack/index.js';
import { stackEndpoints } from '../helpers/stack.js';

/** A port nobody listens on right now. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const binary = otelcolBinary(loadStackConfig());

// The stack's own collector keeps its configuration; a second one, on free ports, exports with each
// compression into the same broker, so the platform's client reads what a real collector writes.
describe.skipIf(!existsSync(binary))('the collector exporting compressed to Kafka', () => {
  let collector: ChildProcess | undefined;

  afterEach(async () => {
    if (collector && collector.exitCode === null) {
      const exited = new Promise((resolve) => collector?.once('exit', resolve));
      collector.kill('SIGTERM');
      await exited;
    }
  });

  it.each(['lz4', 'zstd', 'snappy', 'gzip'])('%s batches are read by the platform client', async (codec) => {
    const endpoints = stackEndpoints();
    const [grpc, http, prometheus, health, telemetry] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    let stderr = '';
    collector = spawn(binary, ['--config', otelcolConfigFile], {
      env: {
        ...process.env,
        AIOPS_KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
        AIOPS_OTELCOL_KAFKA_COMPRESSION: codec,
        AIOPS_OTELCOL_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
        AIOPS_OTELCOL_HTTP_ENDPOINT: `127.0.0.1:${http}`,
        AIOPS_OTELCOL_PROMETHEUS_ENDPOINT: `127.0.0.1:${prometheus}`,
        AIOPS_OTELCOL_HEALTH_ENDPOINT: `127.0.0.1:${health}`,
        AIOPS_OTELCOL_TELEMETRY_HOST: '127.0.0.1',
        AIOPS_OTELCOL_TELEMETRY_PORT: String(telemetry),
        AIOPS_TRACES_OTLP_ENDPOINT: endpoints.otlpGrpc,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    collector.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4_000);
    });
    let healthy = false;
    for (let i = 0; i < 150 && !healthy && collector.exitCode === null; i++) {
      healthy = await fetch(`http://127.0.0.1:${health}/`).then((r) => r.ok, () => false);
      if (!healthy) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(healthy, `collector did not become healthy:\n${stderr}`).toBe(true);

    const kafka = kafkaClient(endpoints.kafkaBrokers);
    const start = await endOffsets(kafka, 'otlp_metrics');
    const service = `compression-${codec}-${Date.now()}`;
    const now = Date.now() * 1e6;
    const body = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'compression.check',
                  sum: {
                    aggregationTemporality: 2,
                    isMonotonic: true,
                    dataPoints: Array.from({ length: 50 }, (_, k) => ({ attributes: [{ key: 'k', value: { stringValue: `v${k}` } }], startTimeUnixNano: String(now - 1e9), timeUnixNano: String(now), asDouble: k })),
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const response = await fetch(`http://127.0.0.1:${http}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(response.status).toBe(200);

    // The consumer would crash on a codec it lacks; collectMessages turns that crash into a failure.
    const [record] = await collectMessages(kafka, { topic: 'otlp_metrics', count: 1, timeoutMs: 60_000, startOffsets: start, filter: (m) => m.value?.includes(service) ?? false });
    const request = decodeMetricsRequest(record?.value as Buffer);
    const metric = request.resourceMetrics[0]?.scopeMetrics[0]?.metrics[0];
    expect(metric?.name).toBe('compression.check');
    expect(metric?.points).toHaveLength(50);
  });
});
