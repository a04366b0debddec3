import type { Message, Producer } from 'kafkajs';
import { retry } from '../retry.js';
import { changelogKey } from '../state/changelog.js';
import type { TaskContext } from '../task-context.js';
import { MAX_REQUEST_BYTES, requests, toMessage } from './commit-requests.js';

/** What one commit of a task writes, by topic, and how many of each kind. */
export interface CommitMessages {
  readonly byTopic: Map<string, Message[]>;
  readonly outputs: number;
  readonly deadLetters: number;
  readonly changelog: number;
  /** The processor's counts, to add once the commit succeeded. */
  readonly counts: ReadonlyMap<string, number>;
}

/** Takes the task's outputs and dead letters and drains its stores' changes into messages by topic. */
export function commitMessages(context: TaskContext, changelogTopic: string): CommitMessages {
  const { outputs, deadLetters, counts } = context.take();
  const changelog: Message[] = [];
  for (const store of context.stores) {
    for (const [key, value] of store.drainChanges()) changelog.push({ key: changelogKey(store.name, key), value, partition: context.partition });
  }
  const byTopic = new Map<string, Message[]>();
  for (const list of [outputs, deadLetters]) {
    for (const record of list) {
      let messages = byTopic.get(record.topic);
      if (!messages) byTopic.set(record.topic, (messages = []));
      messages.push(toMessage(record));
    }
  }
  if (changelog.length > 0) byTopic.set(changelogTopic, changelog);
  return { byTopic, outputs: outputs.length, deadLetters: deadLetters.length, changelog: changelog.length, counts };
}

/** The consumer offsets a transaction commits with its outputs. */
export interface TransactionOffsets {
  readonly consumerGroupId: string;
  readonly topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
}

/**
 * Writes the messages and the input offsets in one transaction and commits it; aborts it and
 * throws when any step fails. The first send after a commit may meet CONCURRENT_TRANSACTIONS
 * while the broker writes the previous markers: retried, each retry reported to `onRetry`.
 */
export async function sendTransaction(producer: Producer, byTopic: ReadonlyMap<string, readonly Message[]>, offsets: TransactionOffsets | undefined, compression: number, onRetry: () => void): Promise<void> {
  const tx = await producer.transaction();
  try {
    for (const topicMessages of requests(byTopic, MAX_REQUEST_BYTES)) await tx.sendBatch({ acks: -1, compression, topicMessages });
    if (offsets !== undefined) {
      await retry(() => tx.sendOffsets(offsets), {
        retries: 10,
        initialDelayMs: 50,
        shouldRetry: (error) => (error as { type?: string }).type === 'CONCURRENT_TRANSACTIONS',
        onRetry,
      });
    }
    await tx.commit();
  } catch (error) {
    await tx.abort().catch(() => undefined);
    throw error;
  }
}
