import { join } from 'node:path';
import { packageRoot } from '../runtime/package-root.js';

/** Path of an Avro schema file in `schemas/`, from the sources or the compiled build alike. */
export function schemaFile(name: string): string {
  return join(packageRoot(import.meta.url), 'schemas', name);
}
