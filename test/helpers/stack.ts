import { inject } from 'vitest';
import type { StackEndpoints } from '../../stack/clients/index.js';

/** The real services of this test run, as the global setup provided them. */
export function stackEndpoints(): StackEndpoints {
  return inject('stack');
}
