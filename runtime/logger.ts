import pino from 'pino';
import type { Logger } from 'pino';

export type { Logger };

/**
 * The platform's logger. Level from AIOPS_LOG_LEVEL (default info); JSON lines on stderr so
 * stdout stays free for command output. Secrets are redacted wherever they appear by name.
 */
export function createLogger(name: string, options: { level?: string } = {}): Logger {
  return pino(
    {
      name,
      level: options.level ?? process.env.AIOPS_LOG_LEVEL ?? 'info',
      redact: {
        paths: ['password', 'token', 'authorization', '*.password', '*.token', '*.authorization', 'headers.authorization'],
        censor: '[redacted]',
      },
    },
    pino.destination(2),
  );
}
