import type { AttributeSet, MetricInfo } from '../../runtime/otlp/visitor.js';
import { MetricType } from '../../runtime/otlp/visitor.js';
import { prometheusMetricName } from '../slo/names.js';
import type { OtlpKind } from '../slo/names.js';
import type { AttributeMatch, SignalRule } from './config.js';
import { statusClassOf } from './signal-keys.js';

/** The rules an OTLP metric feeds and the metric's id in series keys. */
export interface MetricRules {
  readonly rules: readonly number[];
  readonly id: number;
}

interface SlotTest {
  readonly slot: number;
  readonly test: (value: string) => boolean;
}

const NONE: MetricRules = Object.freeze({ rules: [], id: 0 });

/**
 * The signal rules compiled for the decoder's visit: which rules a metric feeds (by OTLP name, or
 * by the Prometheus name the collector would give it), and per rule its filter, matchers and
 * bad-when test over attribute slots. Everything here is per metric or per point without
 * allocation once a metric has been seen.
 */
export class RuleIndex {
  /** Attribute name → slot the decoder extracts it into. */
  readonly extractSlot = new Map<string, number>();
  readonly extractKeys: readonly string[];
  /** OTLP metric name → its rules (rules matching by OTLP name only). */
  private readonly byMetric = new Map<string, MetricRules>();
  /** Prometheus name → indexes of the rules matching metrics by it. */
  private readonly byPromName = new Map<string, number[]>();
  private readonly promIds = new Map<string, number>();
  /** OTLP metric (name, unit, kind) → the rules it feeds, NONE when none. */
  private readonly cache = new Map<string, MetricRules>();
  private readonly filters: ({ slots: number[]; values: Set<string>[] } | undefined)[] = [];
  private readonly matchers: SlotTest[][] = [];
  private readonly badWhen: (SlotTest | undefined)[] = [];

  constructor(private readonly rules: readonly SignalRule[]) {
    const byMetric = new Map<string, number[]>();
    for (const [i, rule] of rules.entries()) {
      const byName = rule.prometheusName === undefined ? byMetric : this.byPromName;
      const key = rule.prometheusName ?? rule.metric;
      byName.set(key, [...(byName.get(key) ?? []), i]);
      const filterKeys = Object.keys(rule.filter ?? {});
      const matchKeys = [...(rule.matchers ?? []), ...(rule.badWhen ? [rule.badWhen] : [])].map((m) => m.attribute);
      for (const name of [...rule.groupBy, rule.statusAttribute, ...filterKeys, ...matchKeys]) if (!this.extractSlot.has(name)) this.extractSlot.set(name, this.extractSlot.size);
      this.matchers.push((rule.matchers ?? []).map((m) => ({ slot: this.slot(m.attribute), test: matchTest(m) })));
      this.badWhen.push(rule.badWhen ? { slot: this.slot(rule.badWhen.attribute), test: matchTest(rule.badWhen) } : undefined);
      this.filters.push(filterKeys.length === 0 ? undefined : { slots: filterKeys.map((k) => this.slot(k)), values: filterKeys.map((k) => new Set(rule.filter?.[k] ?? [])) });
    }
    // Ids follow the configuration, not the order metrics happen to arrive in: series keys
    // derived from them must be the same after a restart.
    let id = 0;
    for (const [name, list] of byMetric) this.byMetric.set(name, { rules: list, id: ++id });
    for (const name of this.byPromName.keys()) this.promIds.set(name, ++id);
    this.extractKeys = [...this.extractSlot.keys()];
  }

  private slot(attribute: string): number {
    return this.extractSlot.get(attribute) as number;
  }

  /** The rules a metric feeds (empty when none). */
  lookup(metric: MetricInfo): MetricRules {
    const direct = this.byMetric.get(metric.name);
    if (this.byPromName.size === 0) return direct ?? NONE;
    const cacheKey = `${metric.type}|${metric.monotonic ? 1 : 0}|${metric.unit}|${metric.name}`;
    let hit = this.cache.get(cacheKey);
    if (!hit) {
      const promName = prometheusMetricName(metric.name, metric.unit, otlpKind(metric));
      const byProm = this.byPromName.get(promName) ?? [];
      const rules = [...(direct?.rules ?? []), ...byProm];
      hit = rules.length === 0 ? NONE : { rules, id: direct ? direct.id : byProm.length > 0 ? (this.promIds.get(promName) as number) : 0 };
      if (this.cache.size < 10_000) this.cache.set(cacheKey, hit);
    }
    return hit;
  }

  /** Whether a point's attributes (or its resource's) pass the rule's filter and matchers. */
  accepts(ruleIndex: number, attrs: AttributeSet, resource: AttributeSet): boolean {
    const filter = this.filters[ruleIndex];
    if (filter) {
      for (let i = 0; i < filter.slots.length; i++) {
        const slot = filter.slots[i] as number;
        const value = attrs.value(slot) ?? resource.value(slot);
        if (value === undefined || !(filter.values[i] as Set<string>).has(value)) return false;
      }
    }
    for (const m of this.matchers[ruleIndex] as SlotTest[]) if (!m.test(attrs.value(m.slot) ?? resource.value(m.slot) ?? '')) return false;
    return true;
  }

  /** The signal's dimensions of a new series: the rule's group-by attributes ('' when missing). */
  dimensions(ruleIndex: number, attrs: AttributeSet, resource: AttributeSet): Record<string, string> {
    const dims: Record<string, string> = {};
    for (const name of (this.rules[ruleIndex] as SignalRule).groupBy) {
      const slot = this.slot(name);
      dims[name] = attrs.value(slot) ?? resource.value(slot) ?? '';
    }
    return dims;
  }

  /**
   * The status class index of a new series: by the rule's bad-when matcher (an error, class 5xx
   * index 4, or not, 2xx index 1), else by its status attribute.
   */
  statusClass(ruleIndex: number, attrs: AttributeSet, resource: AttributeSet): number {
    const bad = this.badWhen[ruleIndex];
    if (bad) return bad.test(attrs.value(bad.slot) ?? resource.value(bad.slot) ?? '') ? 4 : 1;
    return statusClassOf(attrs.value(this.slot((this.rules[ruleIndex] as SignalRule).statusAttribute)));
  }
}

/** A PromQL matcher as a test of an attribute value ('' when missing); regexes anchored. */
function matchTest(m: AttributeMatch): (value: string) => boolean {
  if (m.op === '=') return (v) => v === m.value;
  if (m.op === '!=') return (v) => v !== m.value;
  const re = new RegExp(`^(?:${m.value})$`);
  return m.op === '=~' ? (v) => re.test(v) : (v) => !re.test(v);
}

/** The naming kind of an OTLP metric. */
function otlpKind(metric: MetricInfo): OtlpKind {
  switch (metric.type) {
    case MetricType.SUM:
      return metric.monotonic ? 'monotonicSum' : 'sum';
    case MetricType.HISTOGRAM:
      return 'histogram';
    case MetricType.EXPONENTIAL_HISTOGRAM:
      return 'exponentialHistogram';
    case MetricType.SUMMARY:
      return 'summary';
    default:
      return 'gauge';
  }
}
