import { createConnection } from 'node:net';
import type { Health } from './types.js';

/** GETs `url` and calls it healthy on the expected status. */
export async function httpProbe(url: string, expectStatus = 200, timeoutMs = 2_000): Promise<Health> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return response.status === expectStatus
      ? { healthy: true, detail: `GET ${url} → ${response.status}` }
      : { healthy: false, detail: `GET ${url} → ${response.status}, expected ${expectStatus}` };
  } catch (error) {
    return { healthy: false, detail: `GET ${url} failed: ${(error as Error).cause ?? (error as Error).message}` };
  }
}

/** True when something accepts TCP connections on host:port. */
export function portOpen(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
