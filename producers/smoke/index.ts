export { sendSmokeTelemetry, smokeMetricNames } from './smoke-producer.js';
export type { SmokeOptions, SmokeResult } from './smoke-producer.js';
