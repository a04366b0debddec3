import type { Kafka } from 'kafkajs';
import { readToEnd } from '../read-to-end.js';
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
 * Restores the stores of the given partitions from their changelog partitions: clears them, then
 * applies every committed entry, to the end of each partition.
 */
export async function restoreFromChangelog(
  kafka: Kafka,
  topic: string,
  stores: ReadonlyMap<number, readonly StateStore[]>,
  options: { timeoutMs?: number } = {},
): Promise<{ records: number; ms: number }> {
  const started = Date.now();
  const byName = new Map<number, Map<string, StateStore>>();
  for (const [partition, list] of stores) {
    for (const s of list) s.clear();
    byName.set(partition, new Map(list.map((s) => [s.name, s])));
  }
  let records = 0;
  await readToEnd(
    kafka,
    topic,
    (partition, messages) => {
      const target = byName.get(partition);
      if (!target) return;
      for (const m of messages) {
        if (!m.key) continue;
        const [storeName, key] = splitChangelogKey(m.key.toString('utf8'));
        target.get(storeName)?.restore(key, m.value);
        records++;
      }
    },
    { partitions: [...stores.keys()], timeoutMs: options.timeoutMs },
  );
  return { records, ms: Date.now() - started };
}
