import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** The service-account token the fake Grafana accepts. */
export const TOKEN = 'test-token';

export interface StoredAnnotation {
  id: number;
  dashboardUID?: string;
  panelId?: number;
  time: number;
  timeEnd?: number;
  tags: string[];
  text: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: unknown;
  status: number;
}

type Json = Record<string, unknown>;

const isMs = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 1e12;
const isTags = (v: unknown): v is string[] => Array.isArray(v) && v.every((t) => typeof t === 'string');

/**
 * Grafana's annotation endpoints as documented (Annotations HTTP API: POST /api/annotations,
 * PATCH /api/annotations/:id, GET /api/annotations with `tags` (repeated: all must match; with
 * `matchAny=true` one), `type`, `from`/`to` (epoch ms, overlapping the annotation's span),
 * `dashboardUID` and `limit` (default 100), answering an array newest first, `timeEnd` equal
 * to `time` for a point; Authorization: Bearer <service account token>; JSON bodies), and
 * nothing else. Anything off the contract is refused the way Grafana refuses it: an unknown route
 * 404, no or wrong credentials 401, a body that is not JSON 415/400, a PATCH of an unknown id 404.
 * Stricter than Grafana where a mistake would otherwise pass silently: `time` and `tags` are
 * required on POST, times must be epoch milliseconds, and unknown fields (say `dashboardUid`,
 * which Grafana ignores) are refused. Annotations survive a stop and start of the server.
 */
export class FakeGrafana {
  readonly annotations = new Map<number, StoredAnnotation>();
  readonly requests: RecordedRequest[] = [];
  /** POSTs whose text contains this are refused with 400, as Grafana refuses a bad annotation. */
  rejectText: string | undefined;
  /**
   * Called after an annotation was created and before the answer is sent (the answer waits for
   * it): a test can end the client in the window between Grafana's create and its answer.
   */
  afterCreate: ((annotation: StoredAnnotation) => Promise<void>) | undefined;
  port = 0;
  private nextId = 1;
  private server: Server | undefined;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** Successful requests of one method. */
  ok(method: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.status === 200);
  }

  withTag(tag: string): StoredAnnotation[] {
    return [...this.annotations.values()].filter((a) => a.tags.includes(tag));
  }

  /** The annotations with a tag, or undefined while there are none (for `eventually`). */
  async tagged(tag: string): Promise<StoredAnnotation[] | undefined> {
    const list = this.withTag(tag);
    return list.length > 0 ? list : undefined;
  }

  /** `GET /api/annotations`: the stored annotations that match the query, newest first. */
  private find(query: URLSearchParams, res: ServerResponse, record: RecordedRequest): void {
    const tags = query.getAll('tags');
    const matchAny = query.get('matchAny') === 'true';
    const from = Number(query.get('from') ?? 0);
    const to = Number(query.get('to') ?? 0);
    const limit = Number(query.get('limit') ?? 100);
    const type = query.get('type');
    const dashboardUID = query.get('dashboardUID');
    const respond = (status: number, body: unknown): void => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (!Number.isFinite(from) || !Number.isFinite(to) || !(Number.isInteger(limit) && limit > 0)) return respond(400, { message: 'bad request data' });
    if (type !== null && type !== 'annotation' && type !== 'alert') return respond(400, { message: 'bad request data' });
    // Every annotation here is a user annotation (alertId 0): `type=alert` finds none.
    const found = (type === 'alert' ? [] : [...this.annotations.values()])
      .filter((a) => tags.length === 0 || (matchAny ? tags.some((t) => a.tags.includes(t)) : tags.every((t) => a.tags.includes(t))))
      .filter((a) => !(from > 0 && to > 0) || (a.time <= to && (a.timeEnd ?? a.time) >= from))
      .filter((a) => dashboardUID === null || a.dashboardUID === dashboardUID)
      .sort((a, b) => b.time - a.time || b.id - a.id)
      .slice(0, limit)
      .map((a) => ({ id: a.id, alertId: 0, dashboardUID: a.dashboardUID ?? '', panelId: a.panelId ?? 0, time: a.time, timeEnd: a.timeEnd ?? a.time, tags: a.tags, text: a.text, data: {} }));
    return respond(200, found);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const record: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        body: undefined,
        status: 0,
      };
      this.requests.push(record);
      const answer = (status: number, body: Json): void => {
        record.status = status;
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      const [pathname, search] = record.path.split('?') as [string, string | undefined];
      if (record.method === 'GET' && pathname === '/api/annotations') {
        if (record.authorization !== `Bearer ${TOKEN}`) return answer(401, { message: 'Unauthorized' });
        return this.find(new URLSearchParams(search ?? ''), res, record);
      }
      const patchId = /^\/api\/annotations\/(\d+)$/.exec(record.path)?.[1];
      const route = record.method === 'POST' && record.path === '/api/annotations' ? 'create' : record.method === 'PATCH' && patchId !== undefined ? 'patch' : undefined;
      if (!route) return answer(404, { message: 'Not found' });
      if (record.authorization !== `Bearer ${TOKEN}`) return answer(401, { message: 'Unauthorized' });
      if (!/^application\/json(\s*;|$)/i.test(record.contentType ?? '')) return answer(415, { message: 'Unsupported Media Type: expected application/json' });
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        return answer(400, { message: 'bad request data' });
      }
      record.body = body;
      if (!body || typeof body !== 'object' || Array.isArray(body)) return answer(400, { message: 'bad request data' });
      const b = body as Json;
      if (route === 'create') {
        const unknown = Object.keys(b).filter((k) => !['dashboardUID', 'dashboardId', 'panelId', 'time', 'timeEnd', 'tags', 'text'].includes(k));
        if (unknown.length > 0) return answer(400, { message: `unknown fields: ${unknown.join(', ')}` });
        if (typeof b.text !== 'string' || b.text === '') return answer(400, { message: 'Failed to save annotation' });
        if (!isMs(b.time)) return answer(400, { message: 'time must be epoch milliseconds' });
        if (!isTags(b.tags)) return answer(400, { message: 'tags must be an array of strings' });
        if (b.timeEnd !== undefined && (!isMs(b.timeEnd) || b.timeEnd < b.time)) return answer(400, { message: 'timeEnd must be epoch milliseconds, not before time' });
        if (b.dashboardUID !== undefined && (typeof b.dashboardUID !== 'string' || b.dashboardUID === '')) return answer(400, { message: 'dashboardUID must be a string' });
        if (b.panelId !== undefined && !Number.isInteger(b.panelId)) return answer(400, { message: 'panelId must be a number' });
        if (this.rejectText && b.text.includes(this.rejectText)) return answer(400, { message: 'Failed to save annotation' });
        const id = this.nextId++;
        this.annotations.set(id, {
          id,
          time: b.time,
          tags: b.tags,
          text: b.text,
          ...(typeof b.timeEnd === 'number' ? { timeEnd: b.timeEnd } : {}),
          ...(typeof b.dashboardUID === 'string' ? { dashboardUID: b.dashboardUID } : {}),
          ...(typeof b.panelId === 'number' ? { panelId: b.panelId } : {}),
        });
        const created = this.annotations.get(id) as StoredAnnotation;
        if (this.afterCreate) {
          void this.afterCreate(created).finally(() => answer(200, { message: 'Annotation added', id }));
          return;
        }
        return answer(200, { message: 'Annotation added', id });
      }
      const unknown = Object.keys(b).filter((k) => !['time', 'timeEnd', 'text', 'tags'].includes(k));
      if (unknown.length > 0) return answer(400, { message: `unknown fields: ${unknown.join(', ')}` });
      if (Object.keys(b).length === 0) return answer(400, { message: 'nothing to patch' });
      if (b.text !== undefined && typeof b.text !== 'string') return answer(400, { message: 'bad request data' });
      if (b.tags !== undefined && !isTags(b.tags)) return answer(400, { message: 'bad request data' });
      if ((b.time !== undefined && !isMs(b.time)) || (b.timeEnd !== undefined && !isMs(b.timeEnd))) return answer(400, { message: 'bad request data' });
      const existing = this.annotations.get(Number(patchId));
      if (!existing) return answer(404, { message: 'Could not find annotation to update' });
      // Grafana's PATCH: a given field replaces the stored one; an empty text or zero time leaves it.
      const next: StoredAnnotation = { ...existing };
      if (isTags(b.tags)) next.tags = b.tags;
      if (typeof b.text === 'string' && b.text !== '') next.text = b.text;
      if (isMs(b.time)) next.time = b.time;
      if (isMs(b.timeEnd)) next.timeEnd = b.timeEnd;
      if (next.timeEnd !== undefined && next.timeEnd < next.time) return answer(400, { message: 'timeEnd before time' });
      this.annotations.set(existing.id, next);
      return answer(200, { message: 'Annotation patched' });
    });
  }
}
