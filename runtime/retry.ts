import { aiopsError, isRetriable } from './errors.js';
import { classifyKafkaError } from './kafka-connect.js';

/** How one retried operation backs off. */
export interface RetryOptions {
  /** Attempts in all, the first included (default 8). */
  readonly retries?: number;
  /** First delay in ms (default 100). */
  readonly initialDelayMs?: number;
  /** Upper bound for one delay in ms (default 10 000). */
  readonly maxDelayMs?: number;
  /** Growth of the delay per attempt (default 2). */
  readonly factor?: number;
  /** Random share of each delay, 0..1, so that many clients do not retry in step (default 0.2). */
  readonly jitter?: number;
  /** Decides whether an error is worth another attempt (default: its `retriable` flag). */
  readonly shouldRetry?: (error: unknown, attempt: number) => boolean;
  /** Called before each wait; for logging. */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Stops retrying when aborted. */
  readonly signal?: AbortSignal;
  /** Source of randomness for the jitter, injectable for tests. */
  readonly random?: () => number;
  /** How to wait, injectable for tests. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Stop retrying once this many ms have passed since the first attempt (default: no limit; `retries` still applies). */
  readonly deadlineMs?: number;
  /** The clock the deadline is measured with, injectable for tests (default Date.now). */
  readonly now?: () => number;
}

/** The delay before retry number `attempt` (1-based): exponential, capped, with jitter. */
export function backoffDelay(attempt: number, options: RetryOptions = {}): number {
  const initial = options.initialDelayMs ?? 100;
  const max = options.maxDelayMs ?? 10_000;
  const factor = options.factor ?? 2;
  const jitter = options.jitter ?? 0.2;
  const random = options.random ?? Math.random;
  const base = Math.min(max, initial * factor ** (attempt - 1));
  const spread = base * jitter;
  return Math.max(0, Math.round(base - spread + 2 * spread * random()));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `operation` until it succeeds, the error is not worth retrying, or the attempts run out;
 * then rethrows the last error. The one retry helper every component uses.
 */
export async function retry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.retries ?? 8;
  const shouldRetry = options.shouldRetry ?? ((error: unknown) => isRetriable(error));
  const wait = options.sleep ?? sleep;
  const now = options.now ?? Date.now;
  const started = now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (attempt >= attempts || options.signal?.aborted || !shouldRetry(error, attempt)) throw error;
      let delay = backoffDelay(attempt, options);
      if (options.deadlineMs !== undefined) {
        const left = started + options.deadlineMs - now();
        if (left <= 0) throw error;
        // The last wait ends at the deadline, so the final attempt is made just in time.
        delay = Math.min(delay, left);
      }
      options.onRetry?.(error, attempt, delay);
      await wait(delay, options.signal);
    }
  }
}

/**
 * Error types of the Kafka protocol that a starting, restarting or overloaded broker gives for a
 * while: topics and partitions whose metadata or leaders are not there yet, coordinators still
 * loading, requests that timed out.
 */
export const transientKafkaErrorTypes: ReadonlySet<string> = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'GROUP_LOAD_IN_PROGRESS',
  'COORDINATOR_NOT_AVAILABLE',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'NOT_COORDINATOR_FOR_GROUP',
  'REQUEST_TIMED_OUT',
  'NOT_CONTROLLER',
  'NOT_ENOUGH_REPLICAS',
  'NETWORK_EXCEPTION',
  'REPLICA_NOT_AVAILABLE',
]);

// kafkajs errors (by name) that mean the broker is not reachable or not ready yet.
const transientKafkaErrorNames = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSLockTimeout',
]);

interface KafkaErrorLike {
  readonly name?: unknown;
  readonly type?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
  readonly originalError?: unknown;
  readonly errors?: unknown;
}

/** The error and everything it wraps (cause, originalError, the parts of an aggregate). */
function errorTree(error: unknown): KafkaErrorLike[] {
  const out: KafkaErrorLike[] = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && out.length < 32) {
    const current = queue.shift();
    if (!current || typeof current !== 'object' || out.includes(current as KafkaErrorLike)) continue;
    const e = current as KafkaErrorLike;
    out.push(e);
    queue.push(e.cause, e.originalError);
    if (Array.isArray(e.errors)) queue.push(...(e.errors as unknown[]));
  }
  return out;
}

/**
 * True when a Kafka error (or anything it wraps: kafkajs puts the broker's answer inside
 * KafkaJSNumberOfRetriesExceeded, KafkaJSNonRetriableError and aggregate errors) is one a broker
 * gives while it starts, restarts or is overloaded. Authentication, TLS, authorization and
 * invalid-request errors are not.
 */
export function isTransientKafkaError(error: unknown): boolean {
  // Wrong credentials or certificates (often inside a connection error) are not cured by waiting.
  if (classifyKafkaError(error) !== undefined) return false;
  const tree = errorTree(error);
  if (tree.some((e) => e.name === 'AiopsError')) return false;
  return tree.some(
    (e) =>
      (typeof e.type === 'string' && transientKafkaErrorTypes.has(e.type)) ||
      (typeof e.name === 'string' && transientKafkaErrorNames.has(e.name)) ||
      (typeof e.message === 'string' && /Timed out while waiting for topic leaders|This server does not host this topic-partition/.test(e.message)),
  );
}

/** The broker's error type found in an error tree, for messages and logs. */
export function kafkaErrorType(error: unknown): string {
  const tree = errorTree(error);
  const typed = tree.find((e) => typeof e.type === 'string' && transientKafkaErrorTypes.has(e.type));
  if (typed) return String(typed.type);
  const named = tree.find((e) => typeof e.name === 'string' && transientKafkaErrorNames.has(e.name));
  return String(named?.name ?? tree[0]?.name ?? 'error');
}

/** A transient broker answer, or an error kafkajs itself marks retriable, but never wrong credentials or certificates. */
function worthWaiting(error: unknown): boolean {
  if (classifyKafkaError(error) !== undefined) return false;
  return isTransientKafkaError(error) || isRetriable(error);
}

/** How long start-up and metadata operations wait out a broker that is not ready (ms). */
export const kafkaStartupDeadlineMs = 120_000;

/** Options of {@link retryKafka}: those of {@link retry}, the deadline defaulting to {@link kafkaStartupDeadlineMs}. */
export type KafkaRetryOptions = Omit<RetryOptions, 'shouldRetry'>;

/**
 * Runs a Kafka admin or metadata operation (topic creation, metadata, offset lookups), waiting out
 * the transient errors of {@link isTransientKafkaError} (and any other error kafkajs marks
 * retriable) with backoff until the deadline (default
 * {@link kafkaStartupDeadlineMs}); then throws AIOPS_ERR_KAFKA_NOT_READY naming what was tried, for
 * how long and the broker's last answer. Other errors are thrown at once, as they are. The
 * operation must be safe to repeat.
 */
export async function retryKafka<T>(what: string, operation: (attempt: number) => Promise<T>, options: KafkaRetryOptions = {}): Promise<T> {
  const deadlineMs = options.deadlineMs ?? kafkaStartupDeadlineMs;
  const now = options.now ?? Date.now;
  const started = now();
  let attempts = 0;
  try {
    return await retry(
      (attempt) => {
        attempts = attempt;
        return operation(attempt);
      },
      { retries: Number.MAX_SAFE_INTEGER, initialDelayMs: 250, maxDelayMs: 5_000, ...options, deadlineMs, now, shouldRetry: worthWaiting },
    );
  } catch (error) {
    if (!worthWaiting(error) || options.signal?.aborted) throw error;
    throw aiopsError('KAFKA_NOT_READY', [what, attempts, now() - started, kafkaErrorType(error), (error as Error).message], error);
  }
}
