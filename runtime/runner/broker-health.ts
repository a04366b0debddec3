import type { Clock } from '../types.js';

/** The default of {@link BrokerHealth}'s staleness: how long without a broker round trip is an outage. */
export const defaultBrokerStaleMs = 10_000;

/**
 * Whether a runner can reach its broker, for `/ready`: a failed fetch, heartbeat, commit or a
 * consumer crash makes it unhealthy at once, and so does no successful round trip for
 * `staleAfterMs` (a consumer whose connection hangs reports nothing at all); the next success
 * makes it healthy again. Healthy before the first round trip: until then the start's own
 * readiness (group joined, state restored) decides.
 */
export class BrokerHealth {
  private lastSuccessAt: number | undefined;
  private failure: string | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly staleAfterMs = defaultBrokerStaleMs,
  ) {}

  /** A broker round trip succeeded (a fetch, a heartbeat, a commit). */
  succeeded(): void {
    this.lastSuccessAt = this.clock.now();
    this.failure = undefined;
  }

  /** A broker round trip failed. */
  failed(reason: string): void {
    this.failure = reason;
  }

  /** Why the broker counts as unreachable, or undefined while it does not. */
  problem(): string | undefined {
    if (this.failure !== undefined) return this.failure;
    if (this.lastSuccessAt === undefined) return undefined;
    const quietMs = this.clock.now() - this.lastSuccessAt;
    return quietMs > this.staleAfterMs ? `no broker round trip for ${quietMs} ms` : undefined;
  }
}

/** The part of a kafkajs consumer that reports its broker round trips. */
export interface ConsumerEvents {
  readonly events: { readonly FETCH: string; readonly HEARTBEAT: string; readonly REQUEST_TIMEOUT: string; readonly CRASH: string };
  on(event: string, listener: (event: { payload: unknown }) => void): unknown;
}

/** Feeds a consumer's fetches and heartbeats (successes), request timeouts and crashes (failures) to `health`. */
export function watchConsumer(consumer: ConsumerEvents, health: BrokerHealth): void {
  consumer.on(consumer.events.FETCH, () => health.succeeded());
  consumer.on(consumer.events.HEARTBEAT, () => health.succeeded());
  consumer.on(consumer.events.REQUEST_TIMEOUT, (event) => {
    const { apiName, broker } = (event.payload ?? {}) as { apiName?: string; broker?: string };
    health.failed(`request ${apiName ?? ''} to ${broker ?? 'the broker'} timed out`);
  });
  consumer.on(consumer.events.CRASH, (event) => {
    const { error } = (event.payload ?? {}) as { error?: Error };
    health.failed(`consumer crashed: ${error?.message ?? 'unknown error'}`);
  });
}
