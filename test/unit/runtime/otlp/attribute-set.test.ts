import { describe, expect, it, vi } from 'vitest';
import { InternTable, OtlpMetricsDecoder } from '../../../../runtime/otlp/index.js';
import type { AttributeSet, MetricsVisitor } from '../../../../runtime/otlp/index.js';
import { pb } from './streaming-helpers.js';

type Value = string | number | boolean | bigint;

/** Hash, count and extracted values of the resource attributes in a hand-encoded payload. */
function resourceOf(kvs: number[][], keys: readonly string[] = [], decoder = new OtlpMetricsDecoder({ extractKeys: keys })): { hash: string; count: number; values: (string | undefined)[] } {
  let out = { hash: '', count: -1, values: [] as (string | undefined)[] };
  const visitor: MetricsVisitor = {
    onResource: (a: AttributeSet) => {
      out = { hash: `${a.hashHi}:${a.hashLo}`, count: a.count, values: keys.map((_, i) => a.value(i)) };
    },
    onMetric: () => {},
    onNumberPoint: () => {},
    onHistogramPoint: () => {},
    onExponentialHistogramPoint: () => {},
    onSummaryPoint: () => {},
  };
  decoder.decode(pb.request(kvs), visitor);
  return out;
}

const shared = new OtlpMetricsDecoder({ extractKeys: [] });
const hashOf = (pairs: [string, Value][]): string => resourceOf(pairs.map(([k, v]) => pb.kv(1, k, v)), [], shared).hash;

/** mulberry32: a small seeded generator, so failures reproduce. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('AttributeSet hashing', () => {
  it('does not depend on attribute order', () => {
    const pairs: [string, Value][] = [
      ['service.name', 'checkout'],
      ['http.route', '/api/v1/orders/{id}'],
      ['code', 200],
      ['ok', true],
      ['ratio', 0.5],
      ['', ''],
    ];
    const expected = hashOf(pairs);
    const random = prng(7);
    for (let i = 0; i < 50; i++) {
      const shuffled = [...pairs].sort(() => random() - 0.5);
      expect(hashOf(shuffled)).toBe(expected);
    }
  });

  it('tells apart values, value types, keys and key/value boundaries', () => {
    const sets: [string, Value][][] = [
      [],
      [['a', '1']],
      [['a', 1]],
      [['a', 1.5]],
      [['a', true]],
      [['a', false]],
      [['a', 0]],
      [['a', '']],
      [['b', '1']],
      [['ab', 'c']],
      [['a', 'bc']],
      [['a', 1], ['b', 2]],
      [['a', 2], ['b', 1]],
      [['a', 1], ['a', 1]],
      [['a', -1]],
      [['a', 2n ** 63n - 1n]],
      [['a', '1'], ['b', '1']],
    ];
    const hashes = sets.map(hashOf);
    expect(new Set(hashes).size).toBe(sets.length);
    expect(hashes[0]).toBe('0:0');
    // A double that holds an integer is still a double.
    expect(hashOf([['a', 1]])).not.toBe(resourceOf([pb.len(1, pb.str(1, 'a'), pb.len(2, pb.double(4, 1)))]).hash);
  });

  it('hashes the value, not its encoding: a padded varint or repeated oneof field changes nothing', () => {
    const padded = pb.len(1, pb.str(1, 'a'), pb.len(2, [...pb.tag(3, 0), 0x81, 0x80, 0x80, 0x00]));
    expect(resourceOf([padded]).hash).toBe(hashOf([['a', 1]]));
    const lastWins = pb.len(1, pb.str(1, 'a'), pb.len(2, pb.str(1, 'x'), pb.int(3, 1)));
    expect(resourceOf([lastWins]).hash).toBe(hashOf([['a', 1]]));
  });

  it('shows no collision over 20,000 random attribute sets', () => {
    const random = prng(42);
    const seen = new Map<string, string>();
    const words = ['get', 'post', '/a', '/b', 'eu', 'us', 'ok', 'err', '', 'x'.repeat(17)];
    for (let i = 0; i < 20_000; i++) {
      const n = 1 + Math.floor(random() * 5);
      const pairs: [string, Value][] = [];
      for (let j = 0; j < n; j++) {
        const key = `k${Math.floor(random() * 6)}`;
        const r = random();
        pairs.push([key, r < 0.4 ? (words[Math.floor(random() * words.length)] as string) : r < 0.8 ? Math.floor(random() * 1000) : r < 0.9 ? random() : random() < 0.5]);
      }
      const canonical = JSON.stringify(pairs.map(([k, v]) => `${k}=${typeof v}:${String(v)}`).sort());
      const h = hashOf(pairs);
      const prior = seen.get(h);
      if (prior !== undefined) expect(prior).toBe(canonical);
      seen.set(h, canonical);
    }
    expect(seen.size).toBeGreaterThan(10_000);
  });
});

describe('extracted values and interning', () => {
  it('renders each value kind, and leaves absent keys and unset values undefined', () => {
    const keys = ['s', 'i', 'd', 'b', 'bytes', 'arr', 'map', 'none', 'missing'];
    const kvs = [
      pb.kv(1, 's', 'héllo'),
      pb.kv(1, 'i', -12),
      pb.kv(1, 'd', 1e-7),
      pb.kv(1, 'b', true),
      pb.len(1, pb.str(1, 'bytes'), pb.len(2, pb.len(7, [104, 105]))),
      pb.len(1, pb.str(1, 'arr'), pb.len(2, pb.len(5, pb.len(1, pb.int(3, 1)), pb.len(1, pb.str(1, 'two')), pb.len(1), pb.len(1, pb.double(4, Infinity))))),
      pb.len(1, pb.str(1, 'map'), pb.len(2, pb.len(6, pb.kv(1, 'x', 1), pb.len(1, pb.str(1, 'y'), pb.len(2, pb.len(5)))))),
      pb.len(1, pb.str(1, 'none'), pb.len(2)),
    ];
    const got = resourceOf(kvs, keys);
    expect(got.values).toEqual(['héllo', '-12', '1e-7', 'true', 'aGk=', '[1,"two",null,"Infinity"]', '{"x":1,"y":[]}', undefined, undefined]);
    expect(got.count).toBe(8);
  });

  it('refuses invalid UTF-8 in an extracted string and deep nesting in an extracted array', () => {
    const bad = pb.len(1, pb.str(1, 's'), pb.len(2, pb.len(1, [0xff, 0xfe])));
    expect(() => resourceOf([bad], ['s'])).toThrow(/UTF-8/);
    expect(resourceOf([bad], []).count).toBe(1); // not extracted: hashed as bytes, not decoded
    let nested = pb.len(5);
    for (let i = 0; i < 100; i++) nested = pb.len(5, pb.len(1, nested));
    expect(() => resourceOf([pb.len(1, pb.str(1, 'deep'), pb.len(2, nested))], ['deep'])).toThrow(/nested too deeply/);
  });

  it('returns the interned string without decoding again, across payloads', () => {
    const decoder = new OtlpMetricsDecoder({ extractKeys: ['s', 'i'] });
    const kvs = [pb.kv(1, 's', 'checkout-service'), pb.kv(1, 'i', 42)];
    const first = resourceOf(kvs, ['s', 'i'], decoder);
    const misses = decoder.intern.misses;
    const decode = vi.spyOn(TextDecoder.prototype, 'decode');
    try {
      // Different buffer, different offset: the lookup is by bytes.
      const again = resourceOf([pb.kv(1, 'pad', 'xx'), ...kvs], ['s', 'i'], decoder);
      expect(again.values).toEqual(first.values);
      expect(decode).not.toHaveBeenCalled();
    } finally {
      decode.mockRestore();
    }
    expect(decoder.intern.misses).toBe(misses);
  });

  it('keys interned values by kind: int 1 and string "1" render alike but are separate entries', () => {
    const table = new InternTable();
    const bytes = new Uint8Array([0x31, 0x01]);
    expect(table.get(1, bytes, 0, 1)).toBe('1');
    expect(table.get(3, bytes, 1, 2)).toBe('1');
    expect(table.get(1, bytes, 1, 2)).toBe('\u0001');
    expect(table.size).toBe(3);
  });

  it('stays bounded: clears when full, and does not keep oversized values', () => {
    const table = new InternTable({ maxEntries: 10, maxValueBytes: 8 });
    const enc = new TextEncoder();
    for (let i = 0; i < 35; i++) {
      const b = enc.encode(`v${i}`);
      expect(table.get(1, b, 0, b.length)).toBe(`v${i}`);
      expect(table.size).toBeLessThanOrEqual(10);
    }
    expect(table.clears).toBe(3);
    const long = enc.encode('x'.repeat(9));
    expect(table.get(1, long, 0, long.length)).toBe('x'.repeat(9));
    const size = table.size;
    table.get(1, long, 0, long.length);
    expect(table.size).toBe(size);
    // Still correct after growth and clears: every value maps back to itself.
    const big = new InternTable({ maxEntries: 5000 });
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 4000; i++) {
        const b = enc.encode(`key-${i}`);
        expect(big.get(1, b, 0, b.length)).toBe(`key-${i}`);
      }
    }
    expect(big.misses).toBe(4000);
  });
});
