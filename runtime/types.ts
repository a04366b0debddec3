import type { Logger } from 'pino';

/** A record read from a topic, as a processor sees it. */
export interface InputRecord {
  /** Topic it was read from. */
  readonly topic: string;
  /** Partition it was read from. */
  readonly partition: number;
  /** Its offset, as Kafka clients render it (a decimal string). */
  readonly offset: string;
  /** Its key, or null. */
  readonly key: Buffer | null;
  /** Its value, or null (a tombstone). */
  readonly value: Buffer | null;
  /** Producer or broker timestamp, Unix ms as a decimal string. */
  readonly timestamp: string;
  /** Its headers. */
  readonly headers?: Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>>;
}

/** A record a processor emits; it is written in the same transaction as the input's offsets. */
export interface OutputRecord {
  /** Destination topic. */
  readonly topic: string;
  /** Key; records with the same key land on the same partition. */
  readonly key: Buffer | string | null;
  /** Value, or null for a tombstone. */
  readonly value: Buffer | null;
  /** Explicit partition (e.g. to broadcast a watermark to every partition). */
  readonly partition?: number;
  /** Headers. */
  readonly headers?: Readonly<Record<string, string | Buffer>>;
}

/** Where the time comes from: the wall clock in production, a controlled one in tests. */
export interface Clock {
  /** Current time, Unix ms. */
  now(): number;
}

/** State a processor keeps for one input partition, made durable through a changelog topic. */
export interface StateStore {
  /** Store name, unique within a processor; prefixes its keys in the changelog. */
  readonly name: string;
  /** Changelog entries for everything changed since the last call (null value: deleted). */
  drainChanges(): Iterable<readonly [key: string, value: Buffer | null]>;
  /** Applies one changelog entry while the partition's state is restored. */
  restore(key: string, value: Buffer | null): void;
  /** Forgets everything (before a restore). */
  clear(): void;
  /** Approximate bytes held, for telemetry. */
  sizeBytes(): number;
  /** Number of entries, for telemetry. */
  size(): number;
}

/** What a bad record meets: dead-lettered, skipped (and counted), or a stop of the processor. */
export type BadRecordPolicy = 'dead-letter' | 'skip' | 'fail';

/** Counters a processor reports through its context; the runner exports them as metrics. */
export interface ProcessorCounters {
  /** Adds to a named counter (e.g. 'points', 'late_points', 'series_limited'). */
  add(name: string, value?: number): void;
}

/** What a processor instance (one per input partition) gets from the runner. */
export interface ProcessorContext {
  /** Input topic. */
  readonly topic: string;
  /** Input partition this instance owns. */
  readonly partition: number;
  /** Partitions of each output topic, for explicit partitioning. */
  partitionsOf(topic: string): number;
  /** Emits a record, written in the transaction that commits the current input. */
  emit(record: OutputRecord): void;
  /** Hands a record the processor cannot use to the bad-record policy, with the reason. */
  reject(record: InputRecord, reason: string, cause?: unknown): void;
  /** Registers a store (at init); its state is restored before the first record arrives. */
  register<S extends StateStore>(store: S): S;
  readonly clock: Clock;
  readonly log: Logger;
  readonly counters: ProcessorCounters;
}

/** A stream processor, instantiated once per input partition (a task). */
export interface Processor {
  /** Registers stores and reads configuration; called before restore. */
  init(context: ProcessorContext): void | Promise<void>;
  /** Called once the partition's state is restored, before the first batch. */
  restored?(context: ProcessorContext): void | Promise<void>;
  /** Processes one batch of records of the partition, in offset order. */
  process(records: readonly InputRecord[], context: ProcessorContext): void | Promise<void>;
  /**
   * Called when the partition is caught up and no record arrived for the idle timeout, so
   * time-based work (closing event-time buckets) can happen without new input.
   */
  idle?(context: ProcessorContext): void | Promise<void>;
  /** Releases resources; state is not flushed here (the last commit made it durable). */
  close(): void | Promise<void>;
}

/** Builds the processor instance of one input partition. */
export type ProcessorFactory = (partition: number) => Processor;
