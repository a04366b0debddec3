import { describe, expect, it } from 'vitest';
import { AggregationTemporality } from '@opentelemetry/sdk-metrics';
import { JsonDecodeError, OtlpMetricsDecoder, ProtoDecodeError, decodeMetricsRequest } from '../../../../runtime/otlp/index.js';
import type { MetricsVisitor } from '../../../../runtime/otlp/index.js';
import { allKeys, recordSdk } from './streaming-helpers.js';

/** Touches everything it is given, so a bad length or offset would surface as an error here. */
const touching: MetricsVisitor = {
  onResource: (a) => void a.value(0),
  onMetric: (m) => void m.name.length,
  onNumberPoint: (a, s, t, v) => void (a.hashHi + s + t + v),
  onHistogramPoint: (_a, _s, _t, _c, _sum, bounds, counts, n) => {
    for (let i = 0; i < n; i++) void ((counts[i] as number) + (i < n - 1 ? (bounds[i] as number) : 0));
  },
  onExponentialHistogramPoint: (_a, _s, _t, _c, _sum, _scale, _z, _po, p, np, _no, neg, nn) => {
    for (let i = 0; i < np; i++) void p[i];
    for (let i = 0; i < nn; i++) void neg[i];
  },
  onSummaryPoint: (_a, _s, _t, _c, _sum, q, n) => {
    for (let i = 0; i < 2 * n; i++) void q[i];
  },
};

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 'ok', 'rejected' (an error of the allowed class), or the description of any other error. */
function outcome(decode: () => unknown, allowed: new (...args: never[]) => Error): string {
  try {
    decode();
    return 'ok';
  } catch (e) {
    return e instanceof allowed ? 'rejected' : String(e instanceof Error ? e.stack : e);
  }
}

describe('OtlpMetricsDecoder on bad input', () => {
  it('throws ProtoDecodeError at every truncation point of a real payload', async () => {
    const { proto } = await recordSdk(AggregationTemporality.CUMULATIVE);
    const keys = allKeys(decodeMetricsRequest(proto));
    for (const decoder of [new OtlpMetricsDecoder({ extractKeys: keys }), new OtlpMetricsDecoder({ extractKeys: [] })]) {
      const wrong: number[] = [];
      for (let cut = 1; cut < proto.length; cut++) {
        try {
          decoder.decode(proto.slice(0, cut), touching);
          wrong.push(cut);
        } catch (e) {
          if (!(e instanceof ProtoDecodeError)) wrong.push(cut);
        }
      }
      expect(wrong).toEqual([]);
    }
  });

  it('either decodes or throws ProtoDecodeError on random garbage and on mutated payloads', async () => {
    const { proto } = await recordSdk(AggregationTemporality.DELTA);
    const decoder = new OtlpMetricsDecoder({ extractKeys: allKeys(decodeMetricsRequest(proto)) });
    const random = prng(2024);
    const failures: string[] = [];
    let decoded = 0;
    const attempt = (bytes: Uint8Array): void => {
      const result = outcome(() => decoder.decode(bytes, touching), ProtoDecodeError);
      if (result === 'ok') decoded++;
      else if (result !== 'rejected') failures.push(result);
    };
    for (let i = 0; i < 3000; i++) {
      const bytes = new Uint8Array(Math.floor(random() * 300));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
      // Half of them start like a request, so the garbage reaches the deeper levels.
      if (i % 2 === 0 && bytes.length > 3) {
        bytes[0] = 0x0a;
        bytes[1] = Math.min(127, bytes.length - 2);
      }
      attempt(bytes);
    }
    for (let i = 0; i < 3000; i++) {
      const bytes = proto.slice();
      const flips = 1 + Math.floor(random() * 4);
      for (let f = 0; f < flips; f++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      attempt(bytes);
    }
    expect(failures.slice(0, 3)).toEqual([]);
    expect(decoded).toBeGreaterThan(100);
  });

  it('either decodes or throws JsonDecodeError on mutated JSON payloads', async () => {
    const { json } = await recordSdk(AggregationTemporality.CUMULATIVE);
    const decoder = new OtlpMetricsDecoder({ extractKeys: ['http.route', 'map', 'tags'] });
    const text = new TextDecoder().decode(json);
    const random = prng(99);
    const alphabet = '{}[]":,0123456789.-eE aZ\\nulltrue';
    const failures: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const chars = [...text];
      const edits = 1 + Math.floor(random() * 3);
      for (let e = 0; e < edits; e++) chars[Math.floor(random() * chars.length)] = alphabet[Math.floor(random() * alphabet.length)] as string;
      const result = outcome(() => decoder.decodeJson(chars.join(''), touching), JsonDecodeError);
      if (result !== 'ok' && result !== 'rejected') failures.push(result);
    }
    expect(failures.slice(0, 3)).toEqual([]);
  });
});
