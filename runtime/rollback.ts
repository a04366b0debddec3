import type { InputRecord, ProcessorContext } from './types.js';

/**
 * Thrown by a processor that found a record bad only after part of it had changed its state
 * (a payload that fails to decode half-way): the runner rolls the partition back to its last
 * commit (drops the task uncommitted, restores the state from the changelog) and replays the
 * input since then with this record handed to the bad-record policy, with `reason`, before the
 * processor sees the batch. Nothing of the batch is lost or counted twice, and the processor
 * can decode each record once instead of validating it first.
 */
export class RecordRollback extends Error {
  constructor(
    readonly record: InputRecord,
    readonly reason: string,
    override readonly cause?: unknown,
  ) {
    super(`record ${record.topic}/${record.partition}@${record.offset} is bad: ${reason}`);
    this.name = 'RecordRollback';
  }
}

/**
 * Records known to be bad (offset → reason, from earlier rollbacks of the partition) meet the
 * bad-record policy through `context`; the rest are returned, in order.
 */
export function withoutKnownBad(records: readonly InputRecord[], known: ReadonlyMap<string, { reason: string; cause?: unknown }> | undefined, context: ProcessorContext): readonly InputRecord[] {
  if (known === undefined || known.size === 0) return records;
  const kept: InputRecord[] = [];
  for (const record of records) {
    const bad = known.get(record.offset);
    if (bad) context.reject(record, bad.reason, bad.cause);
    else kept.push(record);
  }
  return kept;
}

/** Per partition, records found bad half-way (offset → reason): rejected when replayed, until committed past. */
export class KnownBadRecords {
  private readonly byPartition = new Map<number, Map<string, { reason: string; cause?: unknown }>>();

  add(error: RecordRollback): void {
    let known = this.byPartition.get(error.record.partition);
    if (!known) this.byPartition.set(error.record.partition, (known = new Map()));
    known.set(error.record.offset, { reason: error.reason, cause: error.cause });
  }

  of(partition: number): ReadonlyMap<string, { reason: string; cause?: unknown }> | undefined {
    return this.byPartition.get(partition);
  }

  /** The partition's input is committed up to (not including) `nextOffset`. */
  committed(partition: number, nextOffset: string): void {
    const known = this.byPartition.get(partition);
    if (!known) return;
    for (const offset of known.keys()) if (BigInt(offset) < BigInt(nextOffset)) known.delete(offset);
    if (known.size === 0) this.byPartition.delete(partition);
  }
}
