import type { Attributes, Meter } from '@opentelemetry/api';
import type { AlertTier, SloSnapshot } from './engine.js';
import type { SloSpec } from './types.js';

const tiers: readonly AlertTier[] = ['page', 'ticket', 'budget'];

/** A window length as people write it: 5m, 1h, 3d. */
export function windowLabel(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

/** The SLO period as written in events: `30d rolling`, `1 month calendar Europe/Berlin`. */
export function periodLabel(spec: SloSpec): string {
  const w = spec.window;
  return w.kind === 'rolling' ? `${windowLabel(w.durationMs)} rolling` : `${w.count} ${w.unit} calendar ${w.timeZone}`;
}

/**
 * The latest figures of every SLO a process evaluates, exported as gauges: burn rate per window,
 * error ratio per window, budget remaining, events in the period, objective and alert state.
 */
export class SloBoard {
  private readonly latest = new Map<string, { spec: SloSpec; snapshot: SloSnapshot; firing: Record<AlertTier, boolean> }>();

  update(spec: SloSpec, snapshot: SloSnapshot, firing: Record<AlertTier, boolean>): void {
    const entry = this.latest.get(spec.name);
    if (entry) {
      entry.snapshot = snapshot;
      entry.firing = firing;
    } else this.latest.set(spec.name, { spec, snapshot, firing });
  }

  delete(name: string): void {
    this.latest.delete(name);
  }

  get(name: string): { snapshot: SloSnapshot; firing: Record<AlertTier, boolean> } | undefined {
    return this.latest.get(name);
  }

  /** Registers `aiops.slo.*` gauges (Prometheus: `aiops_slo_burn_rate{slo,service,window}` ...). */
  register(meter: Meter): void {
    const g = (name: string, description: string) => meter.createObservableGauge(`aiops.slo.${name}`, { description });
    const burn = g('burn_rate', 'Burn rate of the error budget over a window (1 = spending exactly the budget over the period)');
    const ratio = g('error_ratio', 'Share of bad events over a window');
    const remaining = g('budget_remaining', 'Share of the period error budget left (negative: overspent)');
    const events = g('period_events', 'Events counted in the current SLO period');
    const objective = g('objective', 'Target ratio of good events');
    const alert = g('alert', '1 while an alert tier of the SLO is firing');
    const observed = g('observed_share', 'Share of the SLO period the figures cover (a fresh start covers little; the budget alert waits for 0.1)');
    // Unix time the budget runs out at the last hour's bad-event rate; no series without a projection.
    const exhaustedAt = meter.createObservableGauge('aiops.slo.budget_exhausted_at_seconds', { description: 'When the error budget runs out at the current 1h burn rate (Unix seconds); now once overspent', unit: 's' });
    meter.addBatchObservableCallback(
      (result) => {
        for (const { spec, snapshot, firing } of this.latest.values()) {
          const base: Attributes = { slo: spec.name, service: spec.service };
          for (const w of snapshot.windows) {
            const attrs = { ...base, window: windowLabel(w.windowMs) };
            result.observe(burn, w.burnRate, attrs);
            result.observe(ratio, w.errorRatio, attrs);
          }
          result.observe(remaining, snapshot.period.budgetRemaining, base);
          result.observe(events, snapshot.period.total, base);
          result.observe(objective, spec.objective, base);
          result.observe(observed, snapshot.period.observedShare, base);
          if (snapshot.period.projectedExhaustionMs !== null) result.observe(exhaustedAt, snapshot.period.projectedExhaustionMs / 1000, base);
          for (const tier of tiers) result.observe(alert, firing[tier] ? 1 : 0, { ...base, tier });
        }
      },
      [burn, ratio, remaining, events, objective, alert, observed, exhaustedAt],
    );
  }
}

