import type { Consumer, ConsumerRunConfig } from 'kafkajs';
import type { Logger } from '../logger.js';
import { isTransientKafkaError, retryKafka } from '../retry.js';

/** How long a consumer that crashed on a transient broker error is restarted for (ms). */
export const consumerRestartDeadlineMs = 10 * 60_000;

/**
 * Whether a consumer crash that kafkajs will not restart by itself should be restarted here.
 * kafkajs restarts only errors it marks retriable; a broker stopped in the middle of a rebalance
 * ends the consumer with non-retriable wrappers of transient answers (`Failed to find group
 * coordinator`), which a broker that comes back cures.
 */
export function restartableCrash(restartedByKafkajs: boolean, error: unknown): boolean {
  return !restartedByKafkajs && isTransientKafkaError(error);
}

/**
 * Connects the crashed consumer again and runs it with the same configuration (its subscriptions
 * are kept), retrying while the broker is unreachable (retryKafka, up to
 * {@link consumerRestartDeadlineMs}); then throws AIOPS_ERR_KAFKA_NOT_READY. `stillWanted` false
 * (the runner is stopping) ends it quietly.
 */
export async function restartConsumer(name: string, consumer: Consumer, config: ConsumerRunConfig, stillWanted: () => boolean, log: Logger): Promise<void> {
  await retryKafka(
    `${name}: restarting the consumer after a broker failure`,
    async (attempt) => {
      if (!stillWanted()) return;
      if (attempt > 1) log.warn({ attempt }, 'restarting the consumer: broker still unreachable');
      await consumer.connect();
      await consumer.run(config);
    },
    { deadlineMs: consumerRestartDeadlineMs, initialDelayMs: 1_000 },
  );
}
