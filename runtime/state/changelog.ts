import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { StateStore } from '../types.js';

/** The changelog topic of a processor: `aiops.<processor>.state`, compacted. */
export function changelogTopic(processor: string): string {
  return `aiops.${processor}.state`;
}

const SEPARATOR = '\u0000';

/** Changelog key of one store entry: `<store>\0<key>`, so one topic serves every store. */
export function changelogKey(store: string, key: string): string {
  return `${store}${SEPARATOR}${key}`;
}

export function splitChangelogKey(raw: string): [store: string, key: string] {
  const at = raw.indexOf(SEPARATOR);
  return at < 0 ? ['', raw] : [raw.slice(0, at), raw.slice(at + 1)];
}

/**
 * Reads the given changelog partitions from the beginning to their end, read_committed, and
 * applies every entry to the stores of that partition. A throw-away consumer group does the
 * reading (kafkajs has no manual assignment); the end is known exactly from the batch lag,
 * which kafkajs reports even for batches that hold only transaction markers.
 */
export async function restoreFromChangelog(
  kafka: Kafka,
  topic: string,
  stores: ReadonlyMap<number, readonly StateStore[]>,
  options: { timeoutMs?: number } = {},
): Promise<{ records: number; ms: number }> {
  const started = Date.now();
  const admin = kafka.admin();
  await admin.connect();
  let offsets: { partition: number; high: string; low: string }[];
  try {
    offsets = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  const pending = new Set<number>();
  for (const partition of stores.keys()) {
    const o = offsets.find((x) => x.partition === partition);
    if (o && o.high !== o.low) pending.add(partition);
  }
  for (const list of stores.values()) for (const s of list) s.clear();
  if (pending.size === 0) return { records: 0, ms: Date.now() - started };

  const byName = new Map<number, Map<string, StateStore>>();
  for (const [partition, list] of stores) byName.set(partition, new Map(list.map((s) => [s.name, s])));
  let records = 0;
  const consumer = kafka.consumer({ groupId: `aiops.restore-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`restoring ${topic} partitions ${[...pending].join(',')} did not finish within ${options.timeoutMs ?? 120_000} ms`)),
        options.timeoutMs ?? 120_000,
      );
      consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
        const { partition, offsetLag } = event.payload as { partition: number; offsetLag: string };
        if (offsetLag === '0' && pending.delete(partition) && pending.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
      consumer.on(consumer.events.CRASH, (event) => {
        clearTimeout(timer);
        reject(event.payload.error);
      });
      consumer
        .subscribe({ topic, fromBeginning: true })
        .then(() =>
          consumer.run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const target = byName.get(batch.partition);
              if (!target) return;
              for (const m of batch.messages) {
                if (!m.key) continue;
                const [storeName, key] = splitChangelogKey(m.key.toString('utf8'));
                target.get(storeName)?.restore(key, m.value);
                records++;
              }
            },
          }),
        )
        .catch((error: unknown) => {
          clearTimeout(timer);
          reject(error as Error);
        });
    });
  } finally {
    await consumer.disconnect();
  }
  return { records, ms: Date.now() - started };
}
