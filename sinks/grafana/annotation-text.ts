import type { AnomalyEvent } from '../../schemas/anomalies.js';
import type { SloEvent } from '../../schemas/slo.js';
import type { SinkEvent } from '../runtime.js';
import { span } from '../staleness.js';

/** An alerting event (anomaly or SLO) as the Grafana sink annotates it. */
export type EventOf = Exclude<SinkEvent, { kind: 'measurement' }>;

const tierSeverity: Readonly<Record<SloEvent['tier'], string>> = { page: 'critical', ticket: 'warning', budget: 'critical' };

/** Longest value part of a `key:value` tag Grafana stores. */
const TAG_VALUE_MAX = 100;

function tag(key: string, value: string): string {
  return `${key}:${value.slice(0, TAG_VALUE_MAX)}`;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(x * 100 >= 10 ? 1 : 3).replace(/\.?0+$/, '')}%`;
}

function num(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(4))) : 'n/a';
}

function windowLength(ms: number): string {
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms / 60_000}m`;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function where(e: AnomalyEvent): string {
  return e.context.endpoint ? `${e.context.service} ${e.context.endpoint}` : e.context.service || e.signal;
}

function budgetLeft(e: SloEvent): string {
  return `${pct(Math.max(0, e.budget_remaining))} of the error budget left${e.budget_remaining < 0 ? ` (overspent by ${pct(-e.budget_remaining)})` : ''}`;
}

/**
 * Tags of an event's annotation. Anomalies: `aiops`, `anomaly`, `service:<service>` and
 * `endpoint:<endpoint>` (when known), `metric:<metric>`, `severity:<info|warning|critical>`.
 * SLO alerts: `aiops`, `slo`, `service:<service>`, `slo:<name>`, `tier:<page|ticket|budget>`,
 * `severity:<critical|warning>` (page and budget are critical, ticket is warning, as in the
 * Alertmanager sink).
 */
export function annotationTags(e: EventOf): string[] {
  if (e.kind === 'anomaly') {
    const a = e.event;
    return [
      'aiops',
      'anomaly',
      ...(a.context.service ? [tag('service', a.context.service)] : []),
      ...(a.context.endpoint ? [tag('endpoint', a.context.endpoint)] : []),
      tag('metric', a.metric),
      tag('severity', a.severity),
    ];
  }
  const s = e.event;
  return ['aiops', 'slo', ...(s.service ? [tag('service', s.service)] : []), tag('slo', s.slo), tag('tier', s.tier), tag('severity', tierSeverity[s.tier])];
}

/** The summary an annotation opens with: what is wrong, with the numbers. */
export function openingText(e: EventOf): string {
  if (e.kind === 'anomaly') {
    const a = e.event;
    return (
      `Anomaly in ${a.metric} of ${where(a)} (${a.severity}): ${num(a.actual_value)} where ${num(a.expected_value)} was expected ` +
      `(interval ${num(a.lower)} to ${num(a.upper)}); score ${num(a.score)}, confidence ${num(a.confidence)}, ${a.detector} detector, ${a.mode} model.`
    );
  }
  const s = e.event;
  if (s.tier === 'budget') return `Error budget of ${s.slo} exhausted: the ${s.period} budget (objective ${pct(s.objective)}) has ${budgetLeft(s)}.`;
  const exhaustion = s.projected_exhaustion === null ? '' : `; at this rate it runs out ${iso(s.projected_exhaustion)}`;
  return (
    `${s.slo} burns its error budget (${s.tier}): ${num(s.long_burn_rate)}x over ${windowLength(s.long_window_ms)} and ${num(s.short_burn_rate)}x over ` +
    `${windowLength(s.short_window_ms)} (alerting at ${num(s.factor)}x; objective ${pct(s.objective)}, ${s.period}); ${budgetLeft(s)}${exhaustion}.`
  );
}

/**
 * The final text of a region: the opening summary (as sent when it opened, or, when the sink never
 * saw it open, one built from the resolution) and a line on how it ended.
 */
export function resolvedText(e: EventOf, opening: string | undefined): string {
  const ended = `Resolved ${iso(e.event.timestamp)} after ${span(e.event.timestamp - e.event.started_at)}`;
  if (e.kind === 'anomaly') {
    const a = e.event;
    const first = opening ?? `Anomaly in ${a.metric} of ${where(a)} since ${iso(a.started_at)}.`;
    return `${first}\n${ended}: ${a.metric} at ${num(a.actual_value)}, ${num(a.expected_value)} expected.`;
  }
  const s = e.event;
  const first = opening ?? (s.tier === 'budget' ? `Error budget of ${s.slo} exhausted since ${iso(s.started_at)}.` : `${s.slo} burned its error budget (${s.tier}) since ${iso(s.started_at)}.`);
  return `${first}\n${ended}: ${num(s.long_burn_rate)}x over ${windowLength(s.long_window_ms)}, ${num(s.short_burn_rate)}x over ${windowLength(s.short_window_ms)}; ${budgetLeft(s)}.`;
}

