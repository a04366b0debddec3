import kafkajs from 'kafkajs';
import type { Kafka } from 'kafkajs';
import { asConnection, createKafka } from '../kafka-connect.js';
import type { KafkaConnection } from '../kafka-config.js';
import { registerKafkaCodecs } from '../kafka-codecs.js';
import { createLogger } from '../logger.js';
import type { Logger } from '../logger.js';

const { logLevel } = kafkajs;

/**
 * A kafkajs client for platform processes, logging through pino. `target` is a validated
 * connection (`kafkaConnectionFromEnv`: TLS, SASL) or a plain broker list (plaintext). kafkajs
 * reports retriable broker answers (a coordinator still loading, a concurrent transaction) at
 * error level although it retries them; they are logged as warnings, and what really fails
 * surfaces through the runner.
 */
export function processKafka(target: KafkaConnection | readonly string[], clientId: string, log: Logger = createLogger('kafkajs')): Kafka {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
  // snappy, lz4 and zstd input (the collector's and other producers' defaults) besides gzip.
  registerKafkaCodecs();
  const connection = asConnection(target);
  const logCreator = () => (entry: { level: number; log: { message: string } & Record<string, unknown> }) => {
    const { message, ...rest } = entry.log;
    // A transaction begun right after the previous commit meets CONCURRENT_TRANSACTIONS until
    // the broker has written the commit markers; kafkajs retries it, as it should.
    const routine = typeof rest.error === 'string' && rest.error.includes('another concurrent operation on the same transaction') || message.includes('another concurrent operation on the same transaction');
    if (entry.level <= logLevel.WARN && !routine) log.warn(rest, message);
    else log.debug(rest, message);
  };
  return createKafka(connection, { clientId, logLevel: logLevel.WARN, logCreator });
}
