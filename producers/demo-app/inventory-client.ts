import { createRequire } from 'node:module';
import type * as httpModule from 'node:http';
import { inventoryRoute } from './inventory.js';

/**
 * `node:http` through `require`, after the SDK started: the HTTP instrumentation patched it, so
 * the call is a client span with the trace context propagated to the inventory service.
 */
function loadHttp(): typeof httpModule {
  return createRequire(import.meta.url)('node:http') as typeof httpModule;
}

/** Reserves `items` at the inventory service; rejects on a non-2xx answer, an error or a timeout. */
export function reserveInventory(baseUrl: string, items: number, timeoutMs = 5_000): Promise<void> {
  const url = new URL(inventoryRoute, baseUrl);
  const body = JSON.stringify({ items });
  return new Promise((resolve, reject) => {
    const request = loadHttp().request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: timeoutMs },
      (response) => {
        response.resume();
        response.once('end', () => {
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new Error(`inventory answered ${status}`));
        });
        response.once('error', reject);
      },
    );
    request.once('timeout', () => request.destroy(new Error(`inventory did not answer within ${timeoutMs} ms`)));
    request.once('error', reject);
    request.end(body);
  });
}
