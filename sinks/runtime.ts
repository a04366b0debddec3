import type { Consumer, ConsumerRunConfig, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { deadLetterRecord, deadLetterTopic } from '../runtime/dead-letter.js';
import { classifyKafkaError, connectionOf, verifyKafka } from '../runtime/kafka-connect.js';
import type { Logger } from '../runtime/logger.js';
import { compressionFromEnv } from '../runtime/kafka-codecs.js';
import { retry, retryKafka, sleep } from '../runtime/retry.js';
import { restartConsumer, restartableCrash } from '../runtime/runner/consumer-restart.js';
import type { InputRecord } from '../runtime/types.js';
import { anomaliesTopic, anomalySerde } from '../schemas/anomalies.js';
import type { AnomalyEvent } from '../schemas/anomalies.js';
import { sloEventSerde, sloTopic } from '../schemas/slo.js';
import type { SloEvent } from '../schemas/slo.js';
import { measurementSerde } from '../schemas/measurements.js';
import type { Measurement } from '../schemas/measurements.js';

/** One decoded event with where it came from. */
export type SinkEvent =
  | { readonly kind: 'anomaly'; readonly event: AnomalyEvent; readonly topic: string; readonly partition: number; readonly offset: string }
  | { readonly kind: 'slo'; readonly event: SloEvent; readonly topic: string; readonly partition: number; readonly offset: string }
  | { readonly kind: 'measurement'; readonly event: Measurement; readonly topic: string; readonly partition: number; readonly offset: string };

/** A delivery target: the Alertmanager, Grafana or InfluxDB side of a sink. */
export interface Sink {
  /** Sink name: consumer group `aiops.sink.<name>`. */
  readonly name: string;
  /**
   * Called once before consuming starts: loads the state the sink must not forget across restarts
   * (its compacted topics: the Alertmanager sink's active alerts, the Grafana sink's annotation
   * ids); returns how many entries it loaded. Events from the committed offset on are delivered
   * again afterwards. Reading a compacted set keeps start-up independent of the event topics'
   * retention.
   */
  rebuild?(): Promise<number | void> | number | void;
  /**
   * Delivers a batch in order; resolves once the target accepted all of it. A rejection is retried
   * (exponential backoff with jitter) until it succeeds or the sink stops; offsets are committed
   * only after it resolved, so nothing is lost and a replay delivers again (targets must be
   * idempotent).
   */
  deliver(events: readonly SinkEvent[]): Promise<void>;
  /** Releases timers and connections. */
  close?(): Promise<void> | void;
}

export interface SinkRunnerOptions {
  readonly kafka: Kafka;
  readonly sink: Sink;
  readonly log: Logger;
  /** Topics to read (default the anomalies and SLO topics). */
  readonly topics?: readonly string[];
  /** Consumer group (default `aiops.sink.<sink name>`). */
  readonly groupId?: string;
  /** Consumer session timeout (default kafkajs' 30 s): how long a member that died holds its partitions. */
  readonly sessionTimeoutMs?: number;
  /** Longest wait between delivery attempts (default 30 s). */
  readonly maxBackoffMs?: number;
}

/** Decodes a record of one of the event topics; throws with the reason when it cannot. */
export function decodeSinkEvent(topic: string, partition: number, message: KafkaMessage): SinkEvent {
  if (message.value === null) throw new Error('empty value');
  if (topic.includes('measurements')) return { kind: 'measurement', event: measurementSerde.deserialize(message.value), topic, partition, offset: message.offset };
  if (topic.includes('anomalies')) return { kind: 'anomaly', event: anomalySerde.deserialize(message.value), topic, partition, offset: message.offset };
  if (topic.includes('slo')) return { kind: 'slo', event: sloEventSerde.deserialize(message.value), topic, partition, offset: message.offset };
  throw new Error(`no event schema for topic ${topic}`);
}

function inputRecord(topic: string, partition: number, m: KafkaMessage): InputRecord {
  return { topic, partition, offset: m.offset, key: m.key, value: m.value, timestamp: m.timestamp, ...(m.headers ? { headers: m.headers } : {}) };
}

/** What a running sink has done, for /metrics and tests. */
export interface SinkStats {
  delivered: number;
  batches: number;
  retries: number;
  deadLetters: number;
  /** Entries the sink loaded from its state topics at start. */
  rebuilt: number;
  /** Consumer restarts after a crash kafkajs did not recover from. */
  consumerRestarts: number;
}

/**
 * Runs a sink: a consumer group reading the event topics read_committed, one batch at a time per
 * partition. Records that are not events go to the dead-letter topic with the reason; the rest
 * are handed to the sink, retried until the target accepts them, and only then is the offset
 * committed. A stop during a retry leaves the batch uncommitted for the next owner.
 */
export class SinkRunner {
  readonly stats: SinkStats = { delivered: 0, batches: 0, retries: 0, deadLetters: 0, rebuilt: 0, consumerRestarts: 0 };
  private consumer: Consumer | undefined;
  private producer: Producer | undefined;
  private readonly abort = new AbortController();
  private running = false;
  /** A consumer crash kafkajs does not recover from and that could not be restarted: not ready. */
  private failed: Error | undefined;
  private restarting = false;

  constructor(private readonly options: SinkRunnerOptions) {}

  private get topics(): readonly string[] {
    return this.options.topics ?? [anomaliesTopic, sloTopic];
  }

  /** True once the rebuild is done and the consumer runs (not while it is being restarted after a crash). */
  get ready(): boolean {
    return this.running && !this.restarting && this.failed === undefined;
  }

  async start(): Promise<void> {
    const { kafka, sink, log } = this.options;
    try {
      // Wrong credentials or certificates end the start with one clear error instead of retries.
      await verifyKafka(kafka);
      await retryKafka(
        'sinks: creating their input topics',
        async () => {
          const admin = kafka.admin();
          await admin.connect();
          try {
            const existing = await admin.listTopics();
            const missing = this.topics.filter((t) => !existing.includes(t));
            if (missing.length > 0) await admin.createTopics({ topics: missing.map((topic) => ({ topic })), waitForLeaders: true });
          } finally {
            await admin.disconnect();
          }
        },
        { onRetry: (error, attempt, delayMs) => log.warn({ attempt, delayMs, error: (error as Error).message }, 'broker not ready for topic creation; retrying') },
      );
    } catch (error) {
      throw classifyKafkaError(error, undefined, connectionOf(kafka)) ?? error;
    }
    this.producer = kafka.producer({ allowAutoTopicCreation: true, idempotent: true, maxInFlightRequests: 1 });
    await this.producer.connect();
    if (sink.rebuild) {
      const loaded = await sink.rebuild();
      this.stats.rebuilt = typeof loaded === 'number' ? loaded : 0;
      log.info({ entries: this.stats.rebuilt }, 'sink state loaded');
    }
    const consumer = kafka.consumer({ groupId: this.options.groupId ?? `aiops.sink.${sink.name}`, ...(this.options.sessionTimeoutMs ? { sessionTimeout: this.options.sessionTimeoutMs } : {}), readUncommitted: false, maxWaitTimeInMs: 200 });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (event) => this.onCrash(consumer, event.payload.error, event.payload.restart));
    await consumer.connect();
    await consumer.subscribe({ topics: [...this.topics], fromBeginning: true });
    this.runConfig = {
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        const events: SinkEvent[] = [];
        for (const m of batch.messages) {
          try {
            events.push(decodeSinkEvent(batch.topic, batch.partition, m));
          } catch (error) {
            const record = deadLetterRecord(`sink.${sink.name}`, inputRecord(batch.topic, batch.partition, m), `not an event of ${batch.topic}: ${(error as Error).message}`, error);
            await this.producer?.send({ topic: deadLetterTopic, compression: compressionFromEnv().type, messages: [{ key: record.key, value: record.value, ...(record.headers ? { headers: { ...record.headers } } : {}) }] });
            this.stats.deadLetters++;
            log.warn({ topic: batch.topic, partition: batch.partition, offset: m.offset, reason: (error as Error).message }, 'record dead-lettered');
          }
        }
        if (events.length > 0) {
          await retry(
            async () => {
              if (!isRunning() || isStale()) throw new Error('stopping');
              await sink.deliver(events);
            },
            {
              retries: Number.MAX_SAFE_INTEGER,
              initialDelayMs: 250,
              maxDelayMs: this.options.maxBackoffMs ?? 30_000,
              shouldRetry: () => isRunning() && !isStale() && !this.abort.signal.aborted,
              signal: this.abort.signal,
              sleep: async (ms, signal) => {
                // Keep the group membership while waiting for the target.
                for (let left = ms; left > 0; left -= 1_000) {
                  await sleep(Math.min(1_000, left), signal);
                  await heartbeat();
                }
              },
              onRetry: (error, attempt, delayMs) => {
                this.stats.retries++;
                log.warn({ attempt, delayMs, error: (error as Error).message }, 'target did not accept the batch; retrying');
              },
            },
          );
          this.stats.delivered += events.length;
        }
        const last = batch.messages.at(-1);
        if (last) {
          await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }]);
          resolveOffset(last.offset);
        }
        this.stats.batches++;
      },
    };
    await consumer.run(this.runConfig);
    this.running = true;
  }

  private runConfig: ConsumerRunConfig | undefined;

  /**
   * kafkajs restarts a consumer after retriable errors itself; a broker stopped in the middle of a
   * rebalance ends it with non-retriable wrappers of transient answers, and without this the sink
   * would stay connected and deliver nothing. Such a crash is restarted like the runner's.
   */
  private onCrash(consumer: Consumer, error: Error, restartedByKafkajs: boolean): void {
    const { log, sink } = this.options;
    log.error({ err: error, restart: restartedByKafkajs }, 'sink consumer crashed');
    if (restartedByKafkajs || !this.running) return;
    if (!restartableCrash(restartedByKafkajs, error) || !this.runConfig) {
      this.failed = error;
      return;
    }
    if (this.restarting) return;
    this.restarting = true;
    this.stats.consumerRestarts++;
    restartConsumer(`sink ${sink.name}`, consumer, this.runConfig, () => this.running, log)
      .catch((restartError: unknown) => {
        this.failed = restartError as Error;
        log.error({ err: restartError }, 'sink consumer could not be restarted');
      })
      .finally(() => {
        this.restarting = false;
      });
  }

  async stop(): Promise<void> {
    this.abort.abort(new Error('sink stopping'));
    this.running = false;
    await this.consumer?.disconnect();
    await this.producer?.disconnect();
    await this.options.sink.close?.();
  }
}
