import type { KafkaMessage, Message } from 'kafkajs';
import type { InputRecord, OutputRecord } from '../types.js';

/**
 * Bytes of record keys and values per produce request. kafkajs sends a request's messages for one
 * partition as one record batch, and the broker refuses batches over `message.max.bytes` (1 MB by
 * default); a commit holding more (a large batch's changelog) goes out in several requests of
 * the same transaction.
 */
export const MAX_REQUEST_BYTES = 512 * 1024;

/** Splits a commit's messages into produce requests of at most about `limit` bytes each. */
export function requests(byTopic: ReadonlyMap<string, readonly Message[]>, limit: number): { topic: string; messages: Message[] }[][] {
  const out: { topic: string; messages: Message[] }[][] = [];
  let current: { topic: string; messages: Message[] }[] = [];
  let bytes = 0;
  for (const [topic, messages] of byTopic) {
    let entry: { topic: string; messages: Message[] } | undefined;
    for (const message of messages) {
      const size = sizeOf(message.key) + sizeOf(message.value) + 64;
      if (bytes + size > limit && bytes > 0) {
        out.push(current);
        current = [];
        bytes = 0;
        entry = undefined;
      }
      if (!entry) {
        entry = { topic, messages: [] };
        current.push(entry);
      }
      entry.messages.push(message);
      bytes += size;
    }
  }
  if (current.length > 0) out.push(current);
  return out;
}

function sizeOf(data: Message['key'] | Message['value']): number {
  if (data === null || data === undefined) return 0;
  return typeof data === 'string' ? Buffer.byteLength(data) : data.length;
}

export function toInput(topic: string, partition: number, m: KafkaMessage): InputRecord {
  return { topic, partition, offset: m.offset, key: m.key, value: m.value, timestamp: m.timestamp, headers: m.headers };
}

export function toMessage(record: OutputRecord): Message {
  const message: Message = { key: record.key, value: record.value };
  if (record.partition !== undefined) message.partition = record.partition;
  if (record.headers) message.headers = { ...record.headers };
  return message;
}
