import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../runtime/package-root.js';
import { dashboards } from './dashboards.js';
import { dashboardJson } from './model.js';

/** Where the generated dashboards live: provisioned from there by compose and helm. */
export const dashboardsDir = join(packageRoot(import.meta.url), 'compose', 'grafana', 'dashboards');

/** Each dashboard's file name and its JSON text, as `npm run dashboards` writes it. */
export function dashboardFiles(): Map<string, string> {
  return new Map(dashboards.map((d) => [`${d.uid}.json`, `${JSON.stringify(dashboardJson(d), null, 2)}\n`]));
}

/**
 * Writes the dashboards that differ from the code, or with `check` only lists them; returns the
 * paths that differed (written, or stale when checking).
 */
export function writeDashboards(check = false): string[] {
  mkdirSync(dashboardsDir, { recursive: true });
  const differing: string[] = [];
  for (const [name, text] of dashboardFiles()) {
    const path = join(dashboardsDir, name);
    let current: string | undefined;
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === text) continue;
    differing.push(path);
    if (!check) writeFileSync(path, text);
  }
  return differing;
}
