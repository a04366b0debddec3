import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AvroSerde, avroFingerprint } from '../../../runtime/serde.js';
import { sloEventSerde } from '../../../schemas/index.js';
import type { SloEvent } from '../../../schemas/index.js';
import { schemaFile, schemaHistory, topicSerde } from '../../../schemas/schema-file.js';

const root = new URL('../../../', import.meta.url);
const current = readdirSync(new URL('schemas/', root)).filter((f) => f.endsWith('.avsc')).sort();

function readSchema(name: string): object {
  return JSON.parse(readFileSync(schemaFile(name), 'utf8')) as object;
}

/** Every version of a schema file in the repository's history, or undefined without git history. */
function gitVersions(name: string): string[] | undefined {
  try {
    const path = `schemas/${name}`;
    const commits = execFileSync('git', ['log', '--format=%H', '--', path], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
    if (commits.length === 0) return undefined;
    return commits.map((c) => execFileSync('git', ['show', `${c}:${path}`], { cwd: root, encoding: 'utf8' }));
  } catch {
    return undefined;
  }
}

describe('schemas/history: every writer schema a topic has had', () => {
  it('finds the five platform schemas', () => {
    expect(current).toEqual(['anomalies.v1.avsc', 'measurements.v1.avsc', 'signal-values.v1.avsc', 'signals.v1.avsc', 'slo.v1.avsc']);
  });

  for (const name of current) {
    it(`${name}: the current schema is the latest history entry, each entry is named by its fingerprint and resolves into the current one`, () => {
      const history = schemaHistory(name);
      const fingerprints = [...history].map(([file, schema]) => {
        const fp = avroFingerprint(schema);
        expect(file, 'a history file is named <name>.<fingerprint>.avsc').toBe(`${name.replace(/\.avsc$/, '')}.${fp}.avsc`);
        return fp;
      });
      // A changed schema without its new version in schemas/history/ fails here.
      expect(fingerprints, `add schemas/history/${name.replace(/\.avsc$/, '')}.${avroFingerprint(readSchema(name))}.avsc`).toContain(avroFingerprint(readSchema(name)));
      // An incompatible change (a field without a default, a changed type) fails here.
      const serde = topicSerde(name);
      expect(serde.earlierFingerprints.sort()).toEqual(fingerprints.filter((fp) => fp !== serde.fingerprintHex).sort());
    });

    it(`${name}: every version in the git history is kept (skipped without git history)`, (ctx) => {
      const versions = gitVersions(name);
      if (!versions) return ctx.skip();
      const kept = new Set([...schemaHistory(name).values()].map((s) => avroFingerprint(s)));
      for (const text of versions) expect([...kept]).toContain(avroFingerprint(JSON.parse(text) as object));
    });
  }

  it('fails for a current schema whose earlier version cannot be resolved (a field added without a default)', () => {
    const earlier = { type: 'record', name: 'E', namespace: 't', fields: [{ name: 'a', type: 'long' }] };
    const incompatible = { ...earlier, fields: [...earlier.fields, { name: 'b', type: 'double' }] };
    expect(() => new AvroSerde(incompatible, { history: [earlier] })).toThrow(/cannot be read as the current one/);
    const compatible = { ...earlier, fields: [...earlier.fields, { name: 'b', type: 'double', default: 2 }] };
    expect(new AvroSerde(compatible, { history: [earlier] }).earlierFingerprints).toEqual([avroFingerprint(earlier)]);
  });
});

describe('reading records of earlier writer schemas', () => {
  const previousSlo = [...schemaHistory('slo.v1.avsc')].find(([, s]) => !JSON.stringify(s).includes('observed_share'));

  it('decodes an aiops.slo.v1 record written before observed_share existed, with observed_share 1', () => {
    expect(previousSlo, 'the slo.v1 schema before observed_share is kept').toBeDefined();
    const writer = new AvroSerde<Omit<SloEvent, 'observed_share'>>(previousSlo![1]);
    expect(writer.fingerprintHex).not.toBe(sloEventSerde.fingerprintHex);
    const old = {
      id: '0123456789abcdef0123456789abcdef', timestamp: 1_700_000_052_000, slo: 'checkout-availability', service: 'checkout', description: 'd', sli: 'availability',
      objective: 0.999, period: '30d rolling', period_ms: 30 * 86_400_000, tier: 'page' as const, state: 'FIRING' as const, long_window_ms: 3_600_000, short_window_ms: 300_000,
      factor: 14.4, long_burn_rate: 14.44, short_burn_rate: 20, budget_remaining: 0.97, projected_exhaustion: null, started_at: 1_700_000_052_000, labels: { team: 'payments' },
    };
    expect(sloEventSerde.deserialize(writer.serialize(old))).toEqual({ ...old, observed_share: 1 });
  });

  it('decodes records of every kept version of every schema into the current shape (defaults filled)', () => {
    for (const name of current) {
      const reader = topicSerde<Record<string, unknown>>(name);
      for (const [file, schema] of schemaHistory(name)) {
        const writer = new AvroSerde<unknown>(schema);
        const sample: unknown = writer.type.random();
        const back = reader.deserialize(writer.serialize(sample));
        expect(Object.keys(back).sort(), file).toEqual((reader.type.schema() as { fields: { name: string }[] }).fields.map((f) => f.name).sort());
      }
    }
  });

  it('still refuses a record of an unknown schema', () => {
    const stranger = new AvroSerde<{ x: number }>({ type: 'record', name: 'X', fields: [{ name: 'x', type: 'int' }] });
    expect(() => sloEventSerde.deserialize(stranger.serialize({ x: 1 }))).toThrow(/another schema/);
  });
});
