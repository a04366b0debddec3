export { AiopsError, aiopsError, codes, isRetriable } from './errors.js';
export type { ErrorDefinition, ErrorName } from './errors.js';
export { createLogger } from './logger.js';
export type { Logger } from './logger.js';
export { backoffDelay, retry, sleep } from './retry.js';
export type { RetryOptions } from './retry.js';
export * as otlp from './otlp/index.js';
