import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder holding the project's `package.json`, found upwards from a module's URL: the same
 * answer from the TypeScript sources (`stack/config.ts`) and from the compiled build
 * (`dist/stack/config.js`), so run-time files (`compose/`, `slo/`, `schemas/`) resolve alike.
 */
export function packageRoot(moduleUrl: string): string {
  const start = dirname(fileURLToPath(moduleUrl));
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}
