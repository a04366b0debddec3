import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { ensureTool } from '../../stack/tools.js';
import { eventually } from './eventually.js';

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A private Prometheus of the stack's package (beside promtool), for a test's own scrape targets and rules. */
export interface TestPrometheus {
  readonly url: string;
  readonly process: ChildProcess;
  /** Firing alerts with their labels. */
  alerts(): Promise<{ labels: Record<string, string>; state: string }[]>;
  /** An instant query's result vector. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
}

/**
 * Starts Prometheus in `dir` with `prometheus.yml` (scrape and rule configuration, rule files
 * beside it) on a free port and waits until it is ready. `flags` are extra command-line flags,
 * e.g. `--enable-feature=native-histograms` as the stack's Prometheus runs.
 */
export async function startPrometheus(dir: string, config: string, files: Record<string, string> = {}, flags: readonly string[] = []): Promise<TestPrometheus> {
  const binary = join(dirname(await ensureTool('promtool')), 'prometheus');
  if (!existsSync(binary)) throw new Error(`no prometheus beside promtool (${binary})`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'prometheus.yml'), config);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const port = await freePort();
  const child = spawn(binary, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, ...flags], { stdio: 'ignore', cwd: dir });
  const url = `http://127.0.0.1:${port}`;
  await eventually('prometheus ready', async () => ((await fetch(`${url}/-/ready`).catch(() => undefined))?.ok ? true : undefined), { timeoutMs: 30_000 });
  return {
    url,
    process: child,
    async alerts() {
      const body = (await (await fetch(`${url}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
      return body.data.alerts;
    },
    async query(expr) {
      const body = (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as { status: string; error?: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      if (body.status !== 'success') throw new Error(`query ${expr}: ${body.error ?? body.status}`);
      return body.data?.result ?? [];
    },
  };
}
