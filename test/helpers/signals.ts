import { signalSerde } from '../../schemas/index.js';
import type { CollectedMessage } from '../../stack/clients/index.js';

/**
 * Signal records by (output partition, source partition), in order: the order Kafka guarantees,
 * so two runs over the same input must agree on it record for record.
 */
export function signalsBySource(records: readonly CollectedMessage[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of records) {
    const source = signalSerde.deserialize(r.value as Buffer).sourcePartition;
    (out[`${r.partition}/${source}`] ??= []).push(`${r.key?.toString() ?? '-'}=${(r.value as Buffer).toString('hex')}`);
  }
  return out;
}
