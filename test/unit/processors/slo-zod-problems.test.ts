import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Scope } from '../../../processors/slo/model.js';
import { parseSloSources } from '../../../processors/slo/spec.js';
import { parseShape } from '../../../processors/slo/zod-problems.js';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    return (error as Error).message.split('\n').filter((l) => l.startsWith('  - '));
  }
  throw new Error('no problems reported');
}

describe('zod shapes reported as SLO problems', () => {
  it('gives one line per problem with its path, in the readers’ words', () => {
    const lines: string[] = [];
    const schema = z.object({ a: z.string(), b: z.object({ c: z.number(), d: z.array(z.boolean()) }), e: z.enum(['x', 'y']) });
    expect(parseShape(new Scope(lines, 'f.yaml#0'), schema, { b: { c: 'one', d: [true, 2] }, e: 'z' }, 'spec')).toBeUndefined();
    expect(lines).toEqual([
      '  - f.yaml#0 spec.a: is required',
      '  - f.yaml#0 spec.b.c: must be a number, got "one"',
      '  - f.yaml#0 spec.b.d[1]: must be true or false, got 2',
      '  - f.yaml#0 spec.e: must be one of x, y, got "z"',
    ]);
  });

  it("reports every problem of a Sloth AlertWindows document (shapes by zod, burn-rate floor in code)", () => {
    const sloth = { file: 's.yaml', text: 'version: prometheus/v1\nservice: api\nslos:\n  - name: r\n    objective: 99\n    sli: { events: { error_query: \'sum(rate(x_total{code=~"5.."}[{{.window}}]))\', total_query: \'sum(rate(x_total[{{.window}}]))\' } }\n' };
    const doc = (spec: string) => ({ file: 'w.yaml', text: `apiVersion: sloth.slok.dev/v1\nkind: AlertWindows\nspec:\n${spec}` });
    expect(problems(() => parseSloSources([doc('  sloPeriod: 30 days\n'), sloth]))).toEqual(['  - w.yaml#0 spec.sloPeriod: must be a duration like 5m, 1h, 28d, got "30 days"']);
    expect(problems(() => parseSloSources([doc('  sloPeriod: 30m\n'), sloth]))).toEqual(['  - w.yaml#0 spec.sloPeriod: is too short for any burn-rate alert; use at least 50m']);
    expect(problems(() => parseSloSources([doc('  page: {}\n'), sloth]))).toEqual(['  - w.yaml#0 spec.sloPeriod: is required']);
    const tiers = `  sloPeriod: 28d
  page:
    quick: { errorBudgetPercent: 120, shortWindow: 5m, longWindow: 1h }
    slow: { errorBudgetPercent: "5", shortWindow: 30m, longWindow: 7h }
`;
    expect(problems(() => parseSloSources([doc(tiers), sloth]))).toEqual([
      '  - w.yaml#0 spec.page.quick.errorBudgetPercent: must be in (0, 100], got 120',
      '  - w.yaml#0 spec.page.slow.errorBudgetPercent: must be a number, got "5"',
      '  - w.yaml#0 spec.page.slow.longWindow: must be one of the windows the engine keeps: 5m, 30m, 1h, 2h, 6h, 1d, 3d',
      '  - w.yaml#0 spec.ticket: is required',
    ]);
  });

  it('checks a native (type: aiops) source spec: unknown fields, value shapes, meanings', async () => {
    const { parseSloText } = await import('../../../processors/slo/spec.js');
    const slo = (spec: string) => `apiVersion: openslo/v1
kind: SLO
metadata: { name: n }
spec:
  service: shop
  indicator:
    metadata: { name: n }
    spec:
      ratioMetric:
        counter: true
        bad: { metricSource: { type: aiops, spec: { status: 5xx } } }
        total: { metricSource: { type: aiops, spec: ${spec} } }
  objectives: [{ target: 0.99 }]
`;
    const where = '  - o.yaml#0 spec.indicator.spec.ratioMetric.total.metricSource.spec';
    expect(parseSloText(slo('{ metric: http.server.request.duration, prometheusHistogram: classic }'), 'o.yaml')[0]?.sli).toMatchObject({ metric: 'http.server.request.duration', selector: { 'service.name': ['shop'] } });
    expect(problems(() => parseSloText(slo('{ selctor: {}, le: -1, selector: { http.route: [], http.request.method: { a: 1 }, http.response.status_code: "500" }, status: "6.." }'), 'o.yaml'))).toEqual([
      `${where}.selctor: unknown field (known: metric, selector, status, le, prometheusHistogram)`,
      `${where}.selector.http.route: must be a string or a non-empty list of strings, got []`,
      `${where}.selector.http.request.method: must be a string or a non-empty list of strings, got {"a":1}`,
      `${where}.le: must be > 0, got -1`,
    ]);
    expect(problems(() => parseSloText(slo('{ selector: { http.response.status_code: "500" }, status: "6.." }'), 'o.yaml'))[0]).toBe(
      `${where}.selector.http.response.status_code: select status codes with status, not in the selector`,
    );
  });
});
