import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { projectRoot } from '../../../stack/config.js';
import { ensureTool } from '../../../stack/tools.js';

const run = promisify(execFile);
const workflowsDir = join(projectRoot, '.github/workflows');
const workflows = readdirSync(workflowsDir).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(workflowsDir, f));

async function lint(files: readonly string[]): Promise<{ ok: boolean; output: string }> {
  const actionlint = await ensureTool('actionlint');
  try {
    const { stdout, stderr } = await run(actionlint, ['-no-color', ...files], { cwd: projectRoot });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

// The tools come from `aiops tools install`, which `npm test` runs before vitest.
describe('GitHub workflows (CI and CD)', () => {
  it('pass actionlint and the GitHub workflow schema', async () => {
    expect(workflows.map((f) => f.slice(workflowsDir.length + 1)).sort()).toEqual(expect.arrayContaining(['ci.yml', 'release.yml']));
    const result = await lint(workflows);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
    const checkJsonschema = await ensureTool('check-jsonschema');
    const { stdout } = await run(checkJsonschema, ['--builtin-schema', 'vendor.github-workflows', ...workflows]);
    expect(stdout).toMatch(/ok -- validation done/);
  });

  it('actionlint catches a broken workflow (the check can fail)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aiops-workflow-'));
    const broken = join(dir, 'broken.yml');
    writeFileSync(broken, 'on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.nope.nothing }}\n        uses: actions/checkout@v4\n');
    const result = await lint([broken]);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/broken\.yml/);
  });

  it('deliver: image by commit to GHCR, staging on kind with the smoke test, production behind an approval with rollback', () => {
    const release = parse(readFileSync(join(workflowsDir, 'release.yml'), 'utf8')) as {
      jobs: Record<string, { needs?: string[] | string; environment?: string; if?: string; steps: { uses?: string; run?: string; if?: string }[] }>;
    };
    const { image, staging, production } = release.jobs;
    expect(image?.steps.some((s) => s.uses?.startsWith('docker/build-push-action'))).toBe(true);
    expect(JSON.stringify(image)).toMatch(/ghcr\.io/);
    expect(staging?.needs).toBe('image');
    expect(staging?.steps.some((s) => s.uses?.startsWith('helm/kind-action'))).toBe(true);
    expect(staging?.steps.some((s) => s.run?.includes('.github/scripts/smoke.sh'))).toBe(true);
    expect(production?.environment).toBe('production');
    expect(production?.needs).toEqual(['image', 'staging']);
    expect(production?.steps.some((s) => s.if === 'failure()' && s.run?.includes('helm rollback'))).toBe(true);
  });

  it('the smoke script is valid bash and the staging Kafka matches the demo values', async () => {
    await run('bash', ['-n', join(projectRoot, '.github/scripts/smoke.sh')]);
    const demoValues = parse(readFileSync(join(projectRoot, 'helm/aiops/ci/demo-values.yaml'), 'utf8')) as { kafka: { brokers: string } };
    const kafka = readFileSync(join(projectRoot, '.github/kind/kafka.yaml'), 'utf8');
    const [host, port] = demoValues.kafka.brokers.split(':');
    const [service, namespace] = (host ?? '').split('.');
    expect(kafka).toContain(`name: ${service}`);
    expect(kafka).toContain(`namespace: ${namespace}`);
    expect(kafka).toContain(`PLAINTEXT://${host}:${port}`);
  });
});
