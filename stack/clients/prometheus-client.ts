/** One sample of an instant-query vector result. */
export interface PromSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: number;
  readonly timestamp: number;
}

interface PromResponse {
  status: 'success' | 'error';
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
  errorType?: string;
  error?: string;
}

/** Runs an instant query through Prometheus' HTTP API (`GET /api/v1/query`). */
export async function promQuery(baseUrl: string, expr: string, time?: number): Promise<PromSample[]> {
  const url = new URL('/api/v1/query', baseUrl);
  url.searchParams.set('query', expr);
  if (time !== undefined) url.searchParams.set('time', String(time));
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as PromResponse;
  if (body.status !== 'success' || !body.data) throw new Error(`Prometheus query ${expr} failed: ${body.errorType}: ${body.error}`);
  if (body.data.resultType !== 'vector') throw new Error(`Prometheus query ${expr}: expected a vector, got ${body.data.resultType}`);
  return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]), timestamp: r.value[0] }));
}

/** The active and dropped targets Prometheus scrapes (`GET /api/v1/targets`). */
export async function promTargets(baseUrl: string): Promise<{ job: string; health: string; scrapeUrl: string; lastError: string }[]> {
  const response = await fetch(new URL('/api/v1/targets', baseUrl), { signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as { data: { activeTargets: { labels: Record<string, string>; health: string; scrapeUrl: string; lastError: string }[] } };
  return body.data.activeTargets.map((t) => ({ job: t.labels.job ?? '', health: t.health, scrapeUrl: t.scrapeUrl, lastError: t.lastError }));
}
