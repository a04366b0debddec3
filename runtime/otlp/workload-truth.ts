/**
 * The ground truth of the synthetic HTTP workload (workload.ts): what each instance's route
 * really served in an interval, for tests that check the pipeline's output exactly.
 */

/** What one instance's route really served in one interval. */
export interface RouteTruth {
  service: string;
  instanceId: string;
  route: string;
  method: string;
  requests: number;
  /** Requests answered with status >= 500. */
  errors: number;
  /** Requests answered 4xx. */
  clientErrors: number;
  /** Latency histogram of this interval's requests (all statuses), over the workload's bounds. */
  bucketCounts: number[];
  /** Sum of this interval's latencies, seconds. */
  latencySum: number;
}

export interface IntervalTruth {
  /** 0 for the first `next()`. */
  interval: number;
  startTimeMs: number;
  endTimeMs: number;
  /** One entry per instance and route, in emission order, including routes with no requests. */
  routes: RouteTruth[];
}

/** Sums truth entries, optionally only those of one service, route or instance. */
export function truthTotals(
  truth: IntervalTruth,
  filter: { service?: string; route?: string; instanceId?: string } = {},
): { requests: number; errors: number; clientErrors: number; bucketCounts: number[] } {
  const out = { requests: 0, errors: 0, clientErrors: 0, bucketCounts: [] as number[] };
  for (const t of truth.routes) {
    if (filter.service !== undefined && t.service !== filter.service) continue;
    if (filter.route !== undefined && t.route !== filter.route) continue;
    if (filter.instanceId !== undefined && t.instanceId !== filter.instanceId) continue;
    out.requests += t.requests;
    out.errors += t.errors;
    out.clientErrors += t.clientErrors;
    t.bucketCounts.forEach((c, i) => (out.bucketCounts[i] = (out.bucketCounts[i] ?? 0) + c));
  }
  return out;
}
