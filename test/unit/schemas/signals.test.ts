import { describe, expect, it } from 'vitest';
import { signalSerde } from '../../../schemas/index.js';
import type { SignalRecord } from '../../../schemas/index.js';

describe('aiops.signals.v1 schema', () => {
  it('round-trips a partial aggregate', () => {
    const record: SignalRecord = {
      kind: 'PARTIAL',
      sourcePartition: 3,
      watermarkMs: 1_700_000_060_000,
      idle: false,
      signal: 'http|checkout|/api/users',
      rule: 'http',
      dimensions: { 'service.name': 'checkout', 'http.route': '/api/users' },
      bucketStartMs: 1_700_000_000_000,
      bucketMs: 10_000,
      count: 120,
      errors: 3,
      statusClasses: [0, 117, 0, 0, 3, 0],
      sum: 4.2,
      min: Number.NaN,
      max: Number.NaN,
      bounds: [0.1, 0.5],
      bucketCounts: [100, 15, 5],
      series: 2,
    };
    const back = signalSerde.deserialize(signalSerde.serialize(record));
    expect(back).toEqual(record);
  });
});
