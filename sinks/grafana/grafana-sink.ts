import kafkajs from 'kafkajs';
import type { Kafka, Producer } from 'kafkajs';
import { aiopsError } from '../../runtime/errors.js';
import { kafkaConnectionFromEnv } from '../../runtime/kafka-config.js';
import type { Logger } from '../../runtime/logger.js';
import { readToEnd } from '../../runtime/read-to-end.js';
import { compressionFromEnv } from '../../runtime/kafka-codecs.js';
import { retryKafka } from '../../runtime/retry.js';
import { processKafka } from '../../runtime/runner.js';
import type { AnomalyEvent } from '../../schemas/anomalies.js';
import type { SloEvent } from '../../schemas/slo.js';
import { authHeader, Credentials } from '../credentials.js';
import type { Sink, SinkEvent } from '../runtime.js';

const { ConfigResourceTypes } = kafkajs;

/*
 * Grafana's Annotations HTTP API, as this sink relies on it (Grafana docs "Annotations HTTP API",
 * https://grafana.com/docs/grafana/latest/developers/http_api/annotations/ and the same page in the
 * grafana/grafana repository, docs/sources/developers/http_api/annotations.md; handlers in
 * pkg/api/annotations.go):
 * - `POST /api/annotations` takes JSON `{ dashboardUID?, panelId?, time, timeEnd?, tags, text }`;
 *   only `text` is required (an empty one is refused with 400). `time` and `timeEnd` are epoch
 *   milliseconds; a `timeEnd` makes it a region. Without dashboardUID/panelId the annotation is an
 *   organization annotation, shown on any dashboard whose annotation query filters by its tags.
 *   The answer is `{ "message": "Annotation added", "id": <number> }`.
 * - `PATCH /api/annotations/:id` changes only what it is given, of `text`, `tags`, `time` and
 *   `timeEnd` (an empty text or a zero time leaves the stored one); the answer is
 *   `{ "message": "Annotation patched" }`. An id Grafana does not know is a 404 ("Annotation not
 *   found", "Could not find annotation to update" in older releases; releases before 7 answered 500
 *   with the latter message, which is read as a 404 here).
 * - Errors come as JSON `{ "message": ... }`: 400 for a body it cannot bind, 401 without valid
 *   credentials, 403 without the annotations:create/write permission.
 * - Authentication (Grafana docs "Authentication options for the HTTP API"): a service-account
 *   token as `Authorization: Bearer <token>`, or basic auth when enabled. Bodies are sent as
 *   `Content-Type: application/json`.
 * - Tags of the form `key:value` are stored as a key and a value of at most 100 characters each
 *   (the `tag` table), so the value part of a tag is cut at 100 characters.
 */

/** What the sink keeps per event id, in memory and as the JSON value of the mapping topic. */
export interface AnnotationMapping {
  /** Grafana's id of the region annotation. */
  readonly annotationId: number;
  /** True once the region got its end: a replayed RESOLVED is skipped. */
  readonly resolved: boolean;
  /** The annotation's text as last sent (the opening summary stays in the final text). */
  readonly text: string;
}

export interface GrafanaSinkOptions {
  /** Grafana's base URL, e.g. http://127.0.0.1:3000 (a sub-path such as /grafana is kept). */
  readonly url: string;
  readonly credentials?: Credentials;
  /** Dashboard the annotations belong to; without it they are organization annotations. */
  readonly dashboardUid?: string;
  /** Kafka of the mapping topic. */
  readonly kafka: Kafka;
  /** Compacted topic of event id → annotation id (default `aiops.sink.grafana.annotations`). */
  readonly mappingTopic?: string;
  /** Sink name, i.e. consumer group `aiops.sink.<name>` (default `grafana`). */
  readonly name?: string;
  /** Timeout of one HTTP request (default 10 s). */
  readonly requestTimeoutMs?: number;
  readonly log: Logger;
}

/** What the sink has done, for /metrics and tests. */
export interface GrafanaSinkStats {
  /** Annotations created (POST). */
  created: number;
  /** Regions ended (PATCH, or created with their end at once). */
  resolved: number;
  /** Events with nothing to do: already mapped, already resolved, or UPDATE. */
  skipped: number;
  /** Events Grafana refused as a bad request (logged, not retried). */
  rejected: number;
}

export const defaultAnnotationsTopic = 'aiops.sink.grafana.annotations';

type EventOf = Exclude<SinkEvent, { kind: 'measurement' }>;

/** Grafana's answer to one request, as the sink acts on it. */
type Answer = { readonly kind: 'ok'; readonly body: Record<string, unknown> } | { readonly kind: 'not-found' | 'rejected'; readonly status: number; readonly message: string };

const tierSeverity: Readonly<Record<SloEvent['tier'], string>> = { page: 'critical', ticket: 'warning', budget: 'critical' };

/** Longest value part of a `key:value` tag Grafana stores. */
const TAG_VALUE_MAX = 100;

function tag(key: string, value: string): string {
  return `${key}:${value.slice(0, TAG_VALUE_MAX)}`;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(x * 100 >= 10 ? 1 : 3).replace(/\.?0+$/, '')}%`;
}

function num(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(4))) : 'n/a';
}

function windowLength(ms: number): string {
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms / 60_000}m`;
}

/** A duration for people: 45s, 12m, 3h 5m. */
function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m`;
  return m % 60 === 0 ? `${Math.floor(m / 60)}h` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function where(e: AnomalyEvent): string {
  return e.context.endpoint ? `${e.context.service} ${e.context.endpoint}` : e.context.service || e.signal;
}

function budgetLeft(e: SloEvent): string {
  return `${pct(Math.max(0, e.budget_remaining))} of the error budget left${e.budget_remaining < 0 ? ` (overspent by ${pct(-e.budget_remaining)})` : ''}`;
}

/**
 * Tags of an event's annotation. Anomalies: `aiops`, `anomaly`, `service:<service>` and
 * `endpoint:<endpoint>` (when known), `metric:<metric>`, `severity:<info|warning|critical>`.
 * SLO alerts: `aiops`, `slo`, `service:<service>`, `slo:<name>`, `tier:<page|ticket|budget>`,
 * `severity:<critical|warning>` (page and budget are critical, ticket is warning, as in the
 * Alertmanager sink).
 */
export function annotationTags(e: EventOf): string[] {
  if (e.kind === 'anomaly') {
    const a = e.event;
    return [
      'aiops',
      'anomaly',
      ...(a.context.service ? [tag('service', a.context.service)] : []),
      ...(a.context.endpoint ? [tag('endpoint', a.context.endpoint)] : []),
      tag('metric', a.metric),
      tag('severity', a.severity),
    ];
  }
  const s = e.event;
  return ['aiops', 'slo', ...(s.service ? [tag('service', s.service)] : []), tag('slo', s.slo), tag('tier', s.tier), tag('severity', tierSeverity[s.tier])];
}

/** The summary an annotation opens with: what is wrong, with the numbers. */
export function openingText(e: EventOf): string {
  if (e.kind === 'anomaly') {
    const a = e.event;
    return (
      `Anomaly in ${a.metric} of ${where(a)} (${a.severity}): ${num(a.actual_value)} where ${num(a.expected_value)} was expected ` +
      `(interval ${num(a.lower)} to ${num(a.upper)}); score ${num(a.score)}, confidence ${num(a.confidence)}, ${a.detector} detector, ${a.mode} model.`
    );
  }
  const s = e.event;
  if (s.tier === 'budget') return `Error budget of ${s.slo} exhausted: the ${s.period} budget (objective ${pct(s.objective)}) has ${budgetLeft(s)}.`;
  const exhaustion = s.projected_exhaustion === null ? '' : `; at this rate it runs out ${iso(s.projected_exhaustion)}`;
  return (
    `${s.slo} burns its error budget (${s.tier}): ${num(s.long_burn_rate)}x over ${windowLength(s.long_window_ms)} and ${num(s.short_burn_rate)}x over ` +
    `${windowLength(s.short_window_ms)} (alerting at ${num(s.factor)}x; objective ${pct(s.objective)}, ${s.period}); ${budgetLeft(s)}${exhaustion}.`
  );
}

/**
 * The final text of a region: the opening summary (as sent when it opened, or, when the sink never
 * saw it open, one built from the resolution) and a line on how it ended.
 */
export function resolvedText(e: EventOf, opening: string | undefined): string {
  const ended = `Resolved ${iso(e.event.timestamp)} after ${span(e.event.timestamp - e.event.started_at)}`;
  if (e.kind === 'anomaly') {
    const a = e.event;
    const first = opening ?? `Anomaly in ${a.metric} of ${where(a)} since ${iso(a.started_at)}.`;
    return `${first}\n${ended}: ${a.metric} at ${num(a.actual_value)}, ${num(a.expected_value)} expected.`;
  }
  const s = e.event;
  const first = opening ?? (s.tier === 'budget' ? `Error budget of ${s.slo} exhausted since ${iso(s.started_at)}.` : `${s.slo} burned its error budget (${s.tier}) since ${iso(s.started_at)}.`);
  return `${first}\n${ended}: ${num(s.long_burn_rate)}x over ${windowLength(s.long_window_ms)}, ${num(s.short_burn_rate)}x over ${windowLength(s.short_window_ms)}; ${budgetLeft(s)}.`;
}

function parseMapping(value: Buffer | null): AnnotationMapping | undefined {
  if (value === null) return undefined;
  const parsed = JSON.parse(value.toString('utf8')) as Partial<AnnotationMapping>;
  if (typeof parsed.annotationId !== 'number' || !Number.isInteger(parsed.annotationId)) throw new Error('no integer annotationId');
  return { annotationId: parsed.annotationId, resolved: parsed.resolved === true, text: typeof parsed.text === 'string' ? parsed.text : '' };
}

function reason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

/**
 * Marks anomaly and SLO events as region annotations in Grafana. An anomaly OPEN or SLO FIRING
 * creates an annotation from `started_at` with the tags of {@link annotationTags} and a summary
 * with the numbers; RESOLVED patches its `timeEnd` (the event's time) and final text. UPDATE sends
 * nothing: anomalies emit one per anomalous point, and the region and its opening numbers do not
 * change (the final text says how it ended).
 *
 * Idempotent across replays and restarts: event id → annotation id (and whether it was resolved)
 * is kept in a compacted topic, loaded to its end before consuming. An id already mapped is not
 * created again, a resolved one is not patched again, and a mapping is on the topic before
 * `deliver` resolves, i.e. before the input offset is committed. A RESOLVED whose OPEN the sink
 * never saw creates the whole region at once. The one duplicate left: the process dies (or the
 * connection drops) after Grafana created an annotation and before its id was recorded.
 *
 * Errors: 5xx, 429, 401, 403 and network errors reject (the runner retries with backoff; the last
 * three concern every event, so dropping the event would drop them all). Any other 4xx is a bad
 * request for that one event: logged with Grafana's status and message, counted, and skipped so it
 * cannot block the stream. Credentials are only ever put in the Authorization header.
 *
 * Run one instance per consumer group: the map is loaded once at start, so an instance taking
 * over partitions from another that is still running would not know the ids it recorded since.
 */
export class GrafanaSink implements Sink {
  readonly name: string;
  readonly stats: GrafanaSinkStats = { created: 0, resolved: 0, skipped: 0, rejected: 0 };
  private readonly base: string;
  private readonly topic: string;
  private readonly mappings = new Map<string, AnnotationMapping>();
  /** Mappings changed in Grafana but not yet on the topic. */
  private readonly unrecorded = new Map<string, AnnotationMapping>();
  private producer: Producer | undefined;
  private producerConnected = false;
  private loading: Promise<void> | undefined;

  constructor(private readonly options: GrafanaSinkOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw aiopsError('CONFIG_INVALID', ['  - AIOPS_GRAFANA_URL: not a URL']);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw aiopsError('CONFIG_INVALID', [`  - AIOPS_GRAFANA_URL: must be http or https, not ${url.protocol}`]);
    // fetch refuses URLs with credentials, and a URL ends up in logs: credentials go in their own variables.
    if (url.username || url.password) throw aiopsError('CONFIG_INVALID', ['  - AIOPS_GRAFANA_URL: must not contain credentials; set AIOPS_GRAFANA_TOKEN or AIOPS_GRAFANA_USER/_PASSWORD']);
    this.base = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
    this.name = options.name ?? 'grafana';
    this.topic = options.mappingTopic ?? defaultAnnotationsTopic;
  }

  /** The annotation recorded for an event id, if any. */
  mapping(eventId: string): AnnotationMapping | undefined {
    return this.mappings.get(eventId);
  }

  /** How many event ids are mapped. */
  get mapped(): number {
    return this.mappings.size;
  }

  /** Loads the map from the mapping topic (creating it, compacted, when missing). */
  async rebuild(): Promise<void> {
    await this.load();
  }

  async deliver(events: readonly SinkEvent[]): Promise<void> {
    await this.load();
    let failure: unknown;
    try {
      for (const e of events) if (e.kind !== 'measurement') await this.apply(e);
    } catch (error) {
      failure = error;
    }
    // What Grafana already holds is recorded even when a later event failed, so the retry does not create it again.
    try {
      await this.record();
    } catch (error) {
      if (failure === undefined) throw new Error(`annotation ids could not be recorded on ${this.topic}: ${(error as Error).message}`, { cause: error });
      this.options.log.warn({ error: (error as Error).message, topic: this.topic }, 'annotation ids could not be recorded; the retry records them');
    }
    if (failure !== undefined) throw failure;
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    this.producerConnected = false;
    this.loading = undefined;
    await producer?.disconnect();
  }

  private load(): Promise<void> {
    this.loading ??= this.loadOnce().catch((error: unknown) => {
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  private async loadOnce(): Promise<void> {
    const { kafka, log } = this.options;
    await retryKafka(
      `grafana sink: creating or checking ${this.topic}`,
      async () => {
        const admin = kafka.admin();
        await admin.connect();
        try {
          if (!(await admin.listTopics()).includes(this.topic)) {
            const created = await admin.createTopics({ topics: [{ topic: this.topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }], waitForLeaders: true });
            if (created) log.info({ topic: this.topic }, 'annotation mapping topic created (compacted)');
          } else {
            const described = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: this.topic, configNames: ['cleanup.policy'] }], includeSynonyms: false });
            const policy = described.resources[0]?.configEntries.find((c) => c.configName === 'cleanup.policy')?.configValue;
            if (!policy?.includes('compact')) log.warn({ topic: this.topic, policy }, 'annotation mapping topic is not compacted: mappings may expire and replays then create annotations again');
          }
        } finally {
          await admin.disconnect();
        }
      },
      { onRetry: (error, attempt, delayMs) => log.warn({ attempt, delayMs, error: (error as Error).message }, 'broker not ready for the annotation mapping topic; retrying') },
    );
    this.producer ??= kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    if (!this.producerConnected) {
      await this.producer.connect();
      this.producerConnected = true;
    }
    const loaded = new Map<string, AnnotationMapping>();
    let bad = 0;
    await readToEnd(kafka, this.topic, (_partition, messages) => {
      for (const m of messages) {
        const key = m.key?.toString('utf8');
        if (!key) continue;
        try {
          const mapping = parseMapping(m.value);
          if (mapping) loaded.set(key, mapping);
          else loaded.delete(key);
        } catch {
          bad++;
        }
      }
    });
    // Whatever this process recorded itself is at least as new as the topic.
    for (const [key, mapping] of loaded) if (!this.mappings.has(key)) this.mappings.set(key, mapping);
    if (bad > 0) log.warn({ topic: this.topic, bad }, 'unreadable annotation mappings ignored');
    log.info({ topic: this.topic, mapped: this.mappings.size }, 'annotation mappings loaded');
  }

  private remember(eventId: string, mapping: AnnotationMapping): void {
    this.mappings.set(eventId, mapping);
    this.unrecorded.set(eventId, mapping);
  }

  /** Writes the unrecorded mappings to the topic and waits for the broker's acknowledgement. */
  private async record(): Promise<void> {
    if (this.unrecorded.size === 0) return;
    if (!this.producer) throw new Error('sink is closed');
    const entries = [...this.unrecorded];
    await this.producer.send({ topic: this.topic, acks: -1, compression: compressionFromEnv().type, messages: entries.map(([key, mapping]) => ({ key, value: JSON.stringify(mapping) })) });
    for (const [key, mapping] of entries) if (this.unrecorded.get(key) === mapping) this.unrecorded.delete(key);
  }

  private async apply(e: EventOf): Promise<void> {
    const id = e.event.id;
    const state = e.event.state;
    const known = this.mappings.get(id);
    if (state === 'UPDATE' || ((state === 'OPEN' || state === 'FIRING') && known) || (state === 'RESOLVED' && known?.resolved)) {
      this.stats.skipped++;
      return;
    }
    const dashboard = this.options.dashboardUid ? { dashboardUID: this.options.dashboardUid } : {};
    if (state === 'OPEN' || state === 'FIRING') {
      const text = openingText(e);
      const answer = await this.send('POST', '/api/annotations', { ...dashboard, time: e.event.started_at, tags: annotationTags(e), text });
      const annotationId = this.createdId(e, answer);
      if (annotationId === undefined) return;
      this.remember(id, { annotationId, resolved: false, text });
      this.stats.created++;
      return;
    }
    const timeEnd = Math.max(e.event.timestamp, e.event.started_at);
    if (known) {
      const text = resolvedText(e, known.text || undefined);
      const answer = await this.send('PATCH', `/api/annotations/${known.annotationId}`, { timeEnd, text });
      if (answer.kind === 'ok') {
        this.remember(id, { annotationId: known.annotationId, resolved: true, text });
        this.stats.resolved++;
        return;
      }
      if (answer.kind === 'rejected') return this.deadEnd(e, 'PATCH', answer);
      // Deleted in Grafana, or a Grafana with a fresh database: the region is created again, whole.
      this.options.log.warn({ event: id, annotationId: known.annotationId, status: answer.status }, 'annotation no longer in Grafana; creating the region again');
    }
    const text = resolvedText(e, known?.text || undefined);
    const answer = await this.send('POST', '/api/annotations', { ...dashboard, time: e.event.started_at, timeEnd, tags: annotationTags(e), text });
    const annotationId = this.createdId(e, answer);
    if (annotationId === undefined) return;
    this.remember(id, { annotationId, resolved: true, text });
    this.stats.created++;
    this.stats.resolved++;
  }

  /** The id of a created annotation, or undefined (logged and counted) when Grafana refused it. */
  private createdId(e: EventOf, answer: Answer): number | undefined {
    if (answer.kind !== 'ok') {
      this.deadEnd(e, 'POST', answer);
      return undefined;
    }
    const id = answer.body.id;
    if (typeof id === 'number' && Number.isInteger(id)) return id;
    // Created, but with no id to record; sending it again would only make a second one.
    this.deadEnd(e, 'POST', { kind: 'rejected', status: 200, message: `answer without an annotation id: ${JSON.stringify(answer.body).slice(0, 200)}` });
    return undefined;
  }

  private deadEnd(e: EventOf, method: string, answer: Exclude<Answer, { kind: 'ok' }>): void {
    this.stats.rejected++;
    this.options.log.error(
      { status: answer.status, grafanaMessage: answer.message, method, event: e.event.id, kind: e.kind, state: e.event.state, topic: e.topic, partition: e.partition, offset: e.offset },
      `Grafana refused the annotation of ${e.kind} event ${e.event.id} (${e.event.state}) with ${answer.status}: ${answer.message}; event skipped`,
    );
  }

  /** One request; throws when a retry may help (network, 5xx, 429, 401, 403). */
  private async send(method: 'POST' | 'PATCH', path: string, body: Record<string, unknown>): Promise<Answer> {
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers: { 'content-type': 'application/json', accept: 'application/json', ...authHeader(this.options.credentials) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new Error(`Grafana not reachable (${method} ${path}): ${reason(error)}`, { cause: error });
    }
    let raw: string;
    try {
      raw = await response.text();
    } catch (error) {
      throw new Error(`Grafana's answer to ${method} ${path} was cut off: ${reason(error)}`, { cause: error });
    }
    let parsed: Record<string, unknown> = {};
    try {
      const value: unknown = raw === '' ? {} : JSON.parse(raw);
      if (value && typeof value === 'object' && !Array.isArray(value)) parsed = value as Record<string, unknown>;
    } catch {
      // Not JSON (a proxy's error page): the status says enough, the start of the text says the rest.
    }
    const status = response.status;
    const message = typeof parsed.message === 'string' ? parsed.message : raw.replace(/\s+/g, ' ').slice(0, 200);
    if (response.ok) return { kind: 'ok', body: parsed };
    const notFound = method === 'PATCH' && (status === 404 || (status === 500 && /could not find annotation/i.test(message)));
    if (notFound) return { kind: 'not-found', status, message };
    if (status === 401 || status === 403) throw new Error(`Grafana refused the sink's credentials (${status} to ${method} ${path}: ${message}); check AIOPS_GRAFANA_TOKEN or AIOPS_GRAFANA_USER/_PASSWORD and the service account's annotation permissions`);
    if (status === 429 || status >= 500) throw new Error(`Grafana answered ${status} to ${method} ${path}: ${message}`);
    return { kind: 'rejected', status, message };
  }
}

/**
 * The sink from the environment: AIOPS_GRAFANA_URL (required), AIOPS_GRAFANA_TOKEN(_FILE) or
 * AIOPS_GRAFANA_USER with AIOPS_GRAFANA_PASSWORD(_FILE), AIOPS_GRAFANA_DASHBOARD_UID,
 * AIOPS_GRAFANA_ANNOTATIONS_TOPIC, and the Kafka connection (AIOPS_KAFKA_*) for the mapping topic.
 */
export function grafanaSinkFromEnv(env: NodeJS.ProcessEnv, log: Logger): GrafanaSink {
  if (!env.AIOPS_GRAFANA_URL) throw aiopsError('CONFIG_INVALID', ['  - AIOPS_GRAFANA_URL: required when the grafana sink is enabled (AIOPS_SINKS)']);
  const credentials = Credentials.fromEnv('AIOPS_GRAFANA', 'Bearer', env);
  const connection = kafkaConnectionFromEnv(env);
  return new GrafanaSink({
    url: env.AIOPS_GRAFANA_URL,
    ...(credentials ? { credentials } : {}),
    ...(env.AIOPS_GRAFANA_DASHBOARD_UID ? { dashboardUid: env.AIOPS_GRAFANA_DASHBOARD_UID } : {}),
    ...(env.AIOPS_GRAFANA_ANNOTATIONS_TOPIC ? { mappingTopic: env.AIOPS_GRAFANA_ANNOTATIONS_TOPIC } : {}),
    kafka: processKafka(connection, 'aiops-sink-grafana'),
    log,
  });
}
