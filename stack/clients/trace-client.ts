/** A span as the Jaeger query API returns it (the fields the platform reads). */
export interface TraceSpan {
  readonly traceID: string;
  readonly spanID: string;
  readonly operationName: string;
  readonly processID: string;
  readonly tags: readonly { key: string; type: string; value: unknown }[];
  readonly references: readonly { refType: string; traceID: string; spanID: string }[];
  readonly logs?: readonly { timestamp: number; fields: readonly { key: string; value: unknown }[] }[];
}

export interface Trace {
  readonly traceID: string;
  readonly spans: readonly TraceSpan[];
  readonly processes: Readonly<Record<string, { serviceName: string; tags: readonly { key: string; value: unknown }[] }>>;
}

/** Fetches one trace by id from the Jaeger query API (`GET /api/traces/{id}`); undefined if not (yet) stored. */
export async function getTrace(baseUrl: string, traceId: string): Promise<Trace | undefined> {
  const response = await fetch(new URL(`/api/traces/${traceId}`, baseUrl), { signal: AbortSignal.timeout(10_000) });
  if (response.status === 404) {
    await response.arrayBuffer();
    return undefined;
  }
  if (!response.ok) throw new Error(`trace query ${traceId}: HTTP ${response.status}`);
  const body = (await response.json()) as { data?: Trace[] };
  return body.data?.[0];
}

/** Services the trace store has seen (`GET /api/services`). */
export async function getServices(baseUrl: string): Promise<string[]> {
  const response = await fetch(new URL('/api/services', baseUrl), { signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as { data: string[] | null };
  return body.data ?? [];
}

/** Recent traces of a service (`GET /api/traces?service=...`). */
export async function findTraces(baseUrl: string, service: string, limit = 20): Promise<Trace[]> {
  const url = new URL('/api/traces', baseUrl);
  url.searchParams.set('service', service);
  url.searchParams.set('limit', String(limit));
  url.searchParams.set('lookback', '1h');
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as { data: Trace[] | null };
  return body.data ?? [];
}
