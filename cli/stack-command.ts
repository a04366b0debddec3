import { parseArgs } from 'node:util';
import { aiopsError } from '../runtime/errors.js';
import { componentNamed, loadStackConfig, stackDown, stackLogs, stackStatus, stackUp } from '../stack/index.js';
import type { ComponentName, ComponentStatus } from '../stack/index.js';

function printStatus(status: readonly ComponentStatus[]): void {
  const rows = status.map((s) => [
    s.name,
    s.health.healthy ? 'healthy' : 'DOWN',
    s.pid === undefined ? '-' : String(s.pid),
    Object.entries(s.addresses)
      .map(([k, v]) => `${k}=${v}`)
      .join(' '),
  ]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]?.length ?? 0), ['component', 'health', 'pid'][i]?.length ?? 0));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c)).join('  ');
  console.log(line(['component', 'health', 'pid', 'addresses']));
  for (const row of rows) console.log(line(row));
  for (const s of status) if (!s.health.healthy) console.log(`  ${s.name}: ${s.health.detail} (log: ${s.logFile})`);
}

export async function runStack(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const config = loadStackConfig();
  const log = (line: string): void => console.error(line);
  switch (sub) {
    case 'up': {
      const only = rest.length > 0 ? rest.map((name) => componentNamed(name).name as ComponentName) : undefined;
      const report = await stackUp({ config, only, log });
      printStatus(report.status.filter((s) => !only || only.includes(s.name)));
      console.log(
        `\nstack up: ${report.started.length} started, ${report.alreadyRunning.length} already running; ` +
          `install/check ${(report.installMs / 1000).toFixed(1)} s, total ${(report.totalMs / 1000).toFixed(1)} s`,
      );
      return 0;
    }
    case 'down': {
      const stopped = await stackDown({ config, log });
      console.log(stopped.length === 0 ? 'stack down: nothing was running' : `stack down: stopped ${stopped.join(', ')}`);
      return 0;
    }
    case 'status': {
      const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } } });
      const status = await stackStatus(config);
      if (values.json) console.log(JSON.stringify(status, null, 2));
      else printStatus(status);
      return status.every((s) => s.health.healthy) ? 0 : 1;
    }
    case 'logs': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { lines: { type: 'string', short: 'n' } } });
      const lines = values.lines === undefined ? 50 : Number(values.lines);
      if (!Number.isInteger(lines) || lines < 1) throw aiopsError('CLI_USAGE', [`-n expects a positive integer, got "${values.lines}"`]);
      console.log(stackLogs(config, positionals[0], lines));
      return 0;
    }
    default:
      throw aiopsError('CLI_USAGE', ['usage: aiops stack up [component...] | down | status [--json] | logs [component] [-n N]']);
  }
}
