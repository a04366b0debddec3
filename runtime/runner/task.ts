import type { Consumer, Kafka, Producer } from 'kafkajs';
import type { RunnerOptions, RunnerStats } from './options.js';
import type { TaskContext } from '../task-context.js';
import type { Processor } from '../types.js';

/** One input partition's processor, context, transactional producer and position. */
export interface Task {
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

/** Runs `work` after everything queued on the task before it, whether that failed or not. */
export function locked<T>(task: Task, work: () => Promise<T>): Promise<T> {
  const run = task.lock.then(work, work);
  task.lock = run.catch(() => undefined);
  return run;
}

/**
 * A connected transactional producer. InitProducerId with this transactional id fences a
 * previous owner of the partition and aborts its open transaction, so the changelog read next
 * is final.
 */
export async function fencedProducer(kafka: Kafka, transactionalId: string): Promise<Producer> {
  const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 60_000 });
  await producer.connect();
  const fence = await producer.transaction();
  await fence.abort();
  return producer;
}

/** The consumer of a processor's group: read_committed, offsets committed by the transactions. */
export function groupConsumer(kafka: Kafka, groupId: string, options: Pick<RunnerOptions, 'maxBytesPerPartition' | 'sessionTimeoutMs'>): Consumer {
  const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
  return kafka.consumer({
    groupId,
    readUncommitted: false,
    maxBytesPerPartition: options.maxBytesPerPartition ?? 4 * 1024 * 1024,
    maxWaitTimeInMs: 200,
    sessionTimeout,
    heartbeatInterval: Math.max(500, Math.floor(sessionTimeout / 10)),
    rebalanceTimeout: 60_000,
  });
}

/** Counters, lag, and the partitions and state size of the tasks that are ready. */
export async function runnerStats(tasks: Iterable<Promise<Task>>, counters: ReadonlyMap<string, number>, lag: ReadonlyMap<number, number>): Promise<RunnerStats> {
  let stateEntries = 0;
  let stateBytes = 0;
  const partitions: number[] = [];
  for (const pending of [...tasks]) {
    const task = await pending.catch(() => undefined);
    if (!task) continue;
    partitions.push(task.partition);
    for (const store of task.context.stores) {
      stateEntries += store.size();
      stateBytes += store.sizeBytes();
    }
  }
  return { counters: Object.fromEntries(counters), partitions: partitions.sort((a, b) => a - b), stateEntries, stateBytes, lag: Object.fromEntries(lag) };
}
