export { defaultPorts, loadStackConfig, portEnvName, projectRoot, versions } from './config.js';
export type { Ports, StackConfig } from './config.js';
export { componentNamed, components, logFileOf, stackDown, stackLogs, stackStatus, stackUp } from './stack.js';
export type { ComponentStatus, UpOptions, UpReport } from './stack.js';
export { kafkaBrokers } from './components/kafka.js';
export { influxdbBucket, influxdbDatabase, influxdbUrl } from './components/influxdb.js';
export { otelcolBinary, otelcolEnv } from './components/otelcol.js';
export { prometheusRulesDir, promtoolBinary } from './components/prometheus.js';
export type { ComponentName, Health, LaunchSpec, StackComponent } from './types.js';
