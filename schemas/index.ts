export { signalSerde, signalsTopic } from './signals.js';
export type { SignalRecord } from './signals.js';
export { signalValueSerde, signalValuesTopic } from './signal-values.js';
export type { SignalValue } from './signal-values.js';
