import { writeDashboards } from '../grafana/build.js';

/** `aiops dashboards [--check]`: writes compose/grafana/dashboards/ from grafana/dashboards.ts. */
export function runDashboards(argv: string[]): number {
  const check = argv.includes('--check');
  const differing = writeDashboards(check);
  for (const path of differing) console.log(check ? `stale: ${path} (run npm run dashboards)` : `wrote ${path}`);
  if (differing.length === 0) console.log('dashboards are up to date');
  return check && differing.length > 0 ? 1 : 0;
}
