export { WeightedPicker, dueRequests, parseMix, plannedRequests, quantile, runLoad } from './loadgen.js';
export type { LoadOptions, LoadResult, MixEntry, RouteStats, TrafficMix } from './loadgen.js';
export { demoMix, formatLoadResult, loadgenUsage, parseDuration, parseMixSpec, runLoadgen } from './cli.js';
