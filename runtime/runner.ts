import kafkajs from 'kafkajs';
import type { Consumer, Kafka, KafkaMessage, Message, Producer } from 'kafkajs';
import { deadLetterTopic } from './dead-letter.js';
import { aiopsError } from './errors.js';
import { asConnection, classifyKafkaError, connectionOf, createKafka, verifyKafka } from './kafka-connect.js';
import type { KafkaConnection } from './kafka-config.js';
import { createLogger } from './logger.js';
import type { Logger } from './logger.js';
import { compressionFromEnv, registerKafkaCodecs } from './kafka-codecs.js';
import { retry, retryKafka } from './retry.js';
import { changelogKey, changelogTopic, restoreFromChangelog } from './state/changelog.js';
import { TaskContext } from './task-context.js';
import type { BadRecordPolicy, Clock, InputRecord, OutputRecord, Processor, ProcessorFactory, StateStore } from './types.js';

const { logLevel } = kafkajs;

/** How a processor is run against Kafka. */
export interface RunnerOptions {
  /** Processor name: consumer group `aiops.<name>`, changelog `aiops.<name>.state`. */
  readonly name: string;
  readonly kafka: Kafka;
  readonly inputTopic: string;
  /** Topics the processor writes (created when missing, with the input's partition count). */
  readonly outputTopics?: readonly string[];
  readonly factory: ProcessorFactory;
  /** What a rejected record meets (default: dead-letter). */
  readonly badRecordPolicy?: BadRecordPolicy;
  /** A caught-up partition with no input for this long gets its processor's idle() (default 2000 ms). */
  readonly idleTimeoutMs?: number;
  readonly clock?: Clock;
  readonly log?: Logger;
  /** Consumer group (default `aiops.<name>`); also the prefix of the transactional ids. */
  readonly groupId?: string;
  readonly partitionsConsumedConcurrently?: number;
  readonly maxBytesPerPartition?: number;
  /** Where a new consumer group starts: the beginning of the input (default) or its end. */
  readonly fromBeginning?: boolean;
  /**
   * Consumer session timeout (default 30000 ms, the broker allows 6000 and up): how long a
   * member that died without leaving holds its partitions before the group moves them.
   */
  readonly sessionTimeoutMs?: number;
  /**
   * How long processed input may wait for its transaction (default 100 ms). Batches processed
   * within the interval share one transaction, and a state key changed by several of them is
   * written to the changelog once. 0 commits every batch.
   */
  readonly commitIntervalMs?: number;
  /**
   * Largest input record (key plus value, after decompression) handed to the processor (default
   * AIOPS_KAFKA_MAX_RECORD_BYTES, else 4 MiB). A larger one meets the bad-record policy with its
   * size in the reason; its dead letter keeps the key and headers but not the value.
   */
  readonly maxRecordBytes?: number;
}

/** The default of {@link RunnerOptions.maxRecordBytes}: four times a broker's default batch limit. */
export const defaultMaxRecordBytes = 4 * 1024 * 1024;

/** `AIOPS_KAFKA_MAX_RECORD_BYTES`, validated (AIOPS_ERR_CONFIG_INVALID when not a whole number of at least 1024). */
export function maxRecordBytesFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.AIOPS_KAFKA_MAX_RECORD_BYTES?.trim();
  if (raw === undefined || raw === '') return defaultMaxRecordBytes;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1024) throw aiopsError('CONFIG_INVALID', [`  - AIOPS_KAFKA_MAX_RECORD_BYTES: expected a whole number of bytes, at least 1024, got "${raw}"`]);
  return value;
}

interface Task {
  readonly partition: number;
  readonly processor: Processor;
  readonly context: TaskContext;
  readonly producer: Producer;
  /** Serialises batches, idle work and closing of one partition. */
  lock: Promise<unknown>;
  lastInputAt: number;
  /** Next input offset to process: the committed position, then one past each processed batch. */
  position: bigint | undefined;
  /** Input processed but not committed yet: the offset to commit, and since when it waits. */
  pendingOffset: string | undefined;
  pendingSince: number;
  /** The input offset of the last commit (where a failed commit sends the consumer back). */
  committedOffset: string | undefined;
  caughtUp: boolean;
  idleDone: boolean;
  closed: boolean;
}

/** What the runner has done, for telemetry and tests. */
export interface RunnerStats {
  readonly counters: Readonly<Record<string, number>>;
  readonly partitions: number[];
  readonly stateEntries: number;
  readonly stateBytes: number;
  readonly lag: Readonly<Record<number, number>>;
}

const wallClock: Clock = { now: () => Date.now() };

/**
 * Runs one processor over a topic with exactly-once semantics: a task per input partition, each
 * with its own transactional producer, so that the outputs of a batch, its changelog entries,
 * its dead letters and its input offsets are committed in one Kafka transaction. A partition's
 * state is restored from the changelog before its first batch, after the task's producer has
 * fenced any previous owner.
 */
export class ProcessorRunner {
  readonly groupId: string;
  readonly changelog: string;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly policy: BadRecordPolicy;
  private readonly idleTimeoutMs: number;
  private readonly commitIntervalMs: number;
  /** kafkajs compression type of every output batch (AIOPS_KAFKA_COMPRESSION). */
  private readonly compression: number;
  private readonly maxRecordBytes: number;
  private readonly tasks = new Map<number, Promise<Task>>();
  private readonly counters = new Map<string, number>();
  private readonly lag = new Map<number, number>();
  private readonly partitionCounts = new Map<string, number>();
  private consumer: Consumer | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private running = false;
  private joined = false;
  private fatal: Error | undefined;

  constructor(private readonly options: RunnerOptions) {
    this.groupId = options.groupId ?? `aiops.${options.name}`;
    this.changelog = changelogTopic(options.name);
    this.log = options.log ?? createLogger(`aiops.${options.name}`);
    this.clock = options.clock ?? wallClock;
    this.policy = options.badRecordPolicy ?? 'dead-letter';
    this.idleTimeoutMs = options.idleTimeoutMs ?? 2_000;
    this.commitIntervalMs = options.commitIntervalMs ?? 100;
    this.compression = compressionFromEnv().type;
    this.maxRecordBytes = options.maxRecordBytes ?? maxRecordBytesFromEnv();
  }

  count(name: string, value = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + value);
  }

  /** Creates missing topics, joins the group and starts consuming. */
  async start(): Promise<void> {
    try {
      // Wrong credentials or certificates end the start with one clear error instead of retries.
      await verifyKafka(this.options.kafka);
      await this.ensureTopics();
    } catch (error) {
      throw classifyKafkaError(error, undefined, connectionOf(this.options.kafka)) ?? error;
    }
    const { kafka, inputTopic } = this.options;
    const consumer = kafka.consumer({
      groupId: this.groupId,
      readUncommitted: false,
      maxBytesPerPartition: this.options.maxBytesPerPartition ?? 4 * 1024 * 1024,
      maxWaitTimeInMs: 200,
      sessionTimeout: this.options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: Math.max(500, Math.floor((this.options.sessionTimeoutMs ?? 30_000) / 10)),
      rebalanceTimeout: 60_000,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const assigned = event.payload.memberAssignment[inputTopic] ?? [];
      this.joined = true;
      this.onAssignment(assigned);
    });
    consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
      const { partition, offsetLag } = event.payload as { partition: number; offsetLag: string };
      const lagNow = Number(offsetLag);
      this.lag.set(partition, lagNow);
      void this.tasks.get(partition)?.then((task) => {
        task.caughtUp = lagNow <= 0;
      }, () => undefined);
    });
    consumer.on(consumer.events.CRASH, (event) => {
      this.log.error({ err: event.payload.error, restart: event.payload.restart }, 'consumer crashed');
      if (!event.payload.restart) this.fatal = event.payload.error;
      this.dropAll();
    });
    await consumer.connect();
    await consumer.subscribe({ topic: inputTopic, fromBeginning: this.options.fromBeginning ?? true });
    this.running = true;
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 4,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (!isRunning() || isStale()) return;
        const task = await this.taskFor(batch.partition);
        const last = batch.lastOffset();
        await this.locked(task, async () => {
          if (task.closed) throw new Error(`partition ${batch.partition} was revoked`);
          if (this.log.isLevelEnabled('trace')) this.log.trace({ partition: batch.partition, first: batch.firstOffset(), last, position: task.position?.toString() }, 'batch');
          const all = this.unprocessed(task, batch.messages).map((m) => toInput(batch.topic, batch.partition, m));
          if (all.length === 0) return;
          this.count('records', all.length);
          this.count('batches');
          task.lastInputAt = this.clock.now();
          task.idleDone = false;
          const records = this.withinSizeLimit(all, task.context);
          if (records.length > 0) await task.processor.process(records, task.context);
          task.committedOffset ??= all[0]?.offset;
          task.position = BigInt(last) + 1n;
          task.pendingOffset = task.position.toString();
          if (task.pendingSince === 0) task.pendingSince = this.clock.now();
          if (this.clock.now() - task.pendingSince >= this.commitIntervalMs) await this.commit(task);
        });
        resolveOffset(last);
        await heartbeat();
      },
    });
    this.idleTimer = setInterval(() => this.checkIdle(), Math.max(20, Math.min(1_000, this.idleTimeoutMs / 4, this.commitIntervalMs || 1_000)));
  }

  /** True once the group is joined and every assigned partition's state is restored. */
  async ready(): Promise<boolean> {
    if (!this.running || !this.joined || this.fatal) return false;
    const settled = await Promise.allSettled([...this.tasks.values()]);
    return settled.every((s) => s.status === 'fulfilled');
  }

  /** The error that stopped the runner for good, if one did. */
  failure(): Error | undefined {
    return this.fatal;
  }

  async stats(): Promise<RunnerStats> {
    let stateEntries = 0;
    let stateBytes = 0;
    const partitions: number[] = [];
    for (const pending of this.tasks.values()) {
      const task = await pending.catch(() => undefined);
      if (!task) continue;
      partitions.push(task.partition);
      for (const store of task.context.stores) {
        stateEntries += store.size();
        stateBytes += store.sizeBytes();
      }
    }
    return { counters: Object.fromEntries(this.counters), partitions: partitions.sort((a, b) => a - b), stateEntries, stateBytes, lag: Object.fromEntries(this.lag) };
  }

  /** Leaves the group after the batch in flight, then closes every task. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.idleTimer) clearInterval(this.idleTimer);
    await this.consumer?.disconnect();
    await Promise.all([...this.tasks.keys()].map((p) => this.dropTask(p)));
  }

  /**
   * The records within the size limit; each larger one meets the bad-record policy (counted as
   * `oversized_records`), its dead letter without the value so that it cannot exceed the
   * broker's own limit and block the transaction.
   */
  private withinSizeLimit(records: InputRecord[], context: TaskContext): InputRecord[] {
    const size = (r: InputRecord): number => (r.key?.length ?? 0) + (r.value?.length ?? 0);
    if (!records.some((r) => size(r) > this.maxRecordBytes)) return records;
    const kept: InputRecord[] = [];
    for (const record of records) {
      const bytes = size(record);
      if (bytes <= this.maxRecordBytes) {
        kept.push(record);
        continue;
      }
      this.count('oversized_records');
      context.reject({ ...record, value: null }, `record of ${bytes} bytes exceeds the record size limit of ${this.maxRecordBytes} bytes (AIOPS_KAFKA_MAX_RECORD_BYTES); value not kept`);
    }
    return kept;
  }

  /** Creates and checks the topics, waiting out a broker that is starting (AIOPS_ERR_KAFKA_NOT_READY after the deadline). */
  private async ensureTopics(): Promise<void> {
    await retryKafka(`${this.options.name}: creating and checking its topics`, () => this.ensureTopicsOnce(), {
      onRetry: (error, attempt, delayMs) => this.log.warn({ attempt, delayMs, error: (error as Error).message }, 'broker not ready for topic creation; retrying'),
    });
  }

  private async ensureTopicsOnce(): Promise<void> {
    const admin = this.options.kafka.admin();
    await admin.connect();
    try {
      // The input may not exist yet (its producer starts at the same time): create it with the
      // broker's default partition count rather than fail.
      if (!(await admin.listTopics()).includes(this.options.inputTopic)) {
        await admin.createTopics({ waitForLeaders: true, topics: [{ topic: this.options.inputTopic }] }).catch((error: unknown) => {
          if (!String((error as Error).message).includes('already exists')) throw error;
        });
      }
      const meta = await admin.fetchTopicMetadata({ topics: [this.options.inputTopic] });
      const partitions = meta.topics[0]?.partitions.length ?? 1;
      const dlq = this.policy === 'dead-letter' ? [deadLetterTopic] : [];
      const outputs = [...new Set([...(this.options.outputTopics ?? []), ...dlq, this.changelog])];
      const existing = new Set(await admin.listTopics());
      const missing = outputs.filter((t) => !existing.has(t));
      if (missing.length > 0) {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((topic) => ({
            topic,
            numPartitions: partitions,
            replicationFactor: 1,
            configEntries: topic === this.changelog ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
          })),
        });
      }
      const all = await admin.fetchTopicMetadata({ topics: [this.options.inputTopic, ...outputs] });
      for (const t of all.topics) this.partitionCounts.set(t.name, t.partitions.length);
    } finally {
      await admin.disconnect();
    }
  }

  private onAssignment(assigned: number[]): void {
    const keep = new Set(assigned);
    for (const partition of [...this.tasks.keys()]) if (!keep.has(partition)) void this.dropTask(partition);
    const fresh = assigned.filter((p) => !this.tasks.has(p));
    if (fresh.length > 0) this.prepareTasks(fresh);
    this.log.info({ assigned, restoring: fresh }, 'partitions assigned');
  }

  private taskFor(partition: number): Promise<Task> {
    if (!this.tasks.has(partition)) this.prepareTasks([partition]);
    return this.tasks.get(partition) as Promise<Task>;
  }

  /** Creates the tasks of newly assigned partitions and restores their state in one pass. */
  private prepareTasks(partitions: number[]): void {
    const all = (async () => {
      const created = await Promise.all(partitions.map((p) => this.createTask(p)));
      const stores = new Map(created.map((t) => [t.partition, t.context.stores as readonly StateStore[]]));
      try {
        const { records, ms } = await restoreFromChangelog(this.options.kafka, this.changelog, stores);
        this.count('restored_records', records);
        this.log.info({ partitions, records, ms }, 'state restored');
      } catch (error) {
        throw aiopsError('RESTORE_FAILED', [this.options.name, partitions.join(','), this.changelog, (error as Error).message], error);
      }
      for (const task of created) await task.processor.restored?.(task.context);
      await this.markCaughtUp(created);
      return created;
    })();
    partitions.forEach((partition, i) => {
      const task = all.then((created) => created[i] as Task);
      task.catch((error: unknown) => {
        this.log.error({ err: error, partition }, 'task preparation failed');
        this.tasks.delete(partition);
      });
      this.tasks.set(partition, task);
    });
  }

  private async createTask(partition: number): Promise<Task> {
    const { kafka, inputTopic, name } = this.options;
    const producer = kafka.producer({
      transactionalId: `${this.groupId}-${inputTopic}-${partition}`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 60_000,
    });
    await producer.connect();
    // InitProducerId with this transactional id fences a previous owner of the partition and
    // aborts its open transaction, so the changelog read next is final.
    const fence = await producer.transaction();
    await fence.abort();
    const processor = this.options.factory(partition);
    const context = new TaskContext({
      processor: name,
      topic: inputTopic,
      partition,
      clock: this.clock,
      log: this.log.child({ partition }),
      policy: this.policy,
      partitionsOf: (topic) => this.partitionCounts.get(topic) ?? 1,
      count: (counter, value) => this.count(counter, value),
    });
    await processor.init(context);
    return { partition, processor, context, producer, lock: Promise.resolve(), lastInputAt: this.clock.now(), position: undefined, pendingOffset: undefined, pendingSince: 0, committedOffset: undefined, caughtUp: false, idleDone: false, closed: false };
  }

  /** A partition whose committed offset is already at its end is caught up from the start. */
  private async markCaughtUp(tasks: Task[]): Promise<void> {
    const admin = this.options.kafka.admin();
    await admin.connect();
    try {
      // Leader elections and coordinator loading after a broker start answer with transient errors for a while.
      const [committed] = await retryKafka(`${this.options.name}: reading the committed offsets of ${this.groupId}`, () =>
        admin.fetchOffsets({ groupId: this.groupId, topics: [this.options.inputTopic] }),
      );
      const ends = await retryKafka(`${this.options.name}: reading the end offsets of ${this.options.inputTopic}`, () => admin.fetchTopicOffsets(this.options.inputTopic));
      for (const task of tasks) {
        const c = committed?.partitions.find((p) => p.partition === task.partition)?.offset ?? '-1';
        const end = ends.find((p) => p.partition === task.partition)?.high ?? '0';
        task.caughtUp = end === '0' || BigInt(c) >= BigInt(end);
        if (BigInt(c) >= 0n) {
          task.position = BigInt(c);
          task.committedOffset = c;
        }
        this.log.debug({ partition: task.partition, committed: c, end }, 'resuming');
      }
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * The messages at or after the task's position. The consumer's fetch position can move on its
   * own: kafkajs answers OFFSET_OUT_OF_RANGE (say, input deleted by retention) by committing the
   * group's default offset and starting over there. Records before the position were already
   * processed and committed with their state, so they are skipped; a jump forward means input
   * was gone before it could be processed, which is logged and counted.
   */
  private unprocessed(task: Task, messages: readonly KafkaMessage[]): readonly KafkaMessage[] {
    const first = messages[0];
    if (first === undefined || task.position === undefined) return messages;
    const position = task.position;
    if (BigInt(first.offset) > position) {
      this.count('input_gap_records', Number(BigInt(first.offset) - position));
      this.log.warn({ partition: task.partition, expected: position.toString(), got: first.offset }, 'input skipped ahead of the committed position: records in between were never processed');
      return messages;
    }
    if (BigInt(first.offset) === position) return messages;
    const rest = messages.filter((m) => BigInt(m.offset) >= position);
    this.count('reprocessing_skipped_records', messages.length - rest.length);
    this.log.warn({ partition: task.partition, position: position.toString(), got: first.offset }, 'input rewound behind the committed position: skipping records already processed');
    return rest;
  }

  private locked<T>(task: Task, work: () => Promise<T>): Promise<T> {
    const run = task.lock.then(work, work);
    task.lock = run.catch(() => undefined);
    return run;
  }

  /** Commits the task's outputs, changelog entries and the input processed so far. */
  private async commit(task: Task): Promise<void> {
    const nextOffset = task.pendingOffset;
    const { outputs, deadLetters } = task.context.take();
    const changelog: Message[] = [];
    for (const store of task.context.stores) {
      for (const [key, value] of store.drainChanges()) changelog.push({ key: changelogKey(store.name, key), value, partition: task.partition });
    }
    const byTopic = new Map<string, Message[]>();
    for (const record of [...outputs, ...deadLetters]) {
      const list = byTopic.get(record.topic) ?? [];
      list.push(toMessage(record));
      byTopic.set(record.topic, list);
    }
    if (changelog.length > 0) byTopic.set(this.changelog, changelog);
    if (byTopic.size === 0 && nextOffset === undefined) return;
    const tx = await task.producer.transaction();
    try {
      for (const topicMessages of requests(byTopic, MAX_REQUEST_BYTES)) await tx.sendBatch({ acks: -1, compression: this.compression, topicMessages });
      if (nextOffset !== undefined) {
        const offsets = { consumerGroupId: this.groupId, topics: [{ topic: this.options.inputTopic, partitions: [{ partition: task.partition, offset: nextOffset }] }] };
        await retry(() => tx.sendOffsets(offsets), {
          retries: 10,
          initialDelayMs: 50,
          shouldRetry: (error) => (error as { type?: string }).type === 'CONCURRENT_TRANSACTIONS',
          onRetry: () => this.count('concurrent_transactions_retries'),
        });
      }
      await tx.commit();
    } catch (error) {
      await tx.abort().catch(() => undefined);
      // The processor's in-memory state is now ahead of what is committed: drop the task, and
      // send the consumer back to the last committed input, so that the partition continues
      // from a fresh restore and reprocesses what the aborted transaction held.
      task.pendingOffset = undefined;
      task.pendingSince = 0;
      void this.dropTask(task.partition, false);
      const from = task.committedOffset;
      if (from !== undefined) {
        try {
          this.consumer?.seek({ topic: this.options.inputTopic, partition: task.partition, offset: from });
        } catch (seekError) {
          this.log.warn({ err: seekError, partition: task.partition }, 'could not rewind the consumer after a failed commit');
        }
      }
      throw aiopsError('TRANSACTION_FAILED', [this.options.name, task.partition, (error as Error).message], error);
    }
    if (nextOffset !== undefined) task.committedOffset = nextOffset;
    task.pendingOffset = undefined;
    task.pendingSince = 0;
    this.count('commits');
    this.count('output_records', outputs.length);
    this.count('dead_letters', deadLetters.length);
    this.count('changelog_records', changelog.length);
  }

  /** Commits input that waited out the commit interval, and runs idle work where it is due. */
  private checkIdle(): void {
    const now = this.clock.now();
    for (const pending of this.tasks.values()) {
      void pending.then(
        async (task) => {
          if (task.pendingOffset !== undefined && now - task.pendingSince >= this.commitIntervalMs) {
            await this.locked(task, async () => {
              if (!task.closed && task.pendingOffset !== undefined) await this.commit(task);
            });
          }
          if (task.closed || task.idleDone || !task.caughtUp || !task.processor.idle) return;
          if (now - task.lastInputAt < this.idleTimeoutMs) return;
          task.idleDone = true;
          await this.locked(task, async () => {
            if (task.closed) return;
            this.log.debug({ partition: task.partition, position: task.position?.toString(), lag: this.lag.get(task.partition) }, 'partition idle');
            await task.processor.idle?.(task.context);
            await this.commit(task);
          });
        },
        () => undefined,
      ).catch((error: unknown) => this.log.error({ err: error }, 'idle work failed'));
    }
  }

  /**
   * Closes a partition's task. Work processed but not committed is committed first when
   * `commitPending` (a revoked partition or a clean stop); if that fails (a new owner fenced the
   * producer), the new owner reprocesses it.
   */
  private async dropTask(partition: number, commitPending = true): Promise<void> {
    const pending = this.tasks.get(partition);
    if (!pending) return;
    this.tasks.delete(partition);
    const task = await pending.catch(() => undefined);
    if (!task || task.closed) return;
    if (commitPending) {
      await this.locked(task, async () => {
        if (!task.closed && task.pendingOffset !== undefined) await this.commit(task);
      }).catch((error: unknown) => this.log.warn({ err: error, partition }, 'commit of the last processed input failed; its next owner reprocesses it'));
    }
    task.closed = true;
    await task.lock;
    await Promise.resolve(task.processor.close()).catch((error: unknown) => this.log.warn({ err: error, partition }, 'close failed'));
    await task.producer.disconnect().catch(() => undefined);
  }

  private dropAll(): void {
    for (const partition of [...this.tasks.keys()]) void this.dropTask(partition);
  }
}

/**
 * Bytes of record keys and values per produce request. kafkajs sends a request's messages for one
 * partition as one record batch, and the broker refuses batches over `message.max.bytes` (1 MB by
 * default); a commit holding more (a large batch's changelog) goes out in several requests of
 * the same transaction.
 */
const MAX_REQUEST_BYTES = 512 * 1024;

/** Splits a commit's messages into produce requests of at most about `limit` bytes each. */
export function requests(byTopic: ReadonlyMap<string, readonly Message[]>, limit: number): { topic: string; messages: Message[] }[][] {
  const out: { topic: string; messages: Message[] }[][] = [];
  let current: { topic: string; messages: Message[] }[] = [];
  let bytes = 0;
  for (const [topic, messages] of byTopic) {
    let entry: { topic: string; messages: Message[] } | undefined;
    for (const message of messages) {
      const size = sizeOf(message.key) + sizeOf(message.value) + 64;
      if (bytes + size > limit && bytes > 0) {
        out.push(current);
        current = [];
        bytes = 0;
        entry = undefined;
      }
      if (!entry) {
        entry = { topic, messages: [] };
        current.push(entry);
      }
      entry.messages.push(message);
      bytes += size;
    }
  }
  if (current.length > 0) out.push(current);
  return out;
}

function sizeOf(data: Message['key'] | Message['value']): number {
  if (data === null || data === undefined) return 0;
  return typeof data === 'string' ? Buffer.byteLength(data) : data.length;
}

function toInput(topic: string, partition: number, m: KafkaMessage): InputRecord {
  return { topic, partition, offset: m.offset, key: m.key, value: m.value, timestamp: m.timestamp, headers: m.headers };
}

function toMessage(record: OutputRecord): Message {
  const message: Message = { key: record.key, value: record.value };
  if (record.partition !== undefined) message.partition = record.partition;
  if (record.headers) message.headers = { ...record.headers };
  return message;
}

/**
 * A kafkajs client for platform processes, logging through pino. `target` is a validated
 * connection (`kafkaConnectionFromEnv`: TLS, SASL) or a plain broker list (plaintext). kafkajs
 * reports retriable broker answers (a coordinator still loading, a concurrent transaction) at
 * error level although it retries them; they are logged as warnings, and what really fails
 * surfaces through the runner.
 */
export function processKafka(target: KafkaConnection | readonly string[], clientId: string, log: Logger = createLogger('kafkajs')): Kafka {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
  // snappy, lz4 and zstd input (the collector's and other producers' defaults) besides gzip.
  registerKafkaCodecs();
  const connection = asConnection(target);
  const logCreator = () => (entry: { level: number; log: { message: string } & Record<string, unknown> }) => {
    const { message, ...rest } = entry.log;
    // A transaction begun right after the previous commit meets CONCURRENT_TRANSACTIONS until
    // the broker has written the commit markers; kafkajs retries it, as it should.
    const routine = typeof rest.error === 'string' && rest.error.includes('another concurrent operation on the same transaction') || message.includes('another concurrent operation on the same transaction');
    if (entry.level <= logLevel.WARN && !routine) log.warn(rest, message);
    else log.debug(rest, message);
  };
  return createKafka(connection, { clientId, logLevel: logLevel.WARN, logCreator });
}
