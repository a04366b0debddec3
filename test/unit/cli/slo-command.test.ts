import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingSeries } from '../../../cli/slo-command.js';
import { parseSloText } from '../../../processors/slo/spec.js';

describe('aiops slo check --prometheus', () => {
  let server: Server;
  let url = '';
  const asked: string[] = [];
  beforeAll(async () => {
    // A Prometheus that has http_requests_total{job="api"} and nothing else.
    server = createServer((req, res) => {
      const query = new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '';
      asked.push(query);
      // ... and an OTel SDK histogram whose status label is http_response_status_code.
      const has = ['count(http_requests_total{job="api"})', 'count(http_server_request_duration_seconds_count{http_response_status_code!=""})'].includes(query);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: has ? [{ metric: {}, value: [0, '3'] }] : [] } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('asks for each series the spec queries, as written, and names those Prometheus lacks', async () => {
    const specs = parseSloText(
      `version: prometheus/v1
service: api
slos:
  - name: requests
    objective: 99
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="api",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="api"}[{{.window}}]))
`,
      'a.yaml',
    );
    expect(await missingSeries(url, specs)).toEqual([{ slo: 'api-requests', series: 'http_requests_total{job="api",code=~"5.."}' }]);
    expect(asked.slice(0, 2)).toEqual(['count(http_requests_total{job="api"})', 'count(http_requests_total{job="api",code=~"5.."})']);
  });

  it('warns when a matcher names a label no series of the metric has while a known alias does (code on an OTel SDK metric)', async () => {
    const specs = parseSloText(
      `version: prometheus/v1
service: shop
slos:
  - name: requests
    objective: 99
    sli:
      events:
        error_query: sum(rate(http_server_request_duration_seconds_count{job="shop",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_server_request_duration_seconds_count{job="shop"}[{{.window}}]))
`,
      'b.yaml',
    );
    const missing = await missingSeries(url, specs);
    const bad = missing.find((m) => m.series.includes('code=~'));
    expect(bad?.hint).toBe(
      'no series of http_server_request_duration_seconds_count has the label code, but some have http_response_status_code: write http_response_status_code=~"5.." (the label code means the attribute code, docs/slo.md)',
    );
    // The total is missing too (no job="shop" here), but its labels have no alias to suggest.
    expect(missing.find((m) => !m.series.includes('code=~'))?.hint).toBeUndefined();
  });
});
