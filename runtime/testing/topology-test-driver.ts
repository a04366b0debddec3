import pino from 'pino';
import { ManualClock } from '../clock.js';
import { changelogKey, splitChangelogKey } from '../state/changelog.js';
import { RecordRollback, withoutKnownBad } from '../rollback.js';
import { TaskContext } from '../task-context.js';
import type { BadRecordPolicy, InputRecord, OutputRecord, Processor, ProcessorFactory } from '../types.js';

export interface DriverOptions {
  readonly name: string;
  readonly inputTopic: string;
  readonly factory: ProcessorFactory;
  readonly policy?: BadRecordPolicy;
  readonly clock?: ManualClock;
  /** Partition counts of output topics (default 1 each). */
  readonly partitions?: Readonly<Record<string, number>>;
}

interface DriverTask {
  processor: Processor;
  context: TaskContext;
  nextOffset: bigint;
}

/**
 * Runs a processor in-process, one task per partition, with the runner's semantics: a batch's
 * outputs and state changes are "committed" together into in-memory topics and an in-memory
 * changelog, and `restart` rebuilds a task from that changelog as a new owner would.
 */
export class TopologyTestDriver {
  readonly clock: ManualClock;
  readonly counters = new Map<string, number>();
  private readonly tasks = new Map<number, DriverTask>();
  private readonly committed: OutputRecord[] = [];
  private readonly changelog = new Map<number, Map<string, Buffer | null>>();

  constructor(private readonly options: DriverOptions) {
    this.clock = options.clock ?? new ManualClock(0);
  }

  /** Processes records on a partition as one batch, then commits. */
  async pipe(partition: number, values: readonly (Buffer | { key?: Buffer | null; value: Buffer | null; timestamp?: number })[]): Promise<void> {
    const task = await this.task(partition);
    const records: InputRecord[] = values.map((v) => {
      const item = Buffer.isBuffer(v) ? { key: null, value: v } : v;
      const offset = task.nextOffset++;
      const ts = 'timestamp' in item && item.timestamp !== undefined ? item.timestamp : this.clock.now();
      return { topic: this.options.inputTopic, partition, offset: offset.toString(), key: item.key ?? null, value: item.value, timestamp: String(ts) };
    });
    this.commit(partition, await this.processRollingBack(partition, task, records));
  }

  /**
   * Processes a batch as the runner does: a record found bad half-way (RecordRollback) rolls
   * the partition back to its last commit (a fresh task restored from the changelog) and the
   * batch is processed again with that record rejected. Returns the task that processed it.
   */
  private async processRollingBack(partition: number, first: DriverTask, records: InputRecord[]): Promise<DriverTask> {
    const known = new Map<string, { reason: string; cause?: unknown }>();
    let task = first;
    for (;;) {
      try {
        await task.processor.process(withoutKnownBad(records, known, task.context), task.context);
        return task;
      } catch (error) {
        if (!(error instanceof RecordRollback)) throw error;
        known.set(error.record.offset, { reason: error.reason, cause: error.cause });
        this.counters.set('rollbacks', (this.counters.get('rollbacks') ?? 0) + 1);
        await this.restart(partition);
        task = await this.task(partition);
      }
    }
  }

  /** Runs the processor's idle work on a partition, then commits. */
  async idle(partition: number): Promise<void> {
    const task = await this.task(partition);
    await task.processor.idle?.(task.context);
    this.commit(partition, task);
  }

  /** Drops the partition's task (uncommitted work is lost) and restores a new one from the changelog. */
  async restart(partition: number): Promise<void> {
    const old = this.tasks.get(partition);
    if (old) await old.processor.close();
    this.tasks.delete(partition);
    const task = await this.task(partition);
    task.nextOffset = old?.nextOffset ?? 0n;
  }

  /** Committed output records, optionally of one topic. */
  outputs(topic?: string): OutputRecord[] {
    return topic === undefined ? [...this.committed] : this.committed.filter((r) => r.topic === topic);
  }

  /** Bytes the changelog holds for a partition (latest value per key). */
  changelogBytes(partition: number): number {
    let n = 0;
    for (const [k, v] of this.changelog.get(partition) ?? []) n += k.length + (v?.length ?? 0);
    return n;
  }

  async close(): Promise<void> {
    for (const task of this.tasks.values()) await task.processor.close();
    this.tasks.clear();
  }

  private async task(partition: number): Promise<DriverTask> {
    const existing = this.tasks.get(partition);
    if (existing) return existing;
    const processor = this.options.factory(partition);
    const context = new TaskContext({
      processor: this.options.name,
      topic: this.options.inputTopic,
      partition,
      clock: this.clock,
      log: pino({ level: process.env.AIOPS_LOG_LEVEL ?? 'silent' }),
      policy: this.options.policy ?? 'dead-letter',
      partitionsOf: (topic) => this.options.partitions?.[topic] ?? 1,
    });
    await processor.init(context);
    const byName = new Map(context.stores.map((s) => [s.name, s]));
    for (const [raw, value] of this.changelog.get(partition) ?? []) {
      const [store, key] = splitChangelogKey(raw);
      byName.get(store)?.restore(key, value);
    }
    await processor.restored?.(context);
    const task = { processor, context, nextOffset: 0n };
    this.tasks.set(partition, task);
    return task;
  }

  private commit(partition: number, task: DriverTask): void {
    const { outputs, deadLetters, counts } = task.context.take();
    this.committed.push(...outputs, ...deadLetters);
    for (const [name, value] of counts) this.counters.set(name, (this.counters.get(name) ?? 0) + value);
    const log = this.changelog.get(partition) ?? new Map<string, Buffer | null>();
    for (const store of task.context.stores) {
      for (const [key, value] of store.drainChanges()) {
        if (value === null) log.delete(changelogKey(store.name, key));
        else log.set(changelogKey(store.name, key), value);
      }
    }
    this.changelog.set(partition, log);
  }
}
