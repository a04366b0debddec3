import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

/*
 * read_committed consumers drop the records of aborted transactions using the fetch response's
 * list of aborted transactions (producer id, first offset) and the abort markers. The platform
 * ships a corrected kafkajs filter (patches/kafkajs+2.2.4.patch): the published one activated at
 * most one aborted transaction per record, so a fetch starting after the first offsets of two
 * aborted transactions leaked the second one's records to read_committed consumers.
 */
const require = createRequire(import.meta.url);
type Message = { offset: string; key: Buffer | null; batchContext: { producerId: string; inTransaction: boolean } };
const filterAbortedMessages = require('kafkajs/src/consumer/filterAbortedMessages') as (input: { messages: Message[]; abortedTransactions: { producerId: string; firstOffset: string }[] }) => Message[];

const ABORT = Buffer.from([0, 0, 0, 0]);
const COMMIT = Buffer.from([0, 0, 0, 1]);
const record = (offset: number, producerId: string, key: Buffer | null = Buffer.from('k')): Message => ({ offset: String(offset), key, batchContext: { producerId, inTransaction: true } });

describe('kafkajs aborted-transaction filter', () => {
  it('drops the records of every aborted transaction that began before the fetched range', () => {
    // Producers 7 and 8 each began a transaction (offsets 10 and 11) that was later aborted;
    // producer 9 committed one. The fetch starts at offset 20.
    const messages = [record(20, '8'), record(21, '7'), record(22, '9'), record(23, '7', ABORT), record(24, '8'), record(25, '8', ABORT), record(26, '9', COMMIT), record(27, '7')];
    const kept = filterAbortedMessages({ messages, abortedTransactions: [{ producerId: '7', firstOffset: '10' }, { producerId: '8', firstOffset: '11' }] });
    expect(kept.map((m) => m.offset)).toEqual(['22', '23', '25', '26', '27']);
  });

  it('handles the list in any order and transactions that begin inside the range', () => {
    const messages = [record(5, '1'), record(6, '2'), record(7, '1', ABORT), record(8, '2'), record(9, '2', ABORT), record(10, '1')];
    const kept = filterAbortedMessages({ messages, abortedTransactions: [{ producerId: '2', firstOffset: '6' }, { producerId: '1', firstOffset: '5' }] });
    expect(kept.map((m) => m.offset)).toEqual(['7', '9', '10']);
  });

  it('keeps everything when nothing was aborted', () => {
    const messages = [record(1, '1'), record(2, '1', COMMIT)];
    expect(filterAbortedMessages({ messages, abortedTransactions: [] })).toHaveLength(2);
  });
});
