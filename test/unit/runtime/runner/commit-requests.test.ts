import { describe, expect, it } from 'vitest';
import type { Message } from 'kafkajs';
import { requests } from '../../../../runtime/runner/commit-requests.js';

const message = (i: number, bytes: number): Message => ({ key: `k${i}`, value: Buffer.alloc(bytes, i % 251) });

describe('splitting a commit into produce requests', () => {
  it('keeps every message, in order per topic, in requests under the limit', () => {
    const byTopic = new Map<string, Message[]>([
      ['signals', Array.from({ length: 30 }, (_, i) => message(i, 10_000))],
      ['state', Array.from({ length: 50 }, (_, i) => message(100 + i, 7_000))],
    ]);
    const limit = 64 * 1024;
    const out = requests(byTopic, limit);
    expect(out.length).toBeGreaterThan(1);
    for (const request of out) {
      const bytes = request.flatMap((e) => e.messages).reduce((n, m) => n + (m.value as Buffer).length, 0);
      expect(bytes).toBeLessThanOrEqual(limit);
    }
    for (const [topic, messages] of byTopic) {
      const sent = out.flatMap((request) => request.filter((e) => e.topic === topic).flatMap((e) => e.messages));
      expect(sent.map((m) => m.key)).toEqual(messages.map((m) => m.key));
    }
  });

  it('sends a message larger than the limit alone rather than dropping it', () => {
    const out = requests(new Map([['t', [message(1, 10), message(2, 5_000), message(3, 10)]]]), 1_000);
    expect(out.map((r) => r.flatMap((e) => e.messages).map((m) => m.key))).toEqual([['k1'], ['k2'], ['k3']]);
  });

  it('makes one request for a small commit and none for an empty one', () => {
    expect(requests(new Map([['a', [message(1, 10)]], ['b', [message(2, 10)]]]), 1_000)).toHaveLength(1);
    expect(requests(new Map(), 1_000)).toEqual([]);
  });
});
