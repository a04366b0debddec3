import { createRequire } from 'node:module';
import type expressModule from 'express';

/**
 * `express`, loaded with `require` on purpose: the OpenTelemetry instrumentations patch modules
 * through require-in-the-middle, which sees `require` calls but not ESM `import`s (that would take
 * the import-in-the-middle loader hook). Loaded on first use, after the SDK started.
 */
export function loadExpress(): typeof expressModule {
  return createRequire(import.meta.url)('express') as typeof expressModule;
}
