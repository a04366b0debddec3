import type { ProcessorFactory } from '../../runtime/types.js';
import type { IngestConfig } from './config.js';
import { IngestProcessor } from './ingest-processor.js';

export { defaultRules, parseIngestConfig } from './config.js';
export type { IngestConfig, SignalRule } from './config.js';
export { IngestProcessor } from './ingest-processor.js';
export { parseSignalKey, signalKey } from './signal-keys.js';

/** The collector's metrics topic, ingest's input. */
export const ingestInputTopic = 'otlp_metrics';

export function ingestFactory(config: IngestConfig): ProcessorFactory {
  return () => new IngestProcessor(config);
}
