import type { StackEndpoints } from '../../stack/clients/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackEndpoints;
  }
}
