export { signalSerde, signalsTopic } from './signals.js';
export type { SignalRecord } from './signals.js';
export { signalValueSerde, signalValuesTopic } from './signal-values.js';
export type { SignalValue } from './signal-values.js';
export { anomaliesTopic, anomalyEventId, anomalySerde, anomalyToJson } from './anomalies.js';
export type { AnomalyContext, AnomalyEvent, AnomalyEventJson, AnomalySeverity, AnomalyState } from './anomalies.js';
export { sloEventId, sloEventSerde, sloTopic } from './slo.js';
export type { SloAlertState, SloEvent, SloTier } from './slo.js';
