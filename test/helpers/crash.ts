import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { retryKafka, sleep } from '../../runtime/retry.js';
import { signalSerde } from '../../schemas/index.js';
import { readTopicToEnd } from '../../stack/clients/index.js';
import type { CollectedMessage } from '../../stack/clients/index.js';
import { projectRoot } from '../../stack/index.js';

/*
 * What the kill tests share: platform commands run as child processes (`aiops ingest`,
 * `aiops evaluate`, `aiops sinks`) so that SIGKILL strikes a real process, the consumer group's
 * committed input as the measure of their progress, and waiting for a condition to hold.
 */

/** Calls `probe` until it returns a value other than undefined; fails after `timeoutMs`. */
export async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, pollMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(pollMs);
  }
  throw new Error(`not reached within ${timeoutMs} ms`);
}

/**
 * Child processes of `bin/aiops.js <command>`, with the test's environment plus `env`; stderr
 * goes to the file named by AIOPS_CRASH_LOG when set (with trace logging), else nowhere.
 */
export class Children {
  private readonly all: ChildProcess[] = [];

  start(command: string, env: Readonly<Record<string, string>>): ChildProcess {
    const logFile = process.env.AIOPS_CRASH_LOG;
    const child = spawn(process.execPath, [join(projectRoot, 'bin/aiops.js'), command], {
      env: { ...process.env, AIOPS_LOG_LEVEL: logFile ? 'trace' : 'error', ...env },
      stdio: ['ignore', 'ignore', logFile ? openSync(logFile, 'a') : 'ignore'],
    });
    this.all.push(child);
    return child;
  }

  /** SIGKILL, and wait until the process is gone. */
  static async kill(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Kills what is still running (afterAll). */
  killAll(): void {
    for (const child of this.all) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/**
 * The committed input offsets of a consumer group, summed over the topic's partitions (none
 * committed counts 0); every partition committed past `ends` is noted in `beyond`.
 */
export async function committedTotal(admin: Admin, groupId: string, topic: string, ends?: ReadonlyMap<number, number>, beyond?: string[]): Promise<number> {
  // A broker that is settling (coordinator loading, leader elections) answers with transient errors.
  const [offsets] = await retryKafka(`committed offsets of ${groupId}`, () => admin.fetchOffsets({ groupId, topics: [topic] }));
  let total = 0;
  for (const p of offsets?.partitions ?? []) {
    const end = ends?.get(p.partition) ?? Number.POSITIVE_INFINITY;
    if (Number(p.offset) > end) beyond?.push(`partition ${p.partition}: committed ${p.offset}, end ${end}`);
    total += Math.max(0, Number(p.offset));
  }
  return total;
}

/**
 * Kill points: for each share of the input in `shares`, an offset total near it (± 5% of the
 * input, drawn from `random`), so each run strikes at other points of the progress.
 */
export function killPoints(total: number, shares: readonly number[], random: () => number): number[] {
  return shares.map((share) => Math.floor(total * (share + (random() - 0.5) * 0.1)));
}

/** The records of a signals topic once every source partition in `sources` announced idle, else undefined. */
export async function idleSignals(kafka: Kafka, topic: string, sources: readonly number[]): Promise<CollectedMessage[] | undefined> {
  const records = await readTopicToEnd(kafka, topic);
  const idle = new Set(records.map((r) => signalSerde.deserialize(r.value as Buffer)).filter((s) => s.kind === 'WATERMARK' && s.idle).map((s) => s.sourcePartition));
  return sources.every((p) => idle.has(p)) ? records : undefined;
}
