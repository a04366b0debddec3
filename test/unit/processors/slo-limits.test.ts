import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AiopsError } from '../../../runtime/errors.js';
import { parseSloFiles, parseSloText, sloLimits } from '../../../processors/slo/spec.js';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof AiopsError) return e.message.split('\n').slice(1);
    throw e;
  }
  throw new Error('expected an AiopsError');
}

const slo = (name: string): string => `  - name: ${name}
    objective: 99
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
`;

describe('bad input ends in one line per problem, bounded', () => {
  it('stops a YAML alias bomb at the alias limit', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    const lines = problems(() => parseSloText(`version: prometheus/v1\nservice: s\n${bomb.join('\n')}\nslos: []\n`, 'bomb.yaml'));
    expect(lines).toEqual([`  - bomb.yaml#0: too many alias expansions (more than ${sloLimits.maxAliasCount}): a YAML alias bomb?`]);
  });

  it('rejects deeply nested documents', () => {
    const deep = `${'['.repeat(200)}${']'.repeat(200)}`;
    expect(problems(() => parseSloText(`version: prometheus/v1\nservice: s\nlabels: ${deep}\nslos: []\n`, 'deep.yaml'))).toEqual([
      `  - deep.yaml#0: nested more than ${sloLimits.maxDepth} levels deep`,
    ]);
  });

  it('rejects binary garbage in one line', () => {
    let x = 12345;
    const bytes = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < bytes.length; i++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      bytes[i] = x >>> 16;
    }
    const dir = mkdtempSync(join(tmpdir(), 'slo-limits-'));
    const big = join(dir, 'garbage.yaml');
    writeFileSync(big, bytes);
    const small = join(dir, 'small-garbage.yaml');
    writeFileSync(small, bytes.subarray(0, 200_000));
    expect(problems(() => parseSloFiles([big, small]))).toEqual([
      `  - ${big}: the file is larger than ${sloLimits.maxFileBytes} bytes (${bytes.length})`,
      expect.stringMatching(new RegExp(`^  - ${small.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a YAML text file: binary content`)),
    ]);
  });

  it('bounds the problems of a file and the length of each line', () => {
    const many = Array.from({ length: 50 }, (_, i) => `  - name: s${i}\n    objective: 150\n`).join('');
    const lines = problems(() => parseSloText(`version: prometheus/v1\nservice: s\nslos:\n${many}`, 'many.yaml'));
    expect(lines).toHaveLength(sloLimits.maxProblemsPerFile + 1);
    expect(lines[sloLimits.maxProblemsPerFile]).toMatch(/^ {2}- many\.yaml: and \d+ more problems$/);
    const long = problems(() => parseSloText(`version: prometheus/v1\nservice: s\nslos:\n  - name: x\n    objective: 99\n    sli: { plugin: { id: ${'y'.repeat(5000)} } }\n`, 'l.yaml'));
    for (const line of long) expect(line.length).toBeLessThanOrEqual(sloLimits.maxLineLength);
  });

  it('limits the number of SLOs', () => {
    const slos = Array.from({ length: sloLimits.maxSlos + 1 }, (_, i) => slo(`s${i}`)).join('');
    expect(problems(() => parseSloText(`version: prometheus/v1\nservice: s\nslos:\n${slos}`, 'n.yaml'))).toEqual([
      `  - ${sloLimits.maxSlos + 1} SLOs in the files given: at most ${sloLimits.maxSlos} are supported`,
    ]);
  });
});
