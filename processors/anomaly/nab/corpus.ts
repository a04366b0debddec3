import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { packageRoot } from '../../../runtime/package-root.js';
import { loadNabCsv } from './csv.js';
import type { NabSeries } from './csv.js';
import { loadNabWindows } from './labels.js';
import type { NabWindow } from './labels.js';

const projectRoot = packageRoot(import.meta.url);

/**
 * The NAB folder: AIOPS_NAB_DIR when set, else the first `shared/nab` found beside the project
 * root or one of its ancestors (`../shared/nab` in the usual layout).
 */
export function defaultNabDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AIOPS_NAB_DIR) return resolve(env.AIOPS_NAB_DIR);
  for (let dir = resolve(projectRoot, '..'); ; dir = dirname(dir)) {
    const candidate = join(dir, 'shared', 'nab');
    if (existsSync(join(candidate, 'data'))) return candidate;
    if (dirname(dir) === dir) break;
  }
  return resolve(projectRoot, '..', 'shared', 'nab');
}

/** One data file of a NAB corpus with its labelled windows. */
export interface NabFile {
  /** `<category>/<file>.csv`, the key in the label files and the path under data/ and results. */
  readonly name: string;
  readonly series: NabSeries;
  readonly windows: readonly NabWindow[];
}

/** Names (`<category>/<file>.csv`) of the data files under `<dir>/data`, sorted. */
export function listNabFiles(dir: string): string[] {
  const data = join(dir, 'data');
  if (!existsSync(data)) throw new Error(`NAB data folder not found: ${data} (set AIOPS_NAB_DIR or pass the NAB folder)`);
  const names: string[] = [];
  for (const category of readdirSync(data, { withFileTypes: true })) {
    if (!category.isDirectory()) continue;
    for (const file of readdirSync(join(data, category.name))) if (file.endsWith('.csv')) names.push(`${category.name}/${file}`);
  }
  return names.sort();
}

/**
 * Loads a NAB corpus folder (`data/<category>/<file>.csv` and `labels/combined_windows.json`).
 * `only` restricts it to the named files. A file missing from the labels has no windows.
 */
export function loadNabCorpus(dir: string, only?: readonly string[]): NabFile[] {
  const labelsPath = join(dir, 'labels', 'combined_windows.json');
  if (!existsSync(labelsPath)) throw new Error(`NAB labels not found: ${labelsPath} (set AIOPS_NAB_DIR or pass the NAB folder)`);
  const labels = loadNabWindows(labelsPath);
  const names = only && only.length > 0 ? [...only] : listNabFiles(dir);
  return names.map((name) => ({ name, series: loadNabCsv(join(dir, 'data', name)), windows: labels.get(name) ?? [] }));
}
