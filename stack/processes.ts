import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { sleep } from '../runtime/retry.js';
import type { LaunchSpec } from './types.js';

/** What `stack up` remembers about a process it started. */
export interface PidRecord {
  readonly pid: number;
  readonly command: string;
  readonly startedAt: string;
}

/**
 * Starts a component as its own process group, detached from the caller, with stdout and
 * stderr appended to its log file; returns the pid and records it in `pidFile`.
 */
export function startProcess(spec: LaunchSpec, logFile: string, pidFile: string): PidRecord {
  mkdirSync(dirname(logFile), { recursive: true });
  mkdirSync(dirname(pidFile), { recursive: true });
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    if (child.pid === undefined) throw new Error(`could not spawn ${spec.command}`);
    child.unref();
    const record: PidRecord = { pid: child.pid, command: spec.command, startedAt: new Date().toISOString() };
    writeFileSync(pidFile, JSON.stringify(record) + '\n');
    return record;
  } finally {
    closeSync(fd);
  }
}

export function readPidFile(pidFile: string): PidRecord | undefined {
  if (!existsSync(pidFile)) return undefined;
  try {
    const record = JSON.parse(readFileSync(pidFile, 'utf8')) as PidRecord;
    return Number.isInteger(record.pid) ? record : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True while `pid` runs (signal 0 reaches it and it is not a zombie), whatever program it is. For
 * a process this one has just spawned: between fork and exec its command line is still this
 * process's own, so the command check of {@link isAlive} would call it gone.
 */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/**
 * True when `record.pid` is alive and is still the program we started (a recycled pid that now
 * belongs to another program does not count, so `down` never signals a stranger).
 */
export function isAlive(record: PidRecord): boolean {
  try {
    process.kill(record.pid, 0);
  } catch {
    return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8');
    const stat = readFileSync(`/proc/${record.pid}/stat`, 'utf8');
    // A zombie has exited; it only waits for its parent to reap it.
    if (/^\d+ \(.*\) Z /.test(stat)) return false;
    return cmdline.split('\0')[0] === record.command;
  } catch {
    // No /proc (not Linux): the signal test above is all we have.
    return true;
  }
}

/** Sends SIGTERM to the process group, waits up to `graceMs`, then SIGKILL. */
export async function stopProcess(record: PidRecord, graceMs = 15_000): Promise<'stopped' | 'killed' | 'not-running'> {
  if (!isAlive(record)) return 'not-running';
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-record.pid, signal);
    } catch {
      try {
        process.kill(record.pid, signal);
      } catch {
        // already gone
      }
    }
  };
  signalGroup('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(record)) return 'stopped';
    await sleep(100);
  }
  signalGroup('SIGKILL');
  for (let i = 0; i < 50 && isAlive(record); i++) await sleep(100);
  return 'killed';
}

export function removePidFile(pidFile: string): void {
  rmSync(pidFile, { force: true });
}
