import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../runtime/package-root.js';
import { AvroSerde } from '../runtime/serde.js';

/** Path of an Avro schema file in `schemas/`, from the sources or the compiled build alike. */
export function schemaFile(name: string): string {
  return join(packageRoot(import.meta.url), 'schemas', name);
}

/** Folder of every writer schema each `schemas/<name>.avsc` has had: `<name>.<fingerprint>.avsc`. */
export function schemaHistoryDir(): string {
  return schemaFile('history');
}

/** The writer schemas `schemas/history/` keeps for `<name>.avsc` (the current one among them), by file name. */
export function schemaHistory(name: string): Map<string, object> {
  const base = name.replace(/\.avsc$/, '');
  const dir = schemaHistoryDir();
  const out = new Map<string, object>();
  for (const file of readdirSync(dir).sort()) {
    if (file.startsWith(`${base}.`) && /^[0-9a-f]{16}\.avsc$/.test(file.slice(base.length + 1))) {
      out.set(file, JSON.parse(readFileSync(join(dir, file), 'utf8')) as object);
    }
  }
  return out;
}

/**
 * The serde of one platform topic: writes with the current `schemas/<name>.avsc`, reads records
 * of that schema and of every earlier one kept in `schemas/history/` (see docs/events.md,
 * "Schema evolution").
 */
export function topicSerde<T>(name: string): AvroSerde<T> {
  return AvroSerde.fromFile<T>(schemaFile(name), { history: [...schemaHistory(name).values()] });
}
