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
      const has = query === 'count(http_requests_total{job="api"})';
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
    expect(asked).toEqual(['count(http_requests_total{job="api"})', 'count(http_requests_total{job="api",code=~"5.."})']);
  });
});
