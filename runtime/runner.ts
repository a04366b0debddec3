import type { Consumer, ConsumerRunConfig } from 'kafkajs';
import { systemClock } from './clock.js';
import { aiopsError } from './errors.js';
import { classifyKafkaError, connectionOf, verifyKafka } from './kafka-connect.js';
import { createLogger } from './logger.js';
import type { Logger } from './logger.js';
import { compressionFromEnv } from './kafka-codecs.js';
import { retryKafka } from './retry.js';
import { KnownBadRecords, RecordRollback, withoutKnownBad } from './rollback.js';
import { BrokerHealth, watchConsumer } from './runner/broker-health.js';
import { toInput } from './runner/commit-requests.js';
import { restartConsumer, restartableCrash } from './runner/consumer-restart.js';
import { commitMessages, sendTransaction } from './runner/transaction.js';
import { maxRecordBytesFromEnv } from './runner/options.js';
import type { RunnerOptions, RunnerStats } from './runner/options.js';
import { skippedInputReport, unprocessed, withinSizeLimit } from './runner/input-filter.js';
import { committedPositions, ensureProcessorTopics } from './runner/topics.js';
import { changelogTopic, restoreFromChangelog } from './state/changelog.js';
import { TaskContext } from './task-context.js';
import { fencedProducer, groupConsumer, locked, runnerStats } from './runner/task.js';
import type { Task } from './runner/task.js';
import type { BadRecordPolicy, Clock, StateStore } from './types.js';

export { processKafka } from './runner/process-kafka.js';
export type { RunnerOptions, RunnerStats } from './runner/options.js';

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
  private readonly commitWhenCaughtUp: boolean;
  /** kafkajs compression type of every output batch (AIOPS_KAFKA_COMPRESSION). */
  private readonly compression: number;
  private readonly maxRecordBytes: number;
  private readonly tasks = new Map<number, Promise<Task>>();
  private readonly counters = new Map<string, number>();
  private readonly lag = new Map<number, number>();
  private readonly partitionCounts = new Map<string, number>();
  private consumer: Consumer | undefined;
  /** The consumer's run configuration, to run it again after a crash kafkajs does not restart. */
  private runConfig: ConsumerRunConfig | undefined;
  private restarting = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private running = false;
  private joined = false;
  private fatal: Error | undefined;
  private readonly health: BrokerHealth;
  private readonly knownBad = new KnownBadRecords();

  constructor(private readonly options: RunnerOptions) {
    this.groupId = options.groupId ?? `aiops.${options.name}`;
    this.changelog = changelogTopic(options.name);
    this.log = options.log ?? createLogger(`aiops.${options.name}`);
    this.clock = options.clock ?? systemClock;
    this.policy = options.badRecordPolicy ?? 'dead-letter';
    this.idleTimeoutMs = options.idleTimeoutMs ?? 2_000;
    this.commitIntervalMs = options.commitIntervalMs ?? 1_000;
    this.commitWhenCaughtUp = options.commitWhenCaughtUp ?? true;
    this.compression = compressionFromEnv().type;
    this.maxRecordBytes = options.maxRecordBytes ?? maxRecordBytesFromEnv();
    this.health = new BrokerHealth(this.clock, options.brokerStaleMs);
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
    const consumer = groupConsumer(kafka, this.groupId, this.options);
    this.consumer = consumer;
    watchConsumer(consumer, this.health);
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
      if (restartableCrash(event.payload.restart, event.payload.error) && this.runConfig) this.restartAfterCrash(consumer, this.runConfig);
      else if (!event.payload.restart) this.fatal = event.payload.error;
      this.dropAll();
    });
    await consumer.connect();
    await consumer.subscribe({ topic: inputTopic, fromBeginning: this.options.fromBeginning ?? true });
    this.running = true;
    this.runConfig = {
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 4,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (!isRunning() || isStale()) return;
        const task = await this.taskFor(batch.partition);
        const last = batch.lastOffset();
        const processed = await locked(task, async () => {
          if (task.closed) throw new Error(`partition ${batch.partition} was revoked`);
          if (this.log.isLevelEnabled('trace')) this.log.trace({ partition: batch.partition, first: batch.firstOffset(), last, position: task.position?.toString() }, 'batch');
          const all = unprocessed(task.position, batch.messages, skippedInputReport(task.partition, this.log, (name, n) => this.count(name, n))).map((m) => toInput(batch.topic, batch.partition, m));
          if (all.length === 0) return true;
          this.count('records', all.length);
          this.count('batches');
          task.lastInputAt = this.clock.now();
          task.idleDone = false;
          task.committedOffset ??= all[0]?.offset;
          const records = withoutKnownBad(withinSizeLimit(all, this.maxRecordBytes, task.context, () => this.count('oversized_records')), this.knownBad.of(task.partition), task.context);
          try {
            if (records.length > 0) await task.processor.process(records, task.context);
          } catch (error) {
            if (!(error instanceof RecordRollback)) throw error;
            this.rollBack(task, error);
            return false;
          }
          task.position = BigInt(last) + 1n;
          task.pendingOffset = task.position.toString();
          if (task.pendingSince === 0) task.pendingSince = this.clock.now();
          // Caught up: commit at once (a record at a low rate waits for its own transaction
          // only). Behind: once the interval has passed, so a backlog shares transactions.
          const caughtUp = BigInt(batch.offsetLag()) <= 0n;
          if ((caughtUp && this.commitWhenCaughtUp) || this.clock.now() - task.pendingSince >= this.commitIntervalMs) await this.commit(task);
          return true;
        });
        if (!processed) return;
        resolveOffset(last);
        await heartbeat();
      },
    };
    await consumer.run(this.runConfig);
    this.idleTimer = setInterval(() => this.checkIdle(), Math.max(20, Math.min(1_000, this.idleTimeoutMs / 4, this.commitIntervalMs || 1_000)));
  }

  /** Runs the crashed consumer again (runner/consumer-restart.ts); one restart at a time. */
  private restartAfterCrash(consumer: Consumer, config: ConsumerRunConfig): void {
    if (this.restarting) return;
    this.restarting = true;
    this.joined = false;
    this.count('consumer_restarts');
    this.log.warn('consumer crashed on a transient broker error: restarting it');
    restartConsumer(this.options.name, consumer, config, () => this.running, this.log)
      .catch((error: unknown) => {
        this.fatal = error as Error;
        this.log.error({ err: error }, 'consumer could not be restarted');
      })
      .finally(() => {
        this.restarting = false;
      });
  }

  /**
   * True once the group is joined and every assigned partition's state is restored, and while
   * the broker answers: false from a failed fetch, heartbeat or commit (or none for
   * `brokerStaleMs`) until the next successful one.
   */
  async ready(): Promise<boolean> {
    if (!this.running || !this.joined || this.fatal || this.health.problem() !== undefined) return false;
    const settled = await Promise.allSettled([...this.tasks.values()]);
    return settled.every((s) => s.status === 'fulfilled');
  }

  /** Why the broker counts as unreachable right now (for /ready's body), or undefined. */
  brokerProblem(): string | undefined {
    return this.health.problem();
  }

  /** The error that stopped the runner for good, if one did. */
  failure(): Error | undefined {
    return this.fatal;
  }

  async stats(): Promise<RunnerStats> {
    return runnerStats(this.tasks.values(), this.counters, this.lag);
  }

  /** Leaves the group after the batch in flight, then closes every task. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.idleTimer) clearInterval(this.idleTimer);
    await this.consumer?.disconnect();
    await Promise.all([...this.tasks.keys()].map((p) => this.dropTask(p)));
  }

  /** Creates and checks the topics, waiting out a broker that is starting (AIOPS_ERR_KAFKA_NOT_READY after the deadline). */
  private async ensureTopics(): Promise<void> {
    await retryKafka(`${this.options.name}: creating and checking its topics`, () => this.ensureTopicsOnce(), {
      onRetry: (error, attempt, delayMs) => this.log.warn({ attempt, delayMs, error: (error as Error).message }, 'broker not ready for topic creation; retrying'),
    });
  }

  private async ensureTopicsOnce(): Promise<void> {
    const counts = await ensureProcessorTopics(this.options.kafka, {
      inputTopic: this.options.inputTopic,
      outputTopics: this.options.outputTopics ?? [],
      changelog: this.changelog,
      deadLetters: this.policy === 'dead-letter',
    });
    for (const [topic, n] of counts) this.partitionCounts.set(topic, n);
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
    const producer = await fencedProducer(kafka, `${this.groupId}-${inputTopic}-${partition}`);
    const processor = this.options.factory(partition);
    const context = new TaskContext({
      processor: name,
      topic: inputTopic,
      partition,
      clock: this.clock,
      log: this.log.child({ partition }),
      policy: this.policy,
      partitionsOf: (topic) => this.partitionCounts.get(topic) ?? 1,
    });
    await processor.init(context);
    return { partition, processor, context, producer, lock: Promise.resolve(), lastInputAt: this.clock.now(), position: undefined, pendingOffset: undefined, pendingSince: 0, committedOffset: undefined, caughtUp: false, idleDone: false, closed: false };
  }

  /** A partition whose committed offset is already at its end is caught up from the start. */
  private async markCaughtUp(tasks: Task[]): Promise<void> {
    const positions = await committedPositions(this.options.kafka, this.options.name, this.groupId, this.options.inputTopic);
    for (const task of tasks) {
      const { committed, end } = positions.get(task.partition) ?? { committed: '-1', end: '0' };
      task.caughtUp = end === '0' || BigInt(committed) >= BigInt(end);
      if (BigInt(committed) >= 0n) {
        task.position = BigInt(committed);
        task.committedOffset = committed;
      }
      this.log.debug({ partition: task.partition, committed, end }, 'resuming');
    }
  }

  /** After a record failed half-way: remember it as bad, drop the task uncommitted, rewind to the last commit. */
  private rollBack(task: Task, error: RecordRollback): void {
    this.count('rollbacks');
    this.log.warn({ partition: task.partition, offset: error.record.offset, reason: error.reason }, 'record failed half-way: rolling the partition back to its last commit');
    this.knownBad.add(error);
    task.pendingOffset = undefined;
    task.pendingSince = 0;
    void this.dropTask(task.partition, false);
    if (task.committedOffset !== undefined) this.consumer?.seek({ topic: this.options.inputTopic, partition: task.partition, offset: task.committedOffset });
  }

  /** Commits the task's outputs, changelog entries and the input processed so far. */
  private async commit(task: Task): Promise<void> {
    const nextOffset = task.pendingOffset;
    const { byTopic, outputs, deadLetters, changelog, counts } = commitMessages(task.context, this.changelog);
    const addCounts = (): void => counts.forEach((value, name) => this.count(name, value));
    if (byTopic.size === 0 && nextOffset === undefined) return addCounts();
    const offsets = nextOffset === undefined ? undefined : { consumerGroupId: this.groupId, topics: [{ topic: this.options.inputTopic, partitions: [{ partition: task.partition, offset: nextOffset }] }] };
    const started = this.clock.now();
    try {
      await sendTransaction(task.producer, byTopic, offsets, this.compression, () => this.count('concurrent_transactions_retries'));
    } catch (error) {
      this.health.failed(`commit failed: ${(error as Error).message}`);
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
    this.health.succeeded();
    addCounts();
    this.count('commit_ms', this.clock.now() - started);
    if (nextOffset !== undefined) {
      task.committedOffset = nextOffset;
      this.knownBad.committed(task.partition, nextOffset);
    }
    task.pendingOffset = undefined;
    task.pendingSince = 0;
    this.count('commits');
    this.count('output_records', outputs);
    this.count('dead_letters', deadLetters);
    this.count('changelog_records', changelog);
  }

  /** Commits input that waited out the commit interval, and runs idle work where it is due. */
  private checkIdle(): void {
    const now = this.clock.now();
    for (const pending of this.tasks.values()) {
      void pending.then(
        async (task) => {
          if (task.pendingOffset !== undefined && now - task.pendingSince >= this.commitIntervalMs) {
            await locked(task, async () => {
              if (!task.closed && task.pendingOffset !== undefined) await this.commit(task);
            });
          }
          if (task.closed || task.idleDone || !task.caughtUp || !task.processor.idle) return;
          if (now - task.lastInputAt < this.idleTimeoutMs) return;
          task.idleDone = true;
          await locked(task, async () => {
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
      await locked(task, async () => {
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
