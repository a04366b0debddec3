import { readFileSync } from 'node:fs';
import { aiopsError } from '../runtime/errors.js';

/**
 * Credentials of a target: a bearer token (Grafana service-account tokens, InfluxDB tokens) or a
 * user and password (basic auth). Never logged: `toJSON` and `toString` say only which kind.
 */
export class Credentials {
  private constructor(
    private readonly token: string | undefined,
    private readonly user: string | undefined,
    private readonly password: string | undefined,
    /** `Bearer` (Grafana) or `Token` (InfluxDB) in front of a token. */
    private readonly scheme: 'Bearer' | 'Token',
  ) {}

  /**
   * Reads `<PREFIX>_TOKEN` or `<PREFIX>_TOKEN_FILE`, else `<PREFIX>_USER` with `<PREFIX>_PASSWORD`
   * or `<PREFIX>_PASSWORD_FILE` (a file's content is trimmed). Undefined when none is set.
   */
  static fromEnv(prefix: string, scheme: 'Bearer' | 'Token' = 'Bearer', env: NodeJS.ProcessEnv = process.env): Credentials | undefined {
    const read = (name: string): string | undefined => {
      const direct = env[`${prefix}_${name}`];
      if (direct !== undefined && direct !== '') return direct;
      const file = env[`${prefix}_${name}_FILE`];
      if (file === undefined || file === '') return undefined;
      try {
        return readFileSync(file, 'utf8').trim();
      } catch (error) {
        throw aiopsError('CONFIG_INVALID', [`  - ${prefix}_${name}_FILE: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`]);
      }
    };
    const token = read('TOKEN');
    if (token !== undefined) return new Credentials(token, undefined, undefined, scheme);
    const user = read('USER');
    if (user === undefined) return undefined;
    return new Credentials(undefined, user, read('PASSWORD') ?? '', scheme);
  }

  static token(token: string, scheme: 'Bearer' | 'Token' = 'Bearer'): Credentials {
    return new Credentials(token, undefined, undefined, scheme);
  }

  static basic(user: string, password: string): Credentials {
    return new Credentials(undefined, user, password, 'Bearer');
  }

  /** The Authorization header value. */
  header(): string {
    if (this.token !== undefined) return `${this.scheme} ${this.token}`;
    return `Basic ${Buffer.from(`${this.user ?? ''}:${this.password ?? ''}`, 'utf8').toString('base64')}`;
  }

  /** The raw token (for clients that take it as an option), if this is one. */
  rawToken(): string | undefined {
    return this.token;
  }

  toJSON(): string {
    return this.toString();
  }

  toString(): string {
    return this.token !== undefined ? '[token redacted]' : '[basic auth redacted]';
  }
}

/** `{ authorization }` for fetch, or nothing without credentials. */
export function authHeader(credentials: Credentials | undefined): Record<string, string> {
  return credentials ? { authorization: credentials.header() } : {};
}
