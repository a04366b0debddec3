import type { Kafka } from 'kafkajs';
import type { Logger } from '../../runtime/logger.js';
import type { AnomalyEvent } from '../../schemas/anomalies.js';
import type { SloEvent } from '../../schemas/slo.js';
import { authHeader } from '../credentials.js';
import type { Credentials } from '../credentials.js';
import { CompactedTopic } from '../compacted-topic.js';
import type { Sink, SinkEvent } from '../runtime.js';
import { defaultStaleness, EvidenceClock, Serial, span } from '../staleness.js';
import type { AlertKind, StalenessOptions } from '../staleness.js';

/** One alert as `POST /api/v2/alerts` takes it (Alertmanager's OpenAPI `postableAlert`). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
}

export interface AlertmanagerSinkOptions {
  /** Alertmanager's base URL, e.g. http://127.0.0.1:9093. */
  readonly url: string;
  readonly credentials?: Credentials;
  /** How often active alerts are sent again (default 60 s; keep it well under resolve_timeout). */
  readonly resendIntervalMs?: number;
  /** Runbook link template; `{service}`, `{slo}`, `{signal}`, `{metric}` are filled in. */
  readonly runbookUrl?: string;
  /** Dashboard link template, same placeholders (e.g. a Grafana dashboard with variables). */
  readonly dashboardUrl?: string;
  readonly log: Logger;
  /** Wall clock, injectable for tests. */
  readonly now?: () => number;
  /** Kafka of the active-set topic; without it the set is kept in memory only (tests). */
  readonly kafka?: Kafka;
  /** Compacted topic of the active alerts (default `aiops.sink.alertmanager.active`). */
  readonly activeTopic?: string;
  /** When an alert with no event about it is resolved as stale (default {@link defaultStaleness}). */
  readonly staleness?: StalenessOptions;
}

export const defaultActiveTopic = 'aiops.sink.alertmanager.active';

/** An entry of the active-set topic (key: the event id): the alert as last sent, and its kind. */
export interface ActiveEntry {
  readonly kind: AlertKind;
  readonly alert: PostableAlert;
}

/** What the sink has done besides deliveries, for /metrics and tests. */
export interface AlertmanagerSinkStats {
  /** Alerts resolved as stale, per kind. */
  stale: Record<AlertKind, number>;
  /** Active alerts read from the active-set topic at start. */
  loaded: number;
}

function parseEntry(value: Buffer): ActiveEntry {
  const parsed = JSON.parse(value.toString('utf8')) as Partial<ActiveEntry>;
  const alert = parsed.alert;
  if ((parsed.kind !== 'anomaly' && parsed.kind !== 'slo') || !alert || typeof alert.labels !== 'object' || typeof alert.startsAt !== 'string') throw new Error('not an active alert');
  return { kind: parsed.kind, alert: { labels: alert.labels, annotations: alert.annotations ?? {}, startsAt: alert.startsAt, endsAt: alert.endsAt ?? '' } };
}

const tierSeverity: Readonly<Record<SloEvent['tier'], string>> = { page: 'critical', ticket: 'warning', budget: 'critical' };

function fill(template: string | undefined, values: Record<string, string>): string | undefined {
  return template?.replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent(values[k] ?? ''));
}

function pct(x: number): string {
  return `${(x * 100).toFixed(x * 100 >= 10 ? 1 : 3).replace(/\.?0+$/, '')}%`;
}

function num(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(4))) : 'n/a';
}

function duration(ms: number): string {
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms / 60_000}m`;
}

/**
 * Sends anomaly and SLO events to Alertmanager as alerts. An OPEN/UPDATE or FIRING event makes
 * its alert active (endsAt a few resend intervals ahead, so alerts of a sink that died expire on
 * their own); RESOLVED sends it once more with endsAt = the event's time (now at the latest), and
 * forgets it. Active alerts are sent again every resend interval, so an Alertmanager that
 * restarted (and lost its in-memory alerts) has them back within one interval. Labels identify an
 * alert and do not change while it is active: alertname, service, severity (as the event opened)
 * and the SLO and tier, or the signal and metric.
 *
 * The active set is kept in a compacted topic (event id → {@link ActiveEntry} when an alert becomes
 * active, a tombstone when it ends), written after Alertmanager accepted a batch and before
 * `deliver` resolves, i.e. before the input offset is committed; a start reads only that topic. A crash between the
 * post and the write, or between the write and the commit, replays the batch: Alertmanager takes
 * the same alert again (same labels) and the set ends the same.
 *
 * Staleness: an active alert with no event about it for the stale time of its kind (evaluate
 * repeats open states every `openStateHeartbeatMs` of data time, see ../staleness.ts) is resolved with
 * endsAt = now and the annotations `resolved_reason: stale` and `stale_reason`, logged at info and
 * counted; a later event about it makes it active again.
 */
export class AlertmanagerSink implements Sink {
  readonly name = 'alertmanager';
  /** Active alerts by event id. */
  readonly active = new Map<string, PostableAlert>();
  readonly stats: AlertmanagerSinkStats = { stale: { anomaly: 0, slo: 0 }, loaded: 0 };
  private readonly kinds = new Map<string, AlertKind>();
  /** Alerts whose membership changed and is not yet on the active-set topic. */
  private readonly unrecorded = new Set<string>();
  private readonly resendMs: number;
  private readonly now: () => number;
  private readonly clock: EvidenceClock;
  private readonly set: CompactedTopic<ActiveEntry> | undefined;
  private readonly serial = new Serial();
  private loading: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;

  constructor(private readonly options: AlertmanagerSinkOptions) {
    this.resendMs = options.resendIntervalMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.clock = new EvidenceClock(options.staleness ?? defaultStaleness, this.now);
    this.set = options.kafka
      ? new CompactedTopic<ActiveEntry>({ kafka: options.kafka, topic: options.activeTopic ?? defaultActiveTopic, log: options.log, what: 'active alerts', parse: parseEntry })
      : undefined;
  }

  /** The active-set topic, if the set is kept on Kafka. */
  get activeTopic(): string | undefined {
    return this.set?.topic;
  }

  /** Reads the active set from its topic and sends it, then starts resending; returns how many alerts it holds. */
  async rebuild(): Promise<number> {
    await this.load();
    await this.serial.run(() => this.resend()).catch((error: unknown) => this.options.log.warn({ error: (error as Error).message }, 'Alertmanager not reachable; active alerts will be resent'));
    this.startTimer();
    return this.stats.loaded;
  }

  deliver(events: readonly SinkEvent[]): Promise<void> {
    this.startTimer();
    return this.serial.run(async () => {
      await this.load();
      const changed = new Map<string, PostableAlert>();
      for (const e of events) {
        if (e.kind === 'measurement') continue;
        const was = this.active.has(e.event.id);
        changed.set(e.event.id, this.fold(e));
        if (this.active.has(e.event.id) !== was) this.unrecorded.add(e.event.id);
      }
      await this.post([...changed.values()]);
      await this.record();
    });
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
    await this.set?.close();
    this.loading = undefined;
  }

  /** Sends every active alert again with a fresh endsAt. */
  async resend(): Promise<void> {
    if (this.active.size === 0) return;
    const endsAt = new Date(this.now() + 4 * this.resendMs).toISOString();
    for (const alert of this.active.values()) alert.endsAt = endsAt;
    await this.post([...this.active.values()]);
  }

  /** Resolves the active alerts whose source said nothing about them for their stale time. */
  async resolveStale(): Promise<number> {
    const due = this.clock.due().filter((d) => this.active.has(d.id));
    if (due.length === 0) return 0;
    const at = new Date(this.now()).toISOString();
    const ended: PostableAlert[] = [];
    for (const d of due) {
      const alert = this.active.get(d.id) as PostableAlert;
      alert.endsAt = at;
      alert.annotations = { ...alert.annotations, resolved_reason: 'stale', stale_reason: `no event about it for ${span(d.silentMs)} (stale after ${span(this.clock.limit(d.kind))})` };
      ended.push(alert);
    }
    await this.post(ended);
    for (const d of due) {
      this.active.delete(d.id);
      this.kinds.delete(d.id);
      this.clock.forget(d.id);
      this.stats.stale[d.kind]++;
      this.options.log.info({ event: d.id, kind: d.kind, silentMs: d.silentMs, reason: 'stale' }, `${d.kind} alert ${d.id} resolved as stale: no event about it for ${span(d.silentMs)}`);
    }
    for (const d of due) this.unrecorded.add(d.id);
    await this.record().catch((error: unknown) =>
      this.options.log.warn({ error: (error as Error).message }, 'stale alerts could not be removed from the active-set topic yet; the next delivery or check writes them'),
    );
    return due.length;
  }

  private load(): Promise<void> {
    if (!this.set) return Promise.resolve();
    const set = this.set;
    this.loading ??= (async () => {
      const content = await set.open();
      // What this process holds itself is at least as new as the topic.
      for (const [id, entry] of content) {
        if (this.active.has(id)) continue;
        this.active.set(id, entry.alert);
        this.kinds.set(id, entry.kind);
        this.clock.seen(id, entry.kind);
      }
      this.stats.loaded = content.size;
      this.options.log.info({ topic: set.topic, active: content.size }, 'active alerts read from the active-set topic');
    })().catch((error: unknown) => {
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  /**
   * Writes the alerts whose membership changed (became active: the alert; ended: a tombstone) to
   * the active-set topic. An UPDATE of an alert already in the set writes nothing: the set holds
   * which alerts are active and what they were when they opened, and the next event refreshes the
   * rest; so the topic takes two records per alert, not one per event.
   */
  private async record(): Promise<void> {
    if (!this.set || this.unrecorded.size === 0) return;
    const ids = [...this.unrecorded];
    const changes: (readonly [string, ActiveEntry | null])[] = [];
    for (const id of ids) {
      const alert = this.active.get(id);
      const kind = this.kinds.get(id);
      changes.push([id, alert && kind ? { kind, alert } : null]);
    }
    await this.set.write(changes);
    for (const id of ids) this.unrecorded.delete(id);
  }

  private startTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.ticking ??= this.serial
        .run(async () => {
          await this.record().catch((error: unknown) => this.options.log.warn({ error: (error as Error).message }, 'active-set changes not written yet; next interval tries again'));
          await this.resolveStale().catch((error: unknown) => this.options.log.warn({ error: (error as Error).message }, 'resolving stale alerts failed; next interval tries again'));
          await this.resend();
        })
        .catch((error: unknown) => this.options.log.warn({ error: (error as Error).message, active: this.active.size }, 'resending active alerts failed; next interval tries again'))
        .finally(() => (this.ticking = undefined));
    }, this.resendMs);
    this.timer.unref();
  }

  /** Applies one event to the active set; returns the alert as it must be sent now. */
  private fold(e: Exclude<SinkEvent, { kind: 'measurement' }>): PostableAlert {
    const id = e.event.id;
    const resolved = e.event.state === 'RESOLVED';
    const previous = this.active.get(id);
    const alert = e.kind === 'anomaly' ? this.anomalyAlert(e.event, previous) : this.sloAlert(e.event, previous);
    if (resolved) {
      // Ended when the event says, but never later than now: a resolution must take effect.
      alert.endsAt = new Date(Math.min(this.now(), Math.max(e.event.timestamp, Date.parse(alert.startsAt)))).toISOString();
      this.active.delete(id);
      this.kinds.delete(id);
      this.clock.forget(id);
    } else {
      alert.endsAt = new Date(this.now() + 4 * this.resendMs).toISOString();
      this.active.set(id, alert);
      this.kinds.set(id, e.kind);
      this.clock.seen(id, e.kind);
    }
    return alert;
  }

  private links(values: Record<string, string>): Record<string, string> {
    const runbook = fill(this.options.runbookUrl, values);
    const dashboard = fill(this.options.dashboardUrl, values);
    return { ...(runbook ? { runbook_url: runbook } : {}), ...(dashboard ? { dashboard_url: dashboard } : {}) };
  }

  private anomalyAlert(e: AnomalyEvent, previous: PostableAlert | undefined): PostableAlert {
    const labels = previous?.labels ?? {
      alertname: 'AiopsAnomaly',
      service: e.context.service,
      severity: e.severity,
      signal: e.signal,
      metric: e.metric,
      ...(e.context.endpoint ? { endpoint: e.context.endpoint } : {}),
    };
    const where = e.context.endpoint ? `${e.context.service} ${e.context.endpoint}` : e.context.service || e.signal;
    return {
      labels,
      annotations: {
        summary: `Anomaly in ${e.metric} of ${where}`,
        description:
          `${e.metric} was ${num(e.actual_value)} where ${num(e.expected_value)} was expected ` +
          `(interval ${num(e.lower)} to ${num(e.upper)}); score ${num(e.score)}, confidence ${num(e.confidence)}, ` +
          `detector ${e.detector}, ${e.mode} model; since ${new Date(e.started_at).toISOString()}.`,
        severity_now: e.severity,
        score: num(e.score),
        event_id: e.id,
        ...this.links({ service: e.context.service, signal: e.signal, metric: e.metric, slo: '' }),
      },
      startsAt: new Date(e.started_at).toISOString(),
      endsAt: '',
    };
  }

  private sloAlert(e: SloEvent, previous: PostableAlert | undefined): PostableAlert {
    const labels = previous?.labels ?? {
      ...e.labels,
      alertname: e.tier === 'budget' ? 'AiopsSloErrorBudgetExhausted' : 'AiopsSloBurnRate',
      service: e.service,
      severity: tierSeverity[e.tier],
      slo: e.slo,
      tier: e.tier,
    };
    const budget = `${pct(Math.max(0, e.budget_remaining))} of the error budget left${e.budget_remaining < 0 ? ` (overspent by ${pct(-e.budget_remaining)})` : ''}`;
    const exhaustion = e.projected_exhaustion === null ? '' : `; at this rate it runs out ${new Date(e.projected_exhaustion).toISOString()}`;
    const description =
      e.tier === 'budget'
        ? `The ${e.period} error budget of ${e.slo} (objective ${pct(e.objective)}) is exhausted: ${budget}.`
        : `${e.slo} (objective ${pct(e.objective)}, ${e.period}) burns its error budget at ${num(e.long_burn_rate)}x over ${duration(e.long_window_ms)} ` +
          `and ${num(e.short_burn_rate)}x over ${duration(e.short_window_ms)} (alerting at ${num(e.factor)}x): ${budget}${exhaustion}.`;
    return {
      labels,
      annotations: {
        summary: e.tier === 'budget' ? `Error budget of ${e.slo} exhausted` : `${e.slo} is burning its error budget (${e.tier})`,
        description,
        budget_remaining: num(e.budget_remaining),
        event_id: e.id,
        ...(e.description ? { slo_description: e.description } : {}),
        ...this.links({ service: e.service, slo: e.slo, signal: '', metric: '' }),
      },
      startsAt: new Date(e.started_at).toISOString(),
      endsAt: '',
    };
  }

  private async post(alerts: readonly PostableAlert[]): Promise<void> {
    if (alerts.length === 0) return;
    const response = await fetch(`${this.options.url.replace(/\/$/, '')}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeader(this.options.credentials) },
      body: JSON.stringify(alerts),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`Alertmanager answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  }
}
