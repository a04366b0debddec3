import type { InputRecord, OutputRecord } from './types.js';

/** The platform's dead-letter topic. */
export const deadLetterTopic = 'aiops.dlq.v1';

/** Header names of a dead-letter record (the original key and value are kept as they were). */
export const deadLetterHeaders = Object.freeze({
  reason: 'aiops.dlq.reason',
  processor: 'aiops.dlq.processor',
  topic: 'aiops.dlq.source.topic',
  partition: 'aiops.dlq.source.partition',
  offset: 'aiops.dlq.source.offset',
  timestamp: 'aiops.dlq.source.timestamp',
  error: 'aiops.dlq.error',
});

/**
 * A dead-letter record: the rejected record's key and value unchanged, with the reason and its
 * source (topic, partition, offset) in headers, so it can be inspected and replayed.
 */
export function deadLetterRecord(processor: string, record: InputRecord, reason: string, cause?: unknown): OutputRecord {
  const headers: Record<string, string> = {
    [deadLetterHeaders.reason]: reason,
    [deadLetterHeaders.processor]: processor,
    [deadLetterHeaders.topic]: record.topic,
    [deadLetterHeaders.partition]: String(record.partition),
    [deadLetterHeaders.offset]: record.offset,
    [deadLetterHeaders.timestamp]: record.timestamp,
  };
  if (cause !== undefined) headers[deadLetterHeaders.error] = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  return { topic: deadLetterTopic, key: record.key, value: record.value, headers };
}
