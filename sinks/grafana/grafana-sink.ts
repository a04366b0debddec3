import type { Kafka } from 'kafkajs';
import { aiopsError } from '../../runtime/errors.js';
import { kafkaConnectionFromEnv } from '../../runtime/kafka-config.js';
import type { Logger } from '../../runtime/logger.js';
import { processKafka } from '../../runtime/runner.js';
import { CompactedTopic } from '../compacted-topic.js';
import { Credentials } from '../credentials.js';
import { AnnotationsApi } from './annotations-api.js';
import type { Answer } from './annotations-api.js';
import type { Sink, SinkEvent } from '../runtime.js';
import { defaultStaleness, EvidenceClock, Serial, span, stalenessFromEnv } from '../staleness.js';
import type { AlertKind, StalenessOptions } from '../staleness.js';
import { annotationTags, iso, openingText, resolvedText } from './annotation-text.js';
import type { EventOf } from './annotation-text.js';

export { annotationTags, openingText, resolvedText } from './annotation-text.js';


/**
 * The tag naming the event an annotation belongs to, `event:<id>` (ids are 32 hex digits): how a
 * sink that restarted finds an annotation it created but had not recorded yet.
 */
export function eventTag(id: string): string {
  return `event:${id}`;
}

/** What the sink keeps per event id, in memory and as the JSON value of the mapping topic. */
export interface AnnotationMapping {
  /** Grafana's id of the region annotation. */
  readonly annotationId: number;
  /** True once the region got its end: a replayed RESOLVED is skipped. */
  readonly resolved: boolean;
  /** The annotation's text as last sent (the opening summary stays in the final text). */
  readonly text: string;
  /** The event's kind (mappings written before it was recorded read as `slo`, the longer-lived kind, for staleness). */
  readonly kind?: AlertKind;
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
  /** When an open region with no event about it is closed as stale (default {@link defaultStaleness}). */
  readonly staleness?: StalenessOptions;
  /** Wall clock, injectable for tests. */
  readonly now?: () => number;
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
  /** Open regions closed as stale, per kind. */
  stale: Record<AlertKind, number>;
}

export const defaultAnnotationsTopic = 'aiops.sink.grafana.annotations';



function parseMapping(value: Buffer): AnnotationMapping {
  const parsed = JSON.parse(value.toString('utf8')) as Partial<AnnotationMapping>;
  if (typeof parsed.annotationId !== 'number' || !Number.isInteger(parsed.annotationId)) throw new Error('no integer annotationId');
  const kind = parsed.kind === 'anomaly' || parsed.kind === 'slo' ? { kind: parsed.kind } : {};
  return { annotationId: parsed.annotationId, resolved: parsed.resolved === true, text: typeof parsed.text === 'string' ? parsed.text : '', ...kind };
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
 * never saw creates the whole region at once. An event the map does not know is first looked up
 * in Grafana by its `event:<id>` tag: a process that died (or lost the connection) after Grafana
 * created the annotation and before its id was recorded left it there, and it is taken over, not
 * created again.
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
  readonly stats: GrafanaSinkStats = { created: 0, resolved: 0, skipped: 0, rejected: 0, stale: { anomaly: 0, slo: 0 } };
  private readonly api: AnnotationsApi;
  private readonly topic: CompactedTopic<AnnotationMapping>;
  private readonly mappings = new Map<string, AnnotationMapping>();
  /** Mappings changed in Grafana but not yet on the topic. */
  private readonly unrecorded = new Map<string, AnnotationMapping>();
  private loading: Promise<void> | undefined;
  private readonly now: () => number;
  private readonly clock: EvidenceClock;
  private readonly serial = new Serial();
  private timer: NodeJS.Timeout | undefined;
  /** Set once Grafana refused a lookup by tag (logged once). */
  private lookupRefused = false;
  private checking: Promise<unknown> | undefined;

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
    this.api = new AnnotationsApi(options.url, options.credentials, options.requestTimeoutMs);
    this.name = options.name ?? 'grafana';
    this.topic = new CompactedTopic({ kafka: options.kafka, topic: options.mappingTopic ?? defaultAnnotationsTopic, log: options.log, what: 'annotation mapping', parse: parseMapping });
    this.now = options.now ?? Date.now;
    this.clock = new EvidenceClock(options.staleness ?? defaultStaleness, this.now);
  }

  /** The annotation recorded for an event id, if any. */
  mapping(eventId: string): AnnotationMapping | undefined {
    return this.mappings.get(eventId);
  }

  /** How many event ids are mapped. */
  get mapped(): number {
    return this.mappings.size;
  }

  /** Loads the map from the mapping topic (creating it, compacted, when missing); returns how many ids are mapped. */
  async rebuild(): Promise<number> {
    await this.load();
    this.startTimer();
    return this.mappings.size;
  }

  deliver(events: readonly SinkEvent[]): Promise<void> {
    this.startTimer();
    return this.serial.run(async () => {
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
        if (failure === undefined) throw new Error(`annotation ids could not be recorded on ${this.topic.topic}: ${(error as Error).message}`, { cause: error });
        this.options.log.warn({ error: (error as Error).message, topic: this.topic.topic }, 'annotation ids could not be recorded; the retry records them');
      }
      if (failure !== undefined) throw failure;
    });
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.checking;
    this.loading = undefined;
    await this.topic.close();
  }

  /**
   * Closes the open regions whose source said nothing about them for their stale time: `timeEnd`
   * now and a last line saying so. Returns how many it closed.
   */
  closeStale(): Promise<number> {
    return this.serial.run(async () => {
      let closed = 0;
      for (const d of this.clock.due()) {
        const known = this.mappings.get(d.id);
        if (!known || known.resolved) {
          this.clock.forget(d.id);
          continue;
        }
        const now = this.now();
        const text = `${known.text}\nResolved as stale ${iso(now)}: no event about it for ${span(d.silentMs)} (stale after ${span(this.clock.limit(d.kind))}).`;
        const answer = await this.api.send('PATCH', `/api/annotations/${known.annotationId}`, { timeEnd: now, text });
        // Gone from Grafana, or refused: there is nothing left to close either way.
        this.remember(d.id, { ...known, resolved: true, text: answer.kind === 'ok' ? text : known.text });
        this.clock.forget(d.id);
        this.stats.stale[d.kind]++;
        closed++;
        this.options.log.info({ event: d.id, kind: d.kind, silentMs: d.silentMs, reason: 'stale', annotationId: known.annotationId, status: answer.kind }, `${d.kind} region ${d.id} closed as stale: no event about it for ${span(d.silentMs)}`);
      }
      await this.record();
      return closed;
    });
  }

  private startTimer(): void {
    const every = this.clock.shortest;
    if (this.timer || every === undefined) return;
    this.timer = setInterval(() => {
      this.checking ??= this.closeStale()
        .catch((error: unknown) => this.options.log.warn({ error: (error as Error).message }, 'closing stale regions failed; the next check tries again'))
        .finally(() => (this.checking = undefined));
    }, Math.max(1_000, Math.min(60_000, Math.floor(every / 4))));
    this.timer.unref();
  }

  private load(): Promise<void> {
    this.loading ??= (async () => {
      const loaded = await this.topic.open();
      // Whatever this process recorded itself is at least as new as the topic.
      for (const [key, mapping] of loaded) {
        if (this.mappings.has(key)) continue;
        this.mappings.set(key, mapping);
        if (!mapping.resolved) this.clock.seen(key, mapping.kind ?? 'slo');
      }
      this.options.log.info({ topic: this.topic.topic, mapped: this.mappings.size, open: this.clock.size }, 'annotation mappings loaded');
    })().catch((error: unknown) => {
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  private remember(eventId: string, mapping: AnnotationMapping): void {
    this.mappings.set(eventId, mapping);
    this.unrecorded.set(eventId, mapping);
  }

  /** Writes the unrecorded mappings to the topic and waits for the broker's acknowledgement. */
  private async record(): Promise<void> {
    if (this.unrecorded.size === 0) return;
    const entries = [...this.unrecorded];
    await this.topic.write(entries);
    for (const [key, mapping] of entries) if (this.unrecorded.get(key) === mapping) this.unrecorded.delete(key);
  }

  private async apply(e: EventOf): Promise<void> {
    const id = e.event.id;
    const state = e.event.state;
    const known = this.mappings.get(id);
    if (state === 'RESOLVED') this.clock.forget(id);
    else if (!known?.resolved) this.clock.seen(id, e.kind);
    if (state === 'UPDATE' || ((state === 'OPEN' || state === 'FIRING') && known) || (state === 'RESOLVED' && known?.resolved)) {
      this.stats.skipped++;
      return;
    }
    const dashboard = this.options.dashboardUid ? { dashboardUID: this.options.dashboardUid } : {};
    const tags = [...annotationTags(e), eventTag(id)];
    // Created by a process that died before it recorded the id: found by the event's tag, not created twice.
    const found = known ? undefined : await this.findCreated(e);
    if (state === 'OPEN' || state === 'FIRING') {
      if (found) {
        this.remember(id, { annotationId: found.annotationId, resolved: found.ended, text: found.text, kind: e.kind });
        this.stats.skipped++;
        return;
      }
      const text = openingText(e);
      const answer = await this.api.send('POST', '/api/annotations', { ...dashboard, time: e.event.started_at, tags, text });
      const annotationId = this.createdId(e, answer);
      if (annotationId === undefined) return;
      this.remember(id, { annotationId, resolved: false, text, kind: e.kind });
      this.stats.created++;
      return;
    }
    if (found?.ended) {
      this.remember(id, { annotationId: found.annotationId, resolved: true, text: found.text, kind: e.kind });
      this.stats.skipped++;
      return;
    }
    const timeEnd = Math.max(e.event.timestamp, e.event.started_at);
    const open = known ?? found;
    if (open) {
      const text = resolvedText(e, open.text || undefined);
      const answer = await this.api.send('PATCH', `/api/annotations/${open.annotationId}`, { timeEnd, text });
      if (answer.kind === 'ok') {
        this.remember(id, { annotationId: open.annotationId, resolved: true, text, kind: e.kind });
        this.stats.resolved++;
        return;
      }
      if (answer.kind === 'rejected') return this.deadEnd(e, 'PATCH', answer);
      // Deleted in Grafana, or a Grafana with a fresh database: the region is created again, whole.
      this.options.log.warn({ event: id, annotationId: open.annotationId, status: answer.status }, 'annotation no longer in Grafana; creating the region again');
    }
    const text = resolvedText(e, open?.text || undefined);
    const answer = await this.api.send('POST', '/api/annotations', { ...dashboard, time: e.event.started_at, timeEnd, tags, text });
    const annotationId = this.createdId(e, answer);
    if (annotationId === undefined) return;
    this.remember(id, { annotationId, resolved: true, text, kind: e.kind });
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

  /**
   * The annotation Grafana already holds for an event the map does not know, by the event's tag
   * (`GET /api/annotations?tags=event:<id>&type=annotation`, which answers an array of
   * annotations with `id`, `time`, `timeEnd` (equal to `time` for a point) and `text`): `ended`
   * once it is a region with an end. Throws when a retry may help; a lookup Grafana refuses
   * otherwise (say a token without annotations:read) is logged once and treated as not found.
   */
  private async findCreated(e: EventOf): Promise<{ annotationId: number; text: string; ended: boolean } | undefined> {
    const listing = await this.api.listByTag(eventTag(e.event.id));
    if (listing.kind === 'refused') {
      if (!this.lookupRefused) this.options.log.warn({ status: listing.status, answer: listing.answer }, 'Grafana did not list annotations by tag; a restart between creating an annotation and recording its id may create it twice');
      this.lookupRefused = true;
      return undefined;
    }
    const hit = listing.annotations.filter((a) => typeof a.id === 'number' && Number.isInteger(a.id)).sort((a, b) => (a.id as number) - (b.id as number))[0];
    if (!hit) return undefined;
    const time = typeof hit.time === 'number' ? hit.time : 0;
    const ended = typeof hit.timeEnd === 'number' && hit.timeEnd > time;
    return { annotationId: hit.id as number, text: typeof hit.text === 'string' ? hit.text : '', ended };
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
  const problems: string[] = [];
  const staleness = stalenessFromEnv(env, problems);
  if (problems.length > 0) throw aiopsError('CONFIG_INVALID', [problems.join('\n')]);
  const connection = kafkaConnectionFromEnv(env);
  return new GrafanaSink({
    url: env.AIOPS_GRAFANA_URL,
    ...(credentials ? { credentials } : {}),
    ...(env.AIOPS_GRAFANA_DASHBOARD_UID ? { dashboardUid: env.AIOPS_GRAFANA_DASHBOARD_UID } : {}),
    ...(env.AIOPS_GRAFANA_ANNOTATIONS_TOPIC ? { mappingTopic: env.AIOPS_GRAFANA_ANNOTATIONS_TOPIC } : {}),
    staleness,
    kafka: processKafka(connection, 'aiops-sink-grafana'),
    log,
  });
}
