import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sloEventId, sloEventSerde, sloTopic } from '../../../schemas/index.js';
import type { SloEvent } from '../../../schemas/index.js';

function event(overrides: Partial<SloEvent> = {}): SloEvent {
  return {
    id: sloEventId('checkout-availability', 'page', 1_700_000_052_000),
    timestamp: 1_700_000_052_000, slo: 'checkout-availability', service: 'checkout', description: '99.9% of requests succeed', sli: 'availability',
    objective: 0.999, period: '30d rolling', period_ms: 30 * 86_400_000, tier: 'page', state: 'FIRING', long_window_ms: 3_600_000, short_window_ms: 300_000,
    factor: 14.4, long_burn_rate: 14.44, short_burn_rate: 1000, budget_remaining: 0.97, projected_exhaustion: 1_700_180_000_000, started_at: 1_700_000_052_000,
    labels: { team: 'payments' }, observed_share: 0.5, ...overrides,
  };
}

describe('aiops.slo.v1 schema', () => {
  it('round-trips an event, with and without a projected exhaustion', () => {
    for (const e of [event(), event({ state: 'RESOLVED', projected_exhaustion: null, tier: 'budget', long_window_ms: 0, short_window_ms: 0, factor: 0 })]) {
      expect(sloEventSerde.deserialize(sloEventSerde.serialize(e))).toEqual(e);
    }
    expect(sloTopic).toBe('aiops.slo.v1');
  });

  it('writes observed_share 1 (the schema default) when it is not given', () => {
    const e: SloEvent = { ...event() };
    delete e.observed_share;
    expect(sloEventSerde.deserialize(sloEventSerde.serialize(e)).observed_share).toBe(1);
  });

  it('derives one id per alert from its content', () => {
    const a = sloEventId('s', 'page', 1000);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(sloEventId('s', 'page', 1000)).toBe(a);
    expect(sloEventId('s', 'ticket', 1000)).not.toBe(a);
    expect(sloEventId('s', 'page', 1001)).not.toBe(a);
  });

  it('documents every field in the schema and in docs/events.md', () => {
    const avsc = JSON.parse(readFileSync(new URL('../../../schemas/slo.v1.avsc', import.meta.url), 'utf8')) as { fields: { name: string; doc?: string }[] };
    const doc = readFileSync(new URL('../../../docs/events.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## aiops.slo.v1'));
    expect(avsc.fields.map((f) => f.name)).toEqual(Object.keys(event()));
    for (const f of avsc.fields) {
      expect(f.doc, f.name).toBeTruthy();
      expect(section, f.name).toContain(`\`${f.name}\``);
    }
  });
});
