/** The API routes of the demo app, as Express patterns (and so as `http.route` values). */
export const demoRoutes = [
  { method: 'GET', route: '/api/users' },
  { method: 'GET', route: '/api/users/:id' },
  { method: 'POST', route: '/api/orders' },
  { method: 'GET', route: '/api/checkout' },
] as const;

/** The route patterns faults can be set on (besides `*`). */
export const demoRoutePatterns: readonly string[] = demoRoutes.map((r) => r.route);
