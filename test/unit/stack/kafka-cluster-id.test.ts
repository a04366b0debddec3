import { describe, expect, it } from 'vitest';
import { newClusterId } from '../../../stack/components/kafka.js';

describe('newClusterId', () => {
  it('draws again when the id would start with "-", which the storage tool reads as an option', () => {
    // 0xf8 = 111110xx: the first base64url digit is 62, '-'.
    const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0x41)];
    let calls = 0;
    const id = newClusterId(() => draws[calls++]!);
    expect(Buffer.alloc(16, 0xf8).toString('base64url').startsWith('-')).toBe(true);
    expect(calls).toBe(2);
    expect(id).toBe(Buffer.alloc(16, 0x41).toString('base64url'));
  });

  it('gives 22 base64url characters, the form Kafka cluster ids take', () => {
    expect(newClusterId()).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });
});
