import type { Logger } from '../../runtime/logger.js';
import type { AnomalyEvent } from '../../schemas/anomalies.js';
import type { SloEvent } from '../../schemas/slo.js';
import { authHeader } from '../credentials.js';
import type { Credentials } from '../credentials.js';
import type { Sink, SinkEvent } from '../runtime.js';

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
 * their own); RESOLVED sends it once more with endsAt = the event's time (now at the latest), and forgets it. Active
 * alerts are sent again every resend interval, so an Alertmanager that restarted (and lost its
 * in-memory alerts) has them back within one interval. Labels identify an alert and do not
 * change while it is active: alertname, service, severity (as the event opened) and the SLO and
 * tier, or the signal and metric.
 */
export class AlertmanagerSink implements Sink {
  readonly name = 'alertmanager';
  /** Active alerts by event id. */
  readonly active = new Map<string, PostableAlert>();
  private readonly resendMs: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private resending: Promise<void> | undefined;

  constructor(private readonly options: AlertmanagerSinkOptions) {
    this.resendMs = options.resendIntervalMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Folds what is already on the topics into the active set and sends it, then starts resending. */
  async rebuild(events: readonly SinkEvent[]): Promise<void> {
    for (const e of events) if (e.kind !== 'measurement') this.fold(e);
    this.options.log.info({ active: this.active.size }, 'active alerts rebuilt from the topics');
    await this.resend().catch((error: unknown) => this.options.log.warn({ error: (error as Error).message }, 'Alertmanager not reachable; active alerts will be resent'));
    this.startTimer();
  }

  async deliver(events: readonly SinkEvent[]): Promise<void> {
    this.startTimer();
    const changed = new Map<string, PostableAlert>();
    for (const e of events) {
      if (e.kind === 'measurement') continue;
      const alert = this.fold(e);
      changed.set(e.event.id, alert);
    }
    await this.post([...changed.values()]);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Sends every active alert again with a fresh endsAt. */
  async resend(): Promise<void> {
    if (this.active.size === 0) return;
    const endsAt = new Date(this.now() + 4 * this.resendMs).toISOString();
    for (const alert of this.active.values()) alert.endsAt = endsAt;
    await this.post([...this.active.values()]);
  }

  private startTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.resending ??= this.resend()
        .catch((error: unknown) => this.options.log.warn({ error: (error as Error).message, active: this.active.size }, 'resending active alerts failed; next interval tries again'))
        .finally(() => (this.resending = undefined));
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
    } else {
      alert.endsAt = new Date(this.now() + 4 * this.resendMs).toISOString();
      this.active.set(id, alert);
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
