import type { ProcessorFactory } from '../../runtime/types.js';
import { signalValuesTopic, signalsTopic } from '../../schemas/index.js';
import { EvaluateProcessor } from './evaluate-processor.js';
import type { EvaluateOptions } from './evaluate-processor.js';

export { EvaluateProcessor, toSignalValue } from './evaluate-processor.js';
export type { EvaluateOptions } from './evaluate-processor.js';
export { histogramQuantile } from './quantile.js';
export type { SignalConsumer } from './types.js';

export const evaluateInputTopic = signalsTopic;
export const evaluateOutputTopics = [signalValuesTopic] as const;

export function evaluateFactory(options: EvaluateOptions = {}): ProcessorFactory {
  return () => new EvaluateProcessor(options);
}
