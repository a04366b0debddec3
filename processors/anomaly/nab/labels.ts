import { readFileSync } from 'node:fs';
import { parseNabTimestamp } from './csv.js';

/** An anomaly window in time: both ends inclusive, ms since the epoch (UTC). */
export interface NabWindow {
  readonly startMs: number;
  readonly endMs: number;
}

/** Windows per file, keyed `<category>/<file>.csv` as in NAB's label files. */
export type NabLabels = ReadonlyMap<string, readonly NabWindow[]>;

/** Parses the content of `combined_windows.json`: `{"<category>/<file>.csv": [[start, end], ...]}`. */
export function parseNabWindows(json: unknown, source = 'windows'): NabLabels {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${source}: expected an object of file -> windows`);
  const out = new Map<string, NabWindow[]>();
  for (const [file, list] of Object.entries(json as Record<string, unknown>)) {
    if (!Array.isArray(list)) throw new Error(`${source}: ${file}: expected a list of windows`);
    const windows: NabWindow[] = [];
    for (const pair of list as unknown[]) {
      if (!Array.isArray(pair) || pair.length !== 2) throw new Error(`${source}: ${file}: a window is [start, end]`);
      const startMs = parseNabTimestamp(String(pair[0]));
      const endMs = parseNabTimestamp(String(pair[1]));
      if (Number.isNaN(startMs) || Number.isNaN(endMs) || endMs < startMs) throw new Error(`${source}: ${file}: bad window ${JSON.stringify(pair)}`);
      windows.push({ startMs, endMs });
    }
    windows.sort((a, b) => a.startMs - b.startMs);
    out.set(file, windows);
  }
  return out;
}

/** Reads `labels/combined_windows.json` (or another file of the same shape). */
export function loadNabWindows(path: string): NabLabels {
  return parseNabWindows(JSON.parse(readFileSync(path, 'utf8')) as unknown, path);
}
