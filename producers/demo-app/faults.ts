/**
 * Fault injection for the demo app: per route pattern (the Express route, as in `http.route`),
 * added latency with optional jitter and an error rate. Faults come from the admin endpoint or
 * from a schedule; a fault may expire, which is checked lazily against an injectable clock.
 */

/** The route pattern that matches every API route (never the admin or health endpoints). */
export const ANY_ROUTE = '*';

/** A fault as requested: through `PUT /admin/faults`, `setFault()` or a schedule entry. */
export interface FaultSpec {
  /** Express route pattern, e.g. `/api/users/:id`, or `*` for every API route. */
  readonly route: string;
  /** Added latency per request in ms (default 0). */
  readonly latencyMs?: number;
  /** Up to this many ms more, uniformly at random, on top of `latencyMs` (default 0). */
  readonly jitterMs?: number;
  /** Share of requests that fail with an injected error, 0..1 (default 0). */
  readonly errorRate?: number;
  /** The fault lifts by itself after this many ms; absent: until cleared. */
  readonly durationMs?: number;
}

/** A fault in force. */
export interface ActiveFault {
  readonly route: string;
  readonly latencyMs: number;
  readonly jitterMs: number;
  readonly errorRate: number;
  /** Where it came from. */
  readonly source: 'admin' | 'schedule';
  /** When it was set, Unix ms. */
  readonly since: number;
  /** When it lifts, Unix ms; absent: until cleared. */
  readonly until?: number;
}

/** The error an injected fault throws; the app's error middleware turns it into a 500. */
export class InjectedFaultError extends Error {
  readonly route: string;

  constructor(route: string) {
    super(`injected fault on ${route}`);
    this.name = 'InjectedFaultError';
    this.route = route;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const specKeys = new Set(['route', 'latencyMs', 'jitterMs', 'errorRate', 'durationMs']);

/**
 * Validates a fault request, reporting every problem at once. With `knownRoutes`, the route
 * must be one of them or `*` (a concrete path such as `/api/users/1` is a common mistake).
 */
export function parseFaultSpec(input: unknown, knownRoutes?: readonly string[], extraKeys: readonly string[] = []): { spec?: FaultSpec; problems: string[] } {
  if (!isRecord(input)) return { problems: ['expected a JSON object like {"route":"/api/users","latencyMs":800,"errorRate":0}'] };
  const problems: string[] = [];
  for (const key of Object.keys(input)) if (!specKeys.has(key) && !extraKeys.includes(key)) problems.push(`unknown field "${key}"`);
  const { route, latencyMs, jitterMs, errorRate, durationMs } = input;
  if (typeof route !== 'string' || route.length === 0) problems.push('route: expected a route pattern such as "/api/users" or "*"');
  else if (knownRoutes && route !== ANY_ROUTE && !knownRoutes.includes(route)) problems.push(`route: "${route}" is not a route of the app (known: ${knownRoutes.join(', ')}, or * for all)`);
  const nonNegative = (name: string, value: unknown): void => {
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= 0)) problems.push(`${name}: expected a number of ms >= 0`);
  };
  nonNegative('latencyMs', latencyMs);
  nonNegative('jitterMs', jitterMs);
  if (durationMs !== undefined && !(typeof durationMs === 'number' && Number.isFinite(durationMs) && durationMs > 0)) problems.push('durationMs: expected a number of ms > 0');
  if (errorRate !== undefined && !(typeof errorRate === 'number' && errorRate >= 0 && errorRate <= 1)) problems.push('errorRate: expected a number from 0 to 1');
  if (problems.length > 0) return { problems };
  return {
    spec: {
      route: route as string,
      ...(latencyMs === undefined ? {} : { latencyMs: latencyMs as number }),
      ...(jitterMs === undefined ? {} : { jitterMs: jitterMs as number }),
      ...(errorRate === undefined ? {} : { errorRate: errorRate as number }),
      ...(durationMs === undefined ? {} : { durationMs: durationMs as number }),
    },
    problems,
  };
}

/** The faults in force, by route pattern. One fault per route: setting a route again replaces it. */
export class FaultRegistry {
  readonly #faults = new Map<string, ActiveFault>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** Puts a fault in force (replacing the route's previous one) and returns it. */
  set(spec: FaultSpec, source: ActiveFault['source'] = 'admin'): ActiveFault {
    const since = this.#now();
    const fault: ActiveFault = {
      route: spec.route,
      latencyMs: spec.latencyMs ?? 0,
      jitterMs: spec.jitterMs ?? 0,
      errorRate: spec.errorRate ?? 0,
      source,
      since,
      ...(spec.durationMs === undefined ? {} : { until: since + spec.durationMs }),
    };
    this.#faults.set(spec.route, fault);
    return fault;
  }

  /** Lifts the fault of one route, or all faults; returns how many were lifted. */
  clear(route?: string): number {
    this.#expire();
    if (route === undefined) {
      const n = this.#faults.size;
      this.#faults.clear();
      return n;
    }
    return this.#faults.delete(route) ? 1 : 0;
  }

  /** The fault for a request on `route`: the route's own, else the `*` fault. */
  forRoute(route: string): ActiveFault | undefined {
    this.#expire();
    return this.#faults.get(route) ?? this.#faults.get(ANY_ROUTE);
  }

  /** Every fault in force. */
  list(): ActiveFault[] {
    this.#expire();
    return [...this.#faults.values()];
  }

  #expire(): void {
    const now = this.#now();
    for (const [route, fault] of this.#faults) if (fault.until !== undefined && fault.until <= now) this.#faults.delete(route);
  }
}

/** How long a request under `fault` waits: latency plus a random share of the jitter. */
export function faultDelayMs(fault: Pick<ActiveFault, 'latencyMs' | 'jitterMs'>, random: () => number = Math.random): number {
  return fault.latencyMs + (fault.jitterMs > 0 ? random() * fault.jitterMs : 0);
}

/** Whether a request under `fault` fails. */
export function faultFails(fault: Pick<ActiveFault, 'errorRate'>, random: () => number = Math.random): boolean {
  return fault.errorRate > 0 && random() < fault.errorRate;
}
