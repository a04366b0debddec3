export { decodeMetricsRequest } from './decode-metrics.js';
export { ProtoDecodeError, ProtoReader, WireType } from './proto-reader.js';
export { Temporality } from './types.js';
export type * from './types.js';
