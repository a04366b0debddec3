import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, statSync, writeFileSync, accessSync, constants } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { aiopsError } from '../runtime/errors.js';

/** Finds an executable on PATH, or undefined. */
export function which(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Throws a prerequisite error naming the tool when it is not on PATH. */
export function requireTool(command: string, why: string): string {
  const found = which(command);
  if (!found) throw aiopsError('STACK_PREREQUISITE_MISSING', [command, why]);
  return found;
}

/** Runs a command to completion with its output appended to `logFile`; rejects on a non-zero exit. */
export function runLogged(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; logFile: string; what: string },
): Promise<void> {
  mkdirSync(dirname(options.logFile), { recursive: true });
  const fd = openSync(options.logFile, 'a');
  writeFileSync(fd, `\n$ ${command} ${args.join(' ')}\n`);
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', fd, fd],
    });
    child.once('error', (error) => {
      closeSync(fd);
      reject(aiopsError('STACK_INSTALL_FAILED', [options.what, error.message, options.logFile], error));
    });
    child.once('exit', (code, signal) => {
      closeSync(fd);
      if (code === 0) resolve();
      else reject(aiopsError('STACK_INSTALL_FAILED', [options.what, `${command} exited with ${code ?? signal}`, options.logFile]));
    });
  });
}

/** Runs a command and returns its stdout; rejects with its stderr on failure. */
export function capture(command: string, args: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')}: exit ${code}: ${err.trim()}`))));
  });
}

/** Short content hash, used to name cache folders after the inputs that built them. */
export function contentHash(...parts: (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex').slice(0, 12);
}

export function fileHash(path: string): string {
  return contentHash(readFileSync(path));
}

/**
 * A cache entry is complete when its marker exists; the marker is written last, so an
 * interrupted install is redone rather than trusted.
 */
export function isComplete(dir: string): boolean {
  return existsSync(join(dir, '.complete'));
}

export function markComplete(dir: string, note: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, '.complete'), `${note}\n${new Date().toISOString()}\n`);
}

/**
 * Runs `fn` holding an exclusive lock named after a cache entry, so two `stack up` (or test runs)
 * on one machine do not build into the same staging folder at once. The lock is a directory made
 * atomically beside the entry, holding the owner's pid; a lock whose owner is gone is taken over.
 */
export async function withInstallLock<T>(dir: string, fn: () => Promise<T>, pollMs = 1000): Promise<T> {
  const lock = `${dir}.lock`;
  mkdirSync(dirname(lock), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!lockOwnerAlive(lock)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function lockOwnerAlive(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
  } catch {
    // Made but not yet written by its owner: alive unless that was long ago (the owner died in between).
    try {
      return Date.now() - statSync(lock).mtimeMs < 60_000;
    } catch {
      return false;
    }
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
