import { describe, expect, it } from 'vitest';
import { BUCKET_PAGES, BucketStore, bucketPageOf } from '../../../../processors/ingest/bucket-store.js';
import type { Partial } from '../../../../processors/ingest/bucket-store.js';
import { signalSerde } from '../../../../schemas/index.js';

function partial(signal: string, bucketStartMs: number, count: number): Partial {
  return {
    kind: 'PARTIAL',
    sourcePartition: 0,
    watermarkMs: 0,
    idle: false,
    signal,
    rule: 'http',
    dimensions: { route: signal },
    bucketStartMs,
    bucketMs: 10_000,
    count,
    errors: 0,
    statusClasses: [0, count, 0, 0, 0, 0],
    sum: count * 0.1,
    min: Number.NaN,
    max: Number.NaN,
    bounds: [0.1, 0.5],
    bucketCounts: [count, 0, 0],
    series: 1,
  };
}

type Entry = readonly [string, Buffer | null];

/** What a store holds, in a comparable form: signal → bucket start → count. */
function contents(store: BucketStore): Record<string, Record<number, number>> {
  const out: Record<string, Record<number, number>> = {};
  for (const [signal, byBucket] of store.open) out[signal] = Object.fromEntries([...byBucket].map(([start, p]) => [start, p.count]));
  return out;
}

function restored(log: readonly Entry[]): BucketStore {
  const store = new BucketStore();
  for (const [key, value] of log) store.restore(key, value);
  return store;
}

const signals = Array.from({ length: 2_000 }, (_, i) => `http|route=/r${i}|svc=shop`);

describe('BucketStore changelog pages', () => {
  it('writes each changed page once per commit, and a restore of the log gives the same open partials', () => {
    const store = new BucketStore();
    const log: Entry[] = [];
    for (const signal of signals) store.put(partial(signal, 0, 1));
    const first = [...store.drainChanges()];
    log.push(...first);
    expect(first.every(([key]) => /^b\d+$/.test(key))).toBe(true);
    expect(new Set(first.map(([key]) => key)).size).toBe(first.length);
    expect(first.length).toBeLessThanOrEqual(BUCKET_PAGES);

    // Second commit: a few partials change, a next bucket opens for some, the first bucket closes.
    const touched = signals.slice(0, 5);
    for (const signal of touched) {
      const p = store.get(signal, 0) as Partial;
      p.count += 4;
      store.touch(p);
    }
    for (const signal of signals.slice(100, 110)) store.put(partial(signal, 10_000, 7));
    const second = [...store.drainChanges()];
    log.push(...second);
    const pagesOf = (list: readonly string[]): Set<string> => new Set(list.map((s) => `b${bucketPageOf(s)}`));
    expect(new Set(second.map(([key]) => key))).toEqual(new Set([...pagesOf(touched), ...pagesOf(signals.slice(100, 110))]));
    expect(contents(restored(log))).toEqual(contents(store));

    const closed = store.closeThrough(10_000);
    expect(closed).toHaveLength(signals.length);
    const third = [...store.drainChanges()];
    log.push(...third);
    expect(contents(store)).toEqual(Object.fromEntries(signals.slice(100, 110).map((s) => [s, { 10_000: 7 }])));
    // Pages left with nothing open are written as null: a restore empties them.
    expect(third.some(([, value]) => value === null)).toBe(true);
    expect(contents(restored(log))).toEqual(contents(store));
    expect([...store.drainChanges()]).toEqual([]);
  });

  it('replaces a page whole on restore, leaving the other pages alone', () => {
    const [a, b] = signals.filter((s) => bucketPageOf(s) === bucketPageOf(signals[0] as string)).slice(0, 2) as [string, string];
    const other = signals.find((s) => bucketPageOf(s) !== bucketPageOf(a)) as string;
    const writer = new BucketStore();
    writer.put(partial(a, 0, 3));
    const onlyA = [...writer.drainChanges()];
    const store = new BucketStore();
    store.put(partial(a, 0, 1));
    store.put(partial(b, 0, 2));
    store.put(partial(other, 0, 5));
    for (const [key, value] of onlyA) store.restore(key, value);
    expect(contents(store)).toEqual({ [a]: { 0: 3 }, [other]: { 0: 5 } });
  });

  it('reads the earlier one-record-per-partial form, and moves it to pages at the next commit', () => {
    const legacy: Entry[] = [
      [`0|${signals[0]}`, signalSerde.serialize(partial(signals[0] as string, 0, 1))],
      [`0|${signals[1]}`, signalSerde.serialize(partial(signals[1] as string, 0, 2))],
      [`10000|${signals[1]}`, signalSerde.serialize(partial(signals[1] as string, 10_000, 4))],
      [`0|${signals[2]}`, signalSerde.serialize(partial(signals[2] as string, 0, 9))],
      [`0|${signals[2]}`, null],
    ];
    const store = restored(legacy);
    const expected = { [signals[0] as string]: { 0: 1 }, [signals[1] as string]: { 0: 2, 10_000: 4 } };
    expect(contents(store)).toEqual(expected);
    const migration = [...store.drainChanges()];
    // The earlier keys still held are deleted, and the pages of their partials written.
    expect(migration.filter(([, value]) => value === null).map(([key]) => key).sort()).toEqual([`0|${signals[0]}`, `0|${signals[1]}`, `10000|${signals[1]}`].sort());
    expect(new Set(migration.filter(([key]) => key.startsWith('b')).map(([key]) => key))).toEqual(new Set([`b${bucketPageOf(signals[0] as string)}`, `b${bucketPageOf(signals[1] as string)}`]));
    expect(contents(restored([...legacy, ...migration]))).toEqual(expected);
    expect([...store.drainChanges()]).toEqual([]);
  });
});
