import type { DashboardSpec } from './model.js';
import { platformDashboard } from './platform-dashboard.js';
import { serviceDashboard } from './service-dashboard.js';
import { sloDashboard } from './slo-dashboard.js';
import { tracesDashboard } from './traces-dashboard.js';

/*
 * The platform's Grafana dashboards, as code (one module each; shared names in queries.ts).
 * `npm run dashboards` writes them to compose/grafana/dashboards/ (provisioned by compose and
 * helm); test/e2e/demo-scenarios.test.ts runs every query of every panel against the real
 * Prometheus and Jaeger after a demo run.
 */

export { platformDashboard, serviceDashboard, sloDashboard, tracesDashboard };

export const dashboards: readonly DashboardSpec[] = [serviceDashboard, sloDashboard, tracesDashboard, platformDashboard];
