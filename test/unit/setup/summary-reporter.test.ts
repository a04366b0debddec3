import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const fixture = fileURLToPath(new URL('../../fixtures/summary-reporter/', import.meta.url));
const vitestBin = fileURLToPath(new URL('../../../node_modules/vitest/vitest.mjs', import.meta.url));

/** Runs vitest on the fixture project (its own config: no recursion into this suite) and returns the summary line's counts. */
async function summaryOf(filter: string): Promise<{ passed: number; failed: number; skipped: number; exitCode: number }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')));
  const result = await run(process.execPath, [vitestBin, 'run', '--config', 'vitest.config.ts', filter], { cwd: fixture, env: { ...env, NO_COLOR: '1' }, timeout: 120_000 }).then(
    (r) => ({ stdout: r.stdout, exitCode: 0 }),
    (error: { stdout?: string; code?: number }) => ({ stdout: error.stdout ?? '', exitCode: error.code ?? -1 }),
  );
  const match = /^tests: (\d+) passed, (\d+) failed, (\d+) skipped$/m.exec(result.stdout);
  if (!match) throw new Error(`no summary line in:\n${result.stdout}`);
  return { passed: Number(match[1]), failed: Number(match[2]), skipped: Number(match[3]), exitCode: result.exitCode };
}

describe('summary reporter', () => {
  it('counts a suite whose beforeAll failed as failed (its tests are only skipped)', async () => {
    const counts = await summaryOf('cases/hooks.case.ts');
    expect(counts.exitCode).not.toBe(0);
    expect(counts.passed).toBe(1);
    expect(counts.failed).toBeGreaterThanOrEqual(1);
  });

  it('counts a file that fails while it loads as failed', async () => {
    const counts = await summaryOf('cases/load.case.ts');
    expect(counts.exitCode).not.toBe(0);
    expect(counts.failed).toBeGreaterThanOrEqual(1);
  });
});
