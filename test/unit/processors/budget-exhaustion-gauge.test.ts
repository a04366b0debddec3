import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { SloSnapshot } from '../../../processors/slo/engine-stats.js';
import { SloBoard } from '../../../processors/slo/slo-stage.js';
import { parseSloFiles } from '../../../processors/slo/spec.js';

class PullReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const [spec] = parseSloFiles([new URL('../../fixtures/slo/checkout-availability.openslo.yaml', import.meta.url).pathname]);
const off = { page: false, ticket: false, budget: false };

async function exhaustionPoints(board: SloBoard): Promise<{ value: number; attributes: Record<string, unknown> }[]> {
  const reader = new PullReader();
  const provider = new MeterProvider({ readers: [reader] });
  board.register(provider.getMeter('test'));
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === 'aiops.slo.budget_exhausted_at_seconds');
  return (metric?.dataPoints ?? []).map((p) => ({ value: p.value as number, attributes: p.attributes }));
}

describe('the SLO board\'s projected budget exhaustion gauge', () => {
  it('exports the projection as Unix seconds, labelled with the SLO and its service', async () => {
    if (!spec) throw new Error('no SLO in the fixture');
    const snapshot = new SloSnapshot();
    snapshot.period.projectedExhaustionMs = Date.UTC(2026, 11, 5, 12, 30);
    const board = new SloBoard();
    board.update(spec, snapshot, off);
    expect(await exhaustionPoints(board)).toEqual([{ value: Date.UTC(2026, 11, 5, 12, 30) / 1000, attributes: { slo: spec.name, service: spec.service } }]);
  });

  it('has no series while there is no projection (no bad event in the last hour)', async () => {
    if (!spec) throw new Error('no SLO in the fixture');
    const board = new SloBoard();
    board.update(spec, new SloSnapshot(), off);
    expect(await exhaustionPoints(board)).toEqual([]);
  });
});
