import type { KafkaMessage } from 'kafkajs';
import type { Logger } from '../logger.js';
import type { TaskContext } from '../task-context.js';
import type { InputRecord } from '../types.js';

/** Where `unprocessed` reports what it found. */
export interface SkippedInput {
  /** The input jumped ahead of the position: `records` were never processed. */
  gap(records: number, expected: string, got: string): void;
  /** The input went back behind the position: `records` already processed are skipped. */
  rewound(records: number, position: string, got: string): void;
}

/**
 * The messages at or after the task's position. The consumer's fetch position can move on its
 * own: kafkajs answers OFFSET_OUT_OF_RANGE (say, input deleted by retention) by committing the
 * group's default offset and starting over there. Records before the position were already
 * processed and committed with their state, so they are skipped; a jump forward means input
 * was gone before it could be processed, which is reported.
 */
export function unprocessed(position: bigint | undefined, messages: readonly KafkaMessage[], report: SkippedInput): readonly KafkaMessage[] {
  const first = messages[0];
  if (first === undefined || position === undefined) return messages;
  if (BigInt(first.offset) > position) {
    report.gap(Number(BigInt(first.offset) - position), position.toString(), first.offset);
    return messages;
  }
  if (BigInt(first.offset) === position) return messages;
  const rest = messages.filter((m) => BigInt(m.offset) >= position);
  report.rewound(messages.length - rest.length, position.toString(), first.offset);
  return rest;
}

/**
 * The records within the size limit; each larger one meets the bad-record policy (and
 * `onOversized`), its dead letter without the value so that it cannot exceed the broker's own
 * limit and block the transaction.
 */
export function withinSizeLimit(records: InputRecord[], maxRecordBytes: number, context: TaskContext, onOversized: () => void): InputRecord[] {
  const size = (r: InputRecord): number => (r.key?.length ?? 0) + (r.value?.length ?? 0);
  if (!records.some((r) => size(r) > maxRecordBytes)) return records;
  const kept: InputRecord[] = [];
  for (const record of records) {
    const bytes = size(record);
    if (bytes <= maxRecordBytes) {
      kept.push(record);
      continue;
    }
    onOversized();
    context.reject({ ...record, value: null }, `record of ${bytes} bytes exceeds the record size limit of ${maxRecordBytes} bytes (AIOPS_KAFKA_MAX_RECORD_BYTES); value not kept`);
  }
  return kept;
}

/** Counts (`input_gap_records`, `reprocessing_skipped_records`) and logs what `unprocessed` reports on a partition. */
export function skippedInputReport(partition: number, log: Logger, count: (name: string, value: number) => void): SkippedInput {
  return {
    gap: (records, expected, got) => {
      count('input_gap_records', records);
      log.warn({ partition, expected, got }, 'input skipped ahead of the committed position: records in between were never processed');
    },
    rewound: (records, position, got) => {
      count('reprocessing_skipped_records', records);
      log.warn({ partition, position, got }, 'input rewound behind the committed position: skipping records already processed');
    },
  };
}
