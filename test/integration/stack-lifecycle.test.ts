import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadStackConfig, projectRoot, stackDown, stackStatus, stackUp } from '../../stack/index.js';
import { portOpen } from '../../stack/probes.js';
import { isAlive } from '../../stack/processes.js';

const run = promisify(execFile);

/*
 * A second, isolated stack (its own home and ports) so that up/down can be exercised without
 * touching the one the other tests use. It shares the install cache, so nothing is rebuilt.
 */
describe('aiops stack lifecycle', () => {
  const home = mkdtempSync(join(tmpdir(), 'aiops-lifecycle-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AIOPS_STACK_HOME: home,
    AIOPS_STACK_KAFKA_BROKER_PORT: '29092',
    AIOPS_STACK_KAFKA_CONTROLLER_PORT: '29094',
    AIOPS_STACK_KAFKA_SASL_SSL_PORT: '29095',
    AIOPS_STACK_KAFKA_POD_PORT: '29096',
    AIOPS_STACK_PROMETHEUS_HTTP_PORT: '29090',
    AIOPS_STACK_ALERTMANAGER_HTTP_PORT: '29093',
  };
  const config = loadStackConfig(env);
  const only = ['kafka', 'prometheus', 'alertmanager'] as const;

  afterAll(async () => {
    await stackDown({ config });
    rmSync(home, { recursive: true, force: true });
  });

  it('up starts each component healthy on its configured port; a second up is a no-op', async () => {
    const first = await stackUp({ config, only });
    expect(first.started).toEqual([...only]);
    for (const name of only) {
      const status = first.status.find((s) => s.name === name);
      expect(status?.health.healthy, `${name}: ${status?.health.detail}`).toBe(true);
      expect(status?.pid).toBeGreaterThan(0);
    }
    expect(await portOpen(config.host, 29092)).toBe(true);
    expect(await portOpen(config.host, 29090)).toBe(true);

    const second = await stackUp({ config, only });
    expect(second.started).toEqual([]);
    expect(second.alreadyRunning).toEqual([...only]);
    expect(second.status.map((s) => s.pid)).toEqual(first.status.map((s) => s.pid));
  });

  it('status from the command line reports them as JSON', async () => {
    const { stdout } = await run(process.execPath, [join(projectRoot, 'bin/aiops.js'), 'stack', 'status', '--json'], { env }).catch(
      (error: { stdout: string }) => ({ stdout: error.stdout }),
    );
    const status = JSON.parse(stdout) as { name: string; health: { healthy: boolean }; addresses: Record<string, string> }[];
    expect(status.filter((s) => s.health.healthy).map((s) => s.name)).toEqual(expect.arrayContaining([...only]));
    expect(status.find((s) => s.name === 'kafka')?.addresses.brokers).toBe('127.0.0.1:29092');
  });

  it('down stops exactly the processes up started and frees their ports', async () => {
    const pids = (await stackStatus(config)).filter((s) => s.pid !== undefined);
    const records = pids.map((s) => ({ pid: s.pid as number, command: readFileSync(`/proc/${s.pid}/cmdline`, 'utf8').split('\0')[0] ?? '', startedAt: '' }));
    const stopped = await stackDown({ config });
    expect([...stopped].sort()).toEqual([...only].sort());
    for (const record of records) expect(isAlive(record)).toBe(false);
    for (const port of [29092, 29094, 29095, 29096, 29090, 29093]) expect(await portOpen(config.host, port)).toBe(false);
    expect(await stackDown({ config })).toEqual([]);
  });
});
