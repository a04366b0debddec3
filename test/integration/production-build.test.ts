import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../stack/config.js';
import type * as DemoApp from '../../producers/demo-app/index.js';

const run = promisify(execFile);
const bin = join(projectRoot, 'bin/aiops.js');

// `npm test` runs `npm run build` before vitest; these check the compiled dist/ the image ships.
describe('production build (dist/)', () => {
  it('exists, and the bin runs it with AIOPS_DIST=1, reading schemas and SLO files from the package root', async () => {
    expect(existsSync(join(projectRoot, 'dist/cli/main.js')), 'dist/ is missing: npm test builds it first (npm run build)').toBe(true);
    const env = { ...process.env, AIOPS_DIST: '1' };
    const help = await run(process.execPath, [bin, '--help'], { env });
    expect(help.stdout).toMatch(/^usage: aiops <command>/);
    const check = await run(process.execPath, [bin, 'slo', 'check', join(projectRoot, 'slo/demo')], { env });
    expect(check.stdout).toMatch(/2 SLOs in 2 files: valid/);
  });

  it('starts the compiled demo shop, which serves its API without tsx', async () => {
    const { startDemoApp } = (await import(join(projectRoot, 'dist/producers/demo-app/index.js'))) as typeof DemoApp;
    const app = await startDemoApp({ otlpHttpEndpoint: 'http://127.0.0.1:9', env: { NODE_OPTIONS: '' } });
    try {
      const response = await fetch(`${app.url}/api/users`);
      expect(response.status).toBe(200);
    } finally {
      await app.stop();
    }
  });
});
