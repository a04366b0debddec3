/**
 * Names for the synthetic HTTP workload: services, routes and status codes. Fixed lists (not
 * seeded) so that tests can name a service or route without first asking the generator.
 */

export const SERVICE_NAMES = [
  'checkout',
  'cart',
  'payment',
  'catalog',
  'shipping',
  'auth',
  'search',
  'recommendation',
  'frontend',
  'inventory',
  'currency',
  'email',
  'ads',
  'quote',
  'reviews',
  'fraud-detection',
] as const;

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RouteSpec {
  route: string;
  method: HttpMethod;
}

const ROUTES: readonly RouteSpec[] = [
  { route: '/api/v1/items', method: 'GET' },
  { route: '/api/v1/items/{id}', method: 'GET' },
  { route: '/api/v1/orders', method: 'POST' },
  { route: '/api/v1/orders/{id}', method: 'GET' },
  { route: '/api/v1/cart', method: 'PUT' },
  { route: '/api/v1/cart/items/{id}', method: 'DELETE' },
  { route: '/api/v1/users/{id}', method: 'GET' },
  { route: '/api/v1/search', method: 'GET' },
  { route: '/api/v1/payments', method: 'POST' },
  { route: '/api/v1/sessions', method: 'POST' },
  { route: '/healthz', method: 'GET' },
  { route: '/metrics', method: 'GET' },
];

/** Status class of a request: 2xx success, 4xx client error, 5xx server error. */
export const StatusClass = { OK: 0, CLIENT_ERROR: 1, SERVER_ERROR: 2 } as const;
export type StatusClass = (typeof StatusClass)[keyof typeof StatusClass];
export const STATUS_CLASSES = [StatusClass.OK, StatusClass.CLIENT_ERROR, StatusClass.SERVER_ERROR] as const;

/** One status code per class and method, so each route has at most three series. */
const STATUS_CODES: Record<HttpMethod, readonly [number, number, number]> = {
  GET: [200, 404, 500],
  POST: [201, 400, 503],
  PUT: [200, 409, 500],
  DELETE: [204, 404, 500],
};

export function statusCode(method: HttpMethod, cls: StatusClass): number {
  return STATUS_CODES[method][cls];
}

export function serviceName(index: number): string {
  return SERVICE_NAMES[index] ?? `service-${index}`;
}

export function routeSpec(index: number): RouteSpec {
  return ROUTES[index] ?? { route: `/api/v1/resource-${index}/{id}`, method: index % 3 === 0 ? 'POST' : 'GET' };
}

/** OTel semantic-convention buckets for http.server.request.duration, in seconds. */
export const HTTP_DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
