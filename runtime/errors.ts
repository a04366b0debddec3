/**
 * One registry of the platform's error codes. Every error carries a stable code
 * (`AIOPS_ERR_<AREA>_<WHAT>`), whether retrying can help, and its cause.
 * `docs/errors.md` lists every code; a test keeps the two in step.
 */

/** What a registered error is: its code, message template and retriability. */
export interface ErrorDefinition {
  /** Stable code, `AIOPS_ERR_<AREA>_<WHAT>`. */
  readonly code: string;
  /** Message template; `%s` placeholders are filled from the arguments in order. */
  readonly template: string;
  /** Whether the same operation may succeed if tried again later. */
  readonly retriable: boolean;
}

export class AiopsError extends Error {
  readonly code: string;
  readonly retriable: boolean;

  constructor(definition: ErrorDefinition, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AiopsError';
    this.code = definition.code;
    this.retriable = definition.retriable;
  }
}

function define(code: string, template: string, retriable: boolean): ErrorDefinition {
  return Object.freeze({ code, template, retriable });
}

export const codes = Object.freeze({
  CONFIG_INVALID: define('AIOPS_ERR_CONFIG_INVALID', 'invalid configuration:\n%s', false),
  SLO_SPEC_INVALID: define('AIOPS_ERR_SLO_SPEC_INVALID', 'invalid SLO specification:\n%s', false),
  STACK_PREREQUISITE_MISSING: define(
    'AIOPS_ERR_STACK_PREREQUISITE_MISSING',
    '%s is required to install the local stack but was not found on PATH (%s)',
    false,
  ),
  STACK_INSTALL_FAILED: define('AIOPS_ERR_STACK_INSTALL_FAILED', 'installing %s failed: %s (log: %s)', false),
  STACK_START_FAILED: define('AIOPS_ERR_STACK_START_FAILED', '%s did not become healthy within %s ms: %s (log: %s)', true),
  STACK_PORT_IN_USE: define('AIOPS_ERR_STACK_PORT_IN_USE', '%s cannot start: port %s on %s is already in use by another process', false),
  STACK_UNKNOWN_COMPONENT: define('AIOPS_ERR_STACK_UNKNOWN_COMPONENT', 'unknown stack component "%s" (known: %s)', false),
  CLI_USAGE: define('AIOPS_ERR_CLI_USAGE', '%s', false),
  RECORD_REJECTED: define('AIOPS_ERR_RECORD_REJECTED', '%s rejected %s[%s]@%s: %s (bad-record policy is fail)', false),
  TRANSACTION_FAILED: define('AIOPS_ERR_TRANSACTION_FAILED', '%s could not commit partition %s: %s', true),
  RESTORE_FAILED: define('AIOPS_ERR_RESTORE_FAILED', '%s could not restore the state of partition %s from %s: %s', true),
  TIMEOUT: define('AIOPS_ERR_TIMEOUT', '%s timed out after %s ms', true),
  KAFKA_AUTH: define('AIOPS_ERR_KAFKA_AUTH', 'Kafka broker %s refused SASL authentication (%s): %s', false),
  KAFKA_NOT_READY: define(
    'AIOPS_ERR_KAFKA_NOT_READY',
    '%s did not succeed: the Kafka broker still answered with transient errors after %s attempts in %s ms (last: %s: %s)',
    true,
  ),
  KAFKA_TLS: define('AIOPS_ERR_KAFKA_TLS', 'TLS connection to Kafka broker %s failed: %s', false),
} satisfies Record<string, ErrorDefinition>);

export type ErrorName = keyof typeof codes;

/** Builds an error from a registered definition, filling the template's `%s` in order. */
export function aiopsError(name: ErrorName, args: readonly unknown[] = [], cause?: unknown): AiopsError {
  const definition = codes[name];
  let i = 0;
  const message = definition.template.replace(/%s/g, () => String(args[i++] ?? ''));
  return new AiopsError(definition, message, cause === undefined ? undefined : { cause });
}

/** True when the error (or anything it wraps) says a retry may help. */
export function isRetriable(error: unknown): boolean {
  if (error instanceof AiopsError) return error.retriable;
  if (error && typeof error === 'object' && 'retriable' in error) return Boolean((error as { retriable: unknown }).retriable);
  return false;
}
