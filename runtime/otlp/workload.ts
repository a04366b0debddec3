/**
 * A deterministic synthetic workload: HTTP servers reporting `http.server.request.duration` as
 * OTLP histograms, with the ground truth of every interval, so tests, benchmarks and replay can
 * drive the pipeline with exact, repeatable input and check what comes out against what went in.
 *
 * Randomness comes from one seeded stream per (instance, route). Each request draws the same
 * numbers whatever the fault settings (one uniform for its status class, one for its latency
 * quantile), so a fault injected on one route changes that route's statuses and latencies only:
 * request counts, and every other series, stay byte-identical to a run without the fault.
 */

import { nanosDecimal } from './encode-rules.js';
import { Prng, inverseNormal, mixSeed } from './prng.js';
import type { HistogramPoint, MetricsRequest } from './types.js';
import { Temporality } from './types.js';
import { HTTP_DURATION_BUCKETS, STATUS_CLASSES, StatusClass, routeSpec, serviceName, statusCode } from './workload-catalog.js';
import type { RouteSpec } from './workload-catalog.js';
import type { IntervalTruth, RouteTruth } from './workload-truth.js';

export type { IntervalTruth, RouteTruth } from './workload-truth.js';
export { truthTotals } from './workload-truth.js';

export interface WorkloadOptions {
  services: number;
  instancesPerService: number;
  routesPerService: number;
  /** Start of the first interval (and of every cumulative series), Unix ms. */
  startTimeMs: number;
  intervalMs: number;
  temporality: 'cumulative' | 'delta';
  seed: number;
  /** Explicit bucket bounds in seconds; default the semantic-convention buckets. */
  histogramBounds?: number[];
  /** Mean requests per interval for each route of each instance (Poisson); default 100. */
  requestsPerIntervalPerRoute?: number;
  /** Initial share of requests answered 5xx, per route; default 0.01. */
  errorRate?: number;
  /** Share of requests answered 4xx (not errors: the client's fault); default 0.02. */
  clientErrorRate?: number;
}

export interface InstanceInfo {
  service: string;
  instanceId: string;
  hostName: string;
}

/** Spread of per-request latency around the route's median (log-normal sigma). */
const LATENCY_SIGMA = 0.5;
/**
 * The log-normal multiplier's quantile function sampled on a grid: a request's latency costs a
 * table lookup instead of a logarithm and an exponential. The outermost cells (the tails, 1 in
 * 4096 each side) are computed exactly so the extremes stay unbounded.
 */
const GRID = 4096;
const MULTIPLIERS = Float64Array.from({ length: GRID + 1 }, (_, i) => (i === 0 || i === GRID ? 0 : Math.exp(LATENCY_SIGMA * inverseNormal(i / GRID))));

function latencyMultiplier(u: number): number {
  const x = u * GRID;
  const i = Math.floor(x);
  if (i < 1 || i >= GRID - 1) return Math.exp(LATENCY_SIGMA * inverseNormal(u));
  const lo = MULTIPLIERS[i] as number;
  return lo + (x - i) * ((MULTIPLIERS[i + 1] as number) - lo);
}

const SCOPE = { name: 'aiops.workload.http', version: '1.0.0' };
const METRIC = { name: 'http.server.request.duration', description: 'Duration of HTTP server requests.', unit: 's' };

/** Running (cumulative) or per-interval state of one series: one route × status class. */
interface Series {
  seen: boolean;
  count: number;
  sum: number;
  min: number;
  max: number;
  buckets: number[];
}

function newSeries(buckets: number): Series {
  return { seen: false, count: 0, sum: 0, min: Infinity, max: -Infinity, buckets: new Array<number>(buckets).fill(0) };
}

function resetSeries(s: Series): void {
  s.count = 0;
  s.sum = 0;
  s.min = Infinity;
  s.max = -Infinity;
  s.buckets.fill(0);
}

export class HttpWorkload {
  readonly services: readonly string[];
  readonly instances: readonly InstanceInfo[];
  readonly bounds: readonly number[];
  private readonly options: Required<WorkloadOptions>;
  private readonly routes: readonly RouteSpec[];
  /** Per service, per route: median latency (s), traffic weight, and the fault settings. */
  private readonly medians: number[][];
  private readonly weights: number[][];
  private readonly latencyFactors: number[][];
  private readonly errorRates: number[][];
  /** Per instance: one random stream per route, and the cumulative series per route × class. */
  private readonly streams: Prng[][];
  private readonly cumulative: Series[][];
  /** This interval's series per route × class, reused. */
  private readonly scratch: Series[];
  private interval = 0;
  private truth: IntervalTruth | undefined;

  constructor(options: WorkloadOptions) {
    this.options = {
      ...options,
      histogramBounds: options.histogramBounds ?? [...HTTP_DURATION_BUCKETS],
      requestsPerIntervalPerRoute: options.requestsPerIntervalPerRoute ?? 100,
      errorRate: options.errorRate ?? 0.01,
      clientErrorRate: options.clientErrorRate ?? 0.02,
    };
    const o = this.options;
    for (const key of ['services', 'instancesPerService', 'routesPerService'] as const) {
      if (!Number.isInteger(o[key]) || o[key] < 1) throw new RangeError(`${key} must be a positive integer, got ${o[key]}`);
    }
    if (!(o.intervalMs > 0) || !(o.startTimeMs >= 0)) throw new RangeError('intervalMs must be > 0 and startTimeMs >= 0');
    checkRate('errorRate', o.errorRate);
    checkRate('clientErrorRate', o.clientErrorRate);
    this.bounds = [...o.histogramBounds];
    if (this.bounds.some((b, i) => i > 0 && b <= (this.bounds[i - 1] as number))) throw new RangeError('histogramBounds must increase');

    this.services = Array.from({ length: o.services }, (_, s) => serviceName(s));
    this.routes = Array.from({ length: o.routesPerService }, (_, r) => routeSpec(r));
    // Each route's character comes from its own stream, so it does not change with the shape.
    const config = this.services.map((_, s) => this.routes.map((_r, r) => new Prng(mixSeed(o.seed, 0x5eed, s, r))));
    // Medians between 10 and 120 ms, log-uniform: a few fast routes, a few slow ones.
    this.medians = config.map((routes) => routes.map((rng) => 0.01 * Math.exp(rng.uniform(0, Math.log(12)))));
    this.weights = config.map((routes) => routes.map((rng) => rng.uniform(0.5, 1.5)));
    this.latencyFactors = this.services.map(() => this.routes.map(() => 1));
    this.errorRates = this.services.map(() => this.routes.map(() => o.errorRate));

    const instances: InstanceInfo[] = [];
    for (const service of this.services) {
      for (let i = 0; i < o.instancesPerService; i++) instances.push({ service, instanceId: `${service}-${i}`, hostName: `host-${instances.length}` });
    }
    this.instances = instances;
    const nBuckets = this.bounds.length + 1;
    // Seeded by (service, instance, route) rather than position, for the same reason.
    this.streams = instances.map((_, i) => {
      const [s, k] = [Math.floor(i / o.instancesPerService), i % o.instancesPerService];
      return this.routes.map((_r, r) => new Prng(mixSeed(o.seed, s, k, r)));
    });
    this.cumulative = instances.map(() => this.routes.flatMap(() => STATUS_CLASSES.map(() => newSeries(nBuckets))));
    this.scratch = STATUS_CLASSES.map(() => newSeries(nBuckets));
  }

  /** The routes every service serves. */
  routesOf(service: string): readonly RouteSpec[] {
    this.serviceIndex(service);
    return this.routes;
  }

  /** Multiplies the latency of a route ('*': every route) of a service, from the next interval. */
  setLatencyFactor(service: string, route: string, factor: number): void {
    if (!(factor > 0) || factor === Infinity) throw new RangeError(`latency factor must be positive, got ${factor}`);
    this.forRoutes(service, route, (s, r) => ((this.latencyFactors[s] as number[])[r] = factor));
  }

  /** Sets the share of 5xx answers of a route ('*': every route) of a service, from the next interval. */
  setErrorRate(service: string, route: string, rate: number): void {
    checkRate('error rate', rate);
    this.forRoutes(service, route, (s, r) => ((this.errorRates[s] as number[])[r] = rate));
  }

  /** Truth of the interval the last `next()` produced. */
  lastTruth(): IntervalTruth {
    if (!this.truth) throw new Error('lastTruth() before the first next()');
    return this.truth;
  }

  /** Advances one interval: one request per instance, each with one resource. */
  next(): MetricsRequest[] {
    const o = this.options;
    const k = this.interval++;
    const startMs = o.startTimeMs + k * o.intervalMs;
    const endMs = startMs + o.intervalMs;
    const cumulative = o.temporality === 'cumulative';
    const pointStart = nanosDecimal('', cumulative ? o.startTimeMs : startMs);
    const pointEnd = nanosDecimal('', endMs);
    const truths: RouteTruth[] = [];
    const requests: MetricsRequest[] = [];

    this.instances.forEach((inst, i) => {
      const s = Math.floor(i / o.instancesPerService);
      const points: HistogramPoint[] = [];
      this.routes.forEach((spec, r) => {
        const truth = this.simulate(s, r, this.streams[i]?.[r] as Prng, inst, spec);
        truths.push(truth);
        for (const cls of STATUS_CLASSES) {
          const delta = this.scratch[cls] as Series;
          let series = delta;
          if (cumulative) {
            series = this.cumulative[i]?.[r * STATUS_CLASSES.length + cls] as Series;
            if (delta.count > 0) merge(series, delta);
          }
          if (!series.seen) continue;
          points.push({
            attributes: { 'http.route': spec.route, 'http.request.method': spec.method, 'http.response.status_code': statusCode(spec.method, cls) },
            startTimeMs: cumulative ? o.startTimeMs : startMs,
            timeMs: endMs,
            startTimeUnixNano: pointStart,
            timeUnixNano: pointEnd,
            flags: 0,
            count: series.count,
            sum: series.sum,
            min: series.min,
            max: series.max,
            bucketCounts: series.buckets.slice(),
            explicitBounds: this.bounds.slice(),
          });
        }
      });
      requests.push({
        resourceMetrics: [
          {
            resource: { 'service.name': inst.service, 'service.instance.id': inst.instanceId, 'host.name': inst.hostName },
            scopeMetrics: [
              {
                scope: { ...SCOPE, attributes: {} },
                // A delta interval without requests has no points, and then (as in the SDK) no metric.
                metrics: points.length === 0 ? [] : [{ ...METRIC, kind: 'histogram', temporality: cumulative ? Temporality.CUMULATIVE : Temporality.DELTA, points }],
              },
            ],
          },
        ],
      });
    });
    this.truth = { interval: k, startTimeMs: startMs, endTimeMs: endMs, routes: truths };
    return requests;
  }

  /** Draws one interval of one instance's route into `scratch` (per status class) and its truth. */
  private simulate(s: number, r: number, rng: Prng, inst: InstanceInfo, spec: RouteSpec): RouteTruth {
    const o = this.options;
    for (const series of this.scratch) {
      resetSeries(series);
      series.seen = false;
    }
    const n = rng.poisson(o.requestsPerIntervalPerRoute * (this.weights[s]?.[r] as number));
    const errorRate = this.errorRates[s]?.[r] as number;
    const clientLimit = Math.min(1, errorRate + o.clientErrorRate);
    const median = (this.medians[s]?.[r] as number) * (this.latencyFactors[s]?.[r] as number);
    const bounds = this.bounds;
    const truth: RouteTruth = {
      service: inst.service,
      instanceId: inst.instanceId,
      route: spec.route,
      method: spec.method,
      requests: n,
      errors: 0,
      clientErrors: 0,
      bucketCounts: new Array<number>(bounds.length + 1).fill(0),
      latencySum: 0,
    };
    for (let j = 0; j < n; j++) {
      const u = rng.next();
      const cls = u < errorRate ? StatusClass.SERVER_ERROR : u < clientLimit ? StatusClass.CLIENT_ERROR : StatusClass.OK;
      const latency = median * latencyMultiplier(rng.open());
      let b = 0;
      while (b < bounds.length && latency > (bounds[b] as number)) b++;
      const series = this.scratch[cls] as Series;
      series.seen = true;
      series.count++;
      series.sum += latency;
      if (latency < series.min) series.min = latency;
      if (latency > series.max) series.max = latency;
      series.buckets[b] = (series.buckets[b] as number) + 1;
      truth.bucketCounts[b] = (truth.bucketCounts[b] as number) + 1;
      truth.latencySum += latency;
      if (cls === StatusClass.SERVER_ERROR) truth.errors++;
      else if (cls === StatusClass.CLIENT_ERROR) truth.clientErrors++;
    }
    return truth;
  }

  private serviceIndex(service: string): number {
    const s = this.services.indexOf(service);
    if (s < 0) throw new Error(`unknown service "${service}"; known: ${this.services.join(', ')}`);
    return s;
  }

  private forRoutes(service: string, route: string, apply: (s: number, r: number) => void): void {
    const s = this.serviceIndex(service);
    if (route === '*') return this.routes.forEach((_, r) => apply(s, r));
    const r = this.routes.findIndex((x) => x.route === route);
    if (r < 0) throw new Error(`unknown route "${route}" of ${service}; known: ${this.routes.map((x) => x.route).join(', ')}`);
    apply(s, r);
  }
}

function merge(into: Series, delta: Series): void {
  into.seen = true;
  into.count += delta.count;
  into.sum += delta.sum;
  if (delta.min < into.min) into.min = delta.min;
  if (delta.max > into.max) into.max = delta.max;
  for (let b = 0; b < into.buckets.length; b++) into.buckets[b] = (into.buckets[b] as number) + (delta.buckets[b] as number);
}

function checkRate(name: string, rate: number): void {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`${name} must be within [0, 1], got ${rate}`);
}
