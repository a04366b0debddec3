import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withInstallLock } from '../../../stack/install.js';

describe('withInstallLock', () => {
  it('runs holders one at a time', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'aiops-lock-')), 'entry');
    const order: string[] = [];
    const hold = (name: string) =>
      withInstallLock(
        dir,
        async () => {
          order.push(`${name} in`);
          await new Promise((resolve) => setTimeout(resolve, 30));
          order.push(`${name} out`);
        },
        5,
      );
    await Promise.all([hold('a'), hold('b')]);
    expect(order).toEqual(['a in', 'a out', 'b in', 'b out']);
  });

  it('takes over a lock whose owner is gone, and releases it when the holder throws', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'aiops-lock-')), 'entry');
    mkdirSync(`${dir}.lock`);
    // A pid that cannot be alive (above the kernel's pid_max).
    writeFileSync(join(`${dir}.lock`, 'pid'), '99999999');
    await expect(withInstallLock(dir, () => Promise.reject(new Error('build failed')), 5)).rejects.toThrow('build failed');
    await expect(withInstallLock(dir, () => Promise.resolve('built'), 5)).resolves.toBe('built');
  });
});
