import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { codes } from '../../../runtime/errors.js';

describe('docs/errors.md', () => {
  const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  const documented = new Set([...doc.matchAll(/`(AIOPS_ERR_[A-Z0-9_]+)`/g)].map((m) => m[1]));

  it('lists every registered error code', () => {
    const registered = Object.values(codes).map((c) => c.code);
    expect(registered.filter((code) => !documented.has(code))).toEqual([]);
  });

  it('lists no code that is not registered', () => {
    const registered = new Set(Object.values(codes).map((c) => c.code));
    expect([...documented].filter((code) => !registered.has(code as string))).toEqual([]);
  });
});
