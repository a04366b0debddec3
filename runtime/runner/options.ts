import type { Kafka } from 'kafkajs';
import { aiopsError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { BadRecordPolicy, Clock, ProcessorFactory } from '../types.js';

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
   * How long processed input may wait for its transaction (default 1 s). Batches processed
   * within the interval share one transaction, and a state key changed by several of them is
   * written to the changelog once. 0 commits every batch.
   */
  readonly commitIntervalMs?: number;
  /**
   * Commit a batch at once when it leaves its partition caught up (default true): the commit
   * interval then only groups the batches of a partition that is behind, and a record at a low
   * rate waits for its own transaction alone.
   */
  readonly commitWhenCaughtUp?: boolean;
  /**
   * Largest input record (key plus value, after decompression) handed to the processor (default
   * AIOPS_KAFKA_MAX_RECORD_BYTES, else 4 MiB). A larger one meets the bad-record policy with its
   * size in the reason; its dead letter keeps the key and headers but not the value.
   */
  readonly maxRecordBytes?: number;
  /**
   * How long without a successful broker round trip (fetch, heartbeat, commit) `/ready` still
   * answers ready (default 10000 ms). A failed one makes it not ready at once.
   */
  readonly brokerStaleMs?: number;
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

/** What the runner has done, for telemetry and tests. */
export interface RunnerStats {
  readonly counters: Readonly<Record<string, number>>;
  readonly partitions: number[];
  readonly stateEntries: number;
  readonly stateBytes: number;
  readonly lag: Readonly<Record<number, number>>;
}
