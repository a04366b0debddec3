/** The kinds of alert the sinks keep open. */
export type AlertKind = 'anomaly' | 'slo';

/**
 * How long an open alert may go without any event about it before the sinks resolve it as stale,
 * per kind (ms; 0 turns staleness off for that kind).
 */
export interface StalenessOptions {
  readonly anomalyMs: number;
  readonly sloMs: number;
}

/**
 * The defaults: 15 minutes for both kinds. Evaluate repeats the state of an open anomaly (UPDATE)
 * and of a firing SLO tier (FIRING) at least every `openStateHeartbeatMs` (5 min) of data time, so
 * 15 minutes is three missed heartbeats (and 15 of the Alertmanager sink's default resend
 * intervals): a source that is merely slow or restarting is not taken for gone.
 */
export const defaultStaleness: StalenessOptions = Object.freeze({ anomalyMs: 900_000, sloMs: 900_000 });

/** The cadence (data time) at which evaluate repeats open anomaly and firing SLO states. */
export { openStateHeartbeatMs } from '../processors/evaluate/heartbeat.js';

/** Reads AIOPS_SINKS_STALE_ANOMALY_MS and AIOPS_SINKS_STALE_SLO_MS; problems are appended to `problems`. */
export function stalenessFromEnv(env: NodeJS.ProcessEnv, problems: string[]): StalenessOptions {
  const read = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || (value !== 0 && value < 1_000)) {
      problems.push(`  - ${name}: expected whole ms, 0 (off) or at least 1000, got ${JSON.stringify(raw)}`);
      return fallback;
    }
    return value;
  };
  return { anomalyMs: read('AIOPS_SINKS_STALE_ANOMALY_MS', defaultStaleness.anomalyMs), sloMs: read('AIOPS_SINKS_STALE_SLO_MS', defaultStaleness.sloMs) };
}

/** An open alert found stale. */
export interface StaleAlert {
  readonly id: string;
  readonly kind: AlertKind;
  /** Wall-clock ms since the sink last had evidence of it. */
  readonly silentMs: number;
}

/**
 * When a sink last had evidence of each open alert: the wall-clock time it last delivered an
 * event about it, or, for alerts loaded at start, the start itself. The start counts as evidence
 * so that a sink that was down (or behind) gives every alert a full stale time to be confirmed by
 * the backlog and the live stream before it judges it; a restart therefore postpones staleness
 * by at most one stale time, it never resends an alert forever.
 */
export class EvidenceClock {
  private readonly seenAt = new Map<string, { kind: AlertKind; at: number }>();

  constructor(
    private readonly options: StalenessOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records evidence of an open alert now. */
  seen(id: string, kind: AlertKind): void {
    this.seenAt.set(id, { kind, at: this.now() });
  }

  /** Forgets an alert (resolved, by its source or as stale). */
  forget(id: string): void {
    this.seenAt.delete(id);
  }

  /** When the alert was last seen (wall-clock ms), if it is tracked. */
  lastSeen(id: string): number | undefined {
    return this.seenAt.get(id)?.at;
  }

  get size(): number {
    return this.seenAt.size;
  }

  /** The stale time of a kind (0: never stale). */
  limit(kind: AlertKind): number {
    return kind === 'anomaly' ? this.options.anomalyMs : this.options.sloMs;
  }

  /** The shortest stale time in use, for how often to look (undefined: staleness is off). */
  get shortest(): number | undefined {
    const limits = [this.options.anomalyMs, this.options.sloMs].filter((x) => x > 0);
    return limits.length > 0 ? Math.min(...limits) : undefined;
  }

  /** The tracked alerts whose kind's stale time has passed without evidence. */
  due(): StaleAlert[] {
    const now = this.now();
    const out: StaleAlert[] = [];
    for (const [id, { kind, at }] of this.seenAt) {
      const limit = this.limit(kind);
      if (limit > 0 && now - at >= limit) out.push({ id, kind, silentMs: now - at });
    }
    return out;
  }
}

/** A duration for people: 45s, 12m, 3h 5m. */
export function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m`;
  return m % 60 === 0 ? `${Math.floor(m / 60)}h` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

/** Runs one async step at a time (deliveries and stale checks of one sink must not interleave). */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(step: () => Promise<T>): Promise<T> {
    const next = this.tail.then(step, step);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
