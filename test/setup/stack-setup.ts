import type { TestProject } from 'vitest/node';
import { loadStackConfig, stackDown, stackStatus, stackUp } from '../../stack/index.js';
import { externalEndpoints, localEndpoints } from '../../stack/clients/index.js';

/**
 * Global setup of the integration project. With KAFKA_BROKERS and friends set, tests use those
 * services. Otherwise the local stack is installed and started (`aiops stack up`); a stack that is
 * already running is reused and left running. The components this setup started (and only those:
 * one that was down because a test stopped it is not a reason to stop the others) it stops at the
 * end, unless AIOPS_KEEP_STACK=1.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const external = externalEndpoints();
  if (external) {
    project.provide('stack', external);
    return undefined;
  }
  const config = loadStackConfig();
  const before = await stackStatus(config);
  const log = (line: string): void => {
    process.stderr.write(`[stack] ${line}\n`);
  };
  const report = await stackUp({ config, log });
  log(`up in ${(report.totalMs / 1000).toFixed(1)} s (installs ${(report.installMs / 1000).toFixed(1)} s); started: ${report.started.join(', ') || 'none'}`);
  project.provide('stack', localEndpoints(config));
  const startedHere = before.filter((s) => s.pid === undefined).map((s) => s.name);
  if (startedHere.length === 0 || process.env.AIOPS_KEEP_STACK === '1') return undefined;
  return async () => {
    await stackDown({ config, log, only: startedHere });
  };
}
