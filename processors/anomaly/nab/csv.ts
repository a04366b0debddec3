import { readFileSync } from 'node:fs';

/** One NAB data file: rows in file order (duplicate timestamps kept as separate rows). */
export interface NabSeries {
  /** Timestamps as written in the file (used to write results in NAB's layout). */
  readonly stamps: string[];
  /** Timestamps in ms since the epoch, UTC. */
  readonly timestamps: Float64Array;
  /** Second column: `value` in data files, `anomaly_score` in results files (NaN when unparsable). */
  readonly values: Float64Array;
}

/**
 * Parses a NAB timestamp, `YYYY-MM-DD HH:MM:SS` with optional fractional seconds and an
 * optional `T` separator, as UTC. NaN when it does not match.
 */
export function parseNabTimestamp(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$/.exec(text.trim());
  if (!m) return Number.NaN;
  const ms = m[7] === undefined ? 0 : Math.round(Number(`0.${m[7]}`) * 1000);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0), ms);
}

/**
 * Parses the text of a two-column NAB CSV (a header line, then `timestamp,number`), accepting
 * LF or CRLF line endings and skipping blank lines. Throws on a row whose timestamp does not
 * parse, naming the line.
 */
export function parseNabCsv(text: string, source = 'csv'): NabSeries {
  const lines = text.split(/\r?\n/);
  const stamps: string[] = [];
  const times: number[] = [];
  const values: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    const comma = line.indexOf(',');
    const stamp = comma < 0 ? line : line.slice(0, comma);
    const ts = parseNabTimestamp(stamp);
    if (Number.isNaN(ts)) throw new Error(`${source}:${i + 1}: unparsable timestamp "${stamp}"`);
    const rest = comma < 0 ? '' : line.slice(comma + 1).trim();
    stamps.push(stamp);
    times.push(ts);
    values.push(rest === '' ? Number.NaN : Number(rest));
  }
  return { stamps, timestamps: Float64Array.from(times), values: Float64Array.from(values) };
}

/** Reads and parses one NAB CSV file (see {@link parseNabCsv}). */
export function loadNabCsv(path: string): NabSeries {
  return parseNabCsv(readFileSync(path, 'utf8'), path);
}
