export { externalEndpointVariables, externalEndpoints, localEndpoints } from './endpoints.js';
export type { SaslSslEndpoint, StackEndpoints } from './endpoints.js';
export { collectMessages, createTopics, endOffsets, readTopicToEnd, kafkaClient, randomTopic } from './kafka-client.js';
export type { CollectOptions, CollectedMessage } from './kafka-client.js';
export { promQuery, promTargets } from './prometheus-client.js';
export type { PromSample } from './prometheus-client.js';
export { findTraces, getServices, getTrace } from './trace-client.js';
export type { Trace, TraceSpan } from './trace-client.js';
