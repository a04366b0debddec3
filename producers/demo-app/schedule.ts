import { schedule as cronSchedule, validate as cronValidate } from 'node-cron';
import type { ScheduledTask } from 'node-cron';
import { parseFaultSpec } from './faults.js';
import type { FaultRegistry, FaultSpec } from './faults.js';

/**
 * One scheduled fault: at `atMs` after the app started, or whenever the cron expression fires
 * (node-cron syntax, 5 fields or 6 with seconds), the fault is put in force for `durationMs`.
 */
export type ScheduledFault = FaultSpec & { readonly durationMs: number } & ({ readonly atMs: number; readonly cron?: undefined } | { readonly cron: string; readonly atMs?: undefined });

/** Validates a schedule (an array of entries), reporting every problem at once with its index. */
export function parseSchedule(input: unknown, knownRoutes?: readonly string[]): ScheduledFault[] {
  if (!Array.isArray(input)) throw new Error('fault schedule: expected a JSON array of {atMs|cron, route, latencyMs?, errorRate?, durationMs}');
  const problems: string[] = [];
  const entries: ScheduledFault[] = [];
  input.forEach((raw: unknown, i) => {
    const { spec, problems: specProblems } = parseFaultSpec(raw, knownRoutes, ['atMs', 'cron']);
    const here = specProblems.map((p) => `[${i}] ${p}`);
    const entry = (typeof raw === 'object' && raw !== null ? raw : {}) as { atMs?: unknown; cron?: unknown; durationMs?: unknown };
    const hasAt = entry.atMs !== undefined;
    const hasCron = entry.cron !== undefined;
    if (hasAt === hasCron) here.push(`[${i}] expected exactly one of atMs (ms after start) or cron (expression)`);
    if (hasAt && !(typeof entry.atMs === 'number' && Number.isFinite(entry.atMs) && entry.atMs >= 0)) here.push(`[${i}] atMs: expected a number of ms >= 0`);
    if (hasCron && !(typeof entry.cron === 'string' && cronValidate(entry.cron))) here.push(`[${i}] cron: "${String(entry.cron)}" is not a valid cron expression`);
    if (entry.durationMs === undefined) here.push(`[${i}] durationMs: required for scheduled faults`);
    problems.push(...here);
    if (here.length === 0 && spec) {
      entries.push(hasAt ? { ...spec, durationMs: spec.durationMs as number, atMs: entry.atMs as number } : { ...spec, durationMs: spec.durationMs as number, cron: entry.cron as string });
    }
  });
  if (problems.length > 0) throw new Error(`fault schedule:\n  - ${problems.join('\n  - ')}`);
  return entries;
}

/** A running schedule. */
export interface FaultScheduleHandle {
  /** Cancels pending timers and cron tasks (faults already in force stay until they expire). */
  stop(): Promise<void>;
}

/**
 * Runs a schedule against `registry`: timers for `atMs` entries (from now), node-cron tasks for
 * `cron` entries. Each firing sets the fault with source `schedule` for its `durationMs`.
 */
export function startFaultSchedule(
  registry: FaultRegistry,
  entries: readonly ScheduledFault[],
  options: { onFire?: (entry: ScheduledFault) => void } = {},
): FaultScheduleHandle {
  const timers: NodeJS.Timeout[] = [];
  const tasks: ScheduledTask[] = [];
  const fire = (entry: ScheduledFault): void => {
    registry.set({ route: entry.route, latencyMs: entry.latencyMs, jitterMs: entry.jitterMs, errorRate: entry.errorRate, durationMs: entry.durationMs }, 'schedule');
    options.onFire?.(entry);
  };
  for (const entry of entries) {
    if (entry.cron !== undefined) {
      tasks.push(cronSchedule(entry.cron, () => fire(entry), { name: `fault ${entry.route}`, noOverlap: true }));
    } else {
      const timer = setTimeout(() => fire(entry), entry.atMs);
      timer.unref();
      timers.push(timer);
    }
  }
  return {
    async stop(): Promise<void> {
      for (const timer of timers) clearTimeout(timer);
      await Promise.all(tasks.map((task) => task.destroy()));
    },
  };
}
