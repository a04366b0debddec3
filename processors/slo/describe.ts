/**
 * What an SLO reads, in words: the OTLP metric and attributes the stream matches, and the
 * Prometheus series the exported rules query (`aiops slo check`).
 */
import { prometheusSeries } from './names.js';
import type { SloSpec } from './types.js';

function matchers(spec: SloSpec): string[] {
  const sli = spec.sli;
  const out: string[] = [];
  for (const [attribute, values] of Object.entries(sli.selector)) out.push(values.length === 1 ? `${attribute}="${values[0]}"` : `${attribute} in (${values.join(', ')})`);
  for (const m of sli.matchers ?? []) out.push(`${m.attribute}${m.op}${JSON.stringify(m.value)}`);
  return out;
}

/** Lines saying which OTLP metric and attributes an SLO's SLI reads. */
export function describeSli(spec: SloSpec): string[] {
  const sli = spec.sli;
  const lines: string[] = [];
  if (sli.prometheusName !== undefined) {
    const name = sli.prometheusName;
    const counter = prometheusSeries(name).part === 'total';
    lines.push(
      `reads the OTLP ${counter ? 'monotonic sum' : 'histogram'} the collector's Prometheus translation names ${name}: ` +
        `${name} scraped by the collector's prometheus receiver, or e.g. ${sli.metric} (with its unit) from an OpenTelemetry SDK`,
    );
  } else {
    lines.push(`reads the OTLP metric ${sli.metric}`);
  }
  const m = matchers(spec);
  lines.push(`attributes: ${m.length === 0 ? 'every point' : m.join(', ')}`);
  if (sli.kind === 'availability') {
    lines.push(
      sli.badMatcher
        ? `bad: ${sli.badMatcher.attribute}${sli.badMatcher.op}${JSON.stringify(sli.badMatcher.value)}`
        : `bad: status classes ${sli.badClasses.map((c) => (c === 5 ? 'unknown' : `${c + 1}xx`)).join(', ')} of ${sli.statusAttribute}`,
    );
  } else {
    lines.push(`good: at most ${sli.thresholdSeconds} s (histogram buckets)`);
  }
  if (sli.prom) lines.push(`Prometheus: ${[sli.prom.total, sli.prom.bad, sli.prom.good].filter((q) => q !== undefined).join(' ; ')}`);
  return lines;
}

/** The series selectors of an SLO's exported rules, as written (none for native sources). */
export function promSeries(spec: SloSpec): string[] {
  const p = spec.sli.prom;
  return p ? [p.total, p.bad, p.good].filter((q): q is string => q !== undefined) : [];
}
