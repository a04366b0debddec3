import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { influxdbBucket, influxdbDatabase } from '../../stack/index.js';
import { stackEndpoints } from '../helpers/stack.js';

/*
 * The InfluxDB sink's contract with a real server (the local stack's InfluxDB 1.8, or INFLUXDB_URL):
 * writes go where @influxdata/influxdb-client's WriteApi sends them, and a query reads back exactly
 * what landed.
 *
 * The requests below are the ones the client makes, byte for byte where it matters:
 *   new InfluxDB({ url, token }).getWriteApi(org, bucket, 'ms') → POST /api/v2/write?org=&bucket=&precision=ms,
 *     `Authorization: Token <token>`, `Content-Type: text/plain; charset=utf-8`, line protocol;
 *   getQueryApi(org).collectRows(flux) → POST /api/v2/query?org=, JSON { query, dialect }, annotated CSV back.
 * This test speaks that HTTP itself, so the server's side of the contract is pinned down apart
 * from the client; `sink-influxdb.test.ts` runs the client (through the sink) against it.
 *
 * InfluxDB 1.8 conventions: org is ignored (any string); bucket is `<database>/<retention policy>`
 * (`aiops/autogen`); auth is off in the stack, so the token may be empty or `user:password`.
 */

const org = 'aiops';
const token = 'aiops:aiops';

/** Line protocol escaping: measurement (comma, space), tag keys/values (comma, equals, space). */
const escapeMeasurement = (s: string): string => s.replace(/[, ]/g, (c) => `\\${c}`);
const escapeTag = (s: string): string => s.replace(/[,= ]/g, (c) => `\\${c}`);
const escapeString = (s: string): string => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;

type Field = number | { int: number } | boolean | string;

function line(measurement: string, tags: Record<string, string>, fields: Record<string, Field>, timeMs: number): string {
  const tagPart = Object.entries(tags)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `,${escapeTag(k)}=${escapeTag(v)}`)
    .join('');
  const fieldPart = Object.entries(fields)
    .map(([k, v]) => {
      const value = typeof v === 'object' ? `${v.int}i` : typeof v === 'string' ? escapeString(v) : String(v);
      return `${escapeTag(k)}=${value}`;
    })
    .join(',');
  return `${escapeMeasurement(measurement)}${tagPart} ${fieldPart} ${timeMs}`;
}

async function write(url: string, body: string, options: { bucket?: string; token?: string } = {}): Promise<Response> {
  const query = new URLSearchParams({ org, bucket: options.bucket ?? influxdbBucket, precision: 'ms' });
  return fetch(`${url}/api/v2/write?${query}`, {
    method: 'POST',
    headers: { Authorization: `Token ${options.token ?? token}`, 'Content-Type': 'text/plain; charset=utf-8' },
    body,
  });
}

/** Splits one CSV line, honouring "quoted, fields" with "" escapes. */
function csvCells(text: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}

type Row = Record<string, string | number | boolean>;

/**
 * Flux's annotated CSV → rows, each value typed by its table's #datatype annotation, and the
 * server's type of each field's `_value` column (`double`, `long`, `string`, `boolean`).
 */
function parseAnnotatedCsv(csv: string): { rows: Row[]; types: Record<string, string> } {
  const rows: Row[] = [];
  const types: Record<string, string> = {};
  let datatypes: string[] = [];
  let header: string[] | undefined;
  for (const raw of csv.split(/\r?\n/)) {
    if (raw === '') {
      header = undefined;
      continue;
    }
    const cells = csvCells(raw);
    if (cells[0] === '#datatype') {
      datatypes = cells;
      header = undefined;
      continue;
    }
    if (cells[0]?.startsWith('#')) continue;
    if (!header) {
      header = cells;
      continue;
    }
    const row: Row = {};
    header.forEach((name, i) => {
      const value = cells[i] ?? '';
      if (name === '' || name === 'result' || name === 'table') return;
      const type = datatypes[i];
      row[name] = type === 'double' || type === 'long' ? Number(value) : type === 'boolean' ? value === 'true' : value;
    });
    const valueType = datatypes[header.indexOf('_value')];
    if (typeof row._field === 'string' && valueType) types[row._field] = valueType;
    rows.push(row);
  }
  return { rows, types };
}

async function flux(url: string, query: string): Promise<{ rows: Row[]; types: Record<string, string> }> {
  const response = await fetch(`${url}/api/v2/query?${new URLSearchParams({ org })}`, {
    method: 'POST',
    headers: { Authorization: `Token ${token}`, 'Content-Type': 'application/json', Accept: 'application/csv' },
    body: JSON.stringify({
      query,
      dialect: { header: true, delimiter: ',', quoteChar: '"', commentPrefix: '#', annotations: ['datatype', 'group', 'default'] },
    }),
  });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return parseAnnotatedCsv(text);
}

/**
 * Flux prints `_time` as RFC 3339 with trailing zeros of the fraction trimmed
 * (`…:53.4Z` for 400 ms), so times are compared as instants, in ISO form.
 */
function rfc3339Millis(value: unknown): string {
  const ms = Date.parse(String(value));
  if (Number.isNaN(ms)) throw new Error(`not an RFC 3339 time: ${String(value)}`);
  return new Date(ms).toISOString();
}

describe('InfluxDB (v2 write API) in the stack', () => {
  const url = stackEndpoints().influxdb;
  // A measurement of its own per run, so reruns against a long-lived stack never see old points.
  const measurement = `aiops_sink_check_${randomBytes(4).toString('hex')}`;
  // A time whose fraction ends in zeros (.400), which Flux prints trimmed (.4).
  const t0 = Math.floor((Date.now() - 60_000) / 1000) * 1000 + 400;

  beforeAll(async () => {
    const response = await fetch(`${url}/query?${new URLSearchParams({ q: 'SHOW DATABASES' })}`);
    const body = (await response.json()) as { results: { series?: { values: string[][] }[] }[] };
    const names = body.results[0]?.series?.[0]?.values.map((v) => v[0]) ?? [];
    expect(names, `the stack creates database "${influxdbDatabase}" after start`).toContain(influxdbDatabase);
  });

  it('accepts points on /api/v2/write and returns the exact values and tags through Flux', async () => {
    const body = [
      line(measurement, { service: 'checkout', route: '/api/pay' }, { latency_ms: 12.5, count: { int: 3 }, ok: true, note: 'first' }, t0),
      line(measurement, { service: 'checkout', route: '/api/pay' }, { latency_ms: 20.25, count: { int: 4 }, ok: false, note: 'a "quoted", note' }, t0 + 1),
      line(measurement, { service: 'my svc', route: '/a,b=c' }, { latency_ms: 7, count: { int: -1 } }, t0 + 2),
    ].join('\n');
    const response = await write(url, body);
    expect(response.status, await response.text()).toBe(204);

    const { rows, types } = await flux(
      url,
      `from(bucket: "${influxdbBucket}")
        |> range(start: ${new Date(t0 - 1000).toISOString()}, stop: ${new Date(t0 + 1000).toISOString()})
        |> filter(fn: (r) => r._measurement == "${measurement}")`,
    );
    const got = rows
      .map((r) => ({ time: rfc3339Millis(r._time), field: r._field, value: r._value, service: r.service, route: r.route, measurement: r._measurement }))
      .sort((a, b) => String(a.time).localeCompare(String(b.time)) || String(a.field).localeCompare(String(b.field)));
    const at = (ms: number): string => new Date(ms).toISOString();
    const base = { measurement, service: 'checkout', route: '/api/pay' };
    const odd = { measurement, service: 'my svc', route: '/a,b=c' };
    expect(got).toEqual([
      { ...base, time: at(t0), field: 'count', value: 3 },
      { ...base, time: at(t0), field: 'latency_ms', value: 12.5 },
      { ...base, time: at(t0), field: 'note', value: 'first' },
      { ...base, time: at(t0), field: 'ok', value: true },
      { ...base, time: at(t0 + 1), field: 'count', value: 4 },
      { ...base, time: at(t0 + 1), field: 'latency_ms', value: 20.25 },
      { ...base, time: at(t0 + 1), field: 'note', value: 'a "quoted", note' },
      { ...base, time: at(t0 + 1), field: 'ok', value: false },
      { ...odd, time: at(t0 + 2), field: 'count', value: -1 },
      { ...odd, time: at(t0 + 2), field: 'latency_ms', value: 7 },
    ]);
    // Integer fields stay integers, floats floats: what the client's intField/floatField asked for.
    expect(types).toEqual({ count: 'long', latency_ms: 'double', note: 'string', ok: 'boolean' });
  });

  it('reads the same points with InfluxQL at /query', async () => {
    const q = `SELECT "latency_ms", "count" FROM "${measurement}" WHERE "service" = 'checkout'`;
    const response = await fetch(`${url}/query?${new URLSearchParams({ db: influxdbDatabase, epoch: 'ms', q })}`);
    const body = (await response.json()) as { results: { series?: { columns: string[]; values: unknown[][] }[] }[] };
    expect(body.results[0]?.series?.[0]).toMatchObject({
      columns: ['time', 'latency_ms', 'count'],
      values: [
        [t0, 12.5, 3],
        [t0 + 1, 20.25, 4],
      ],
    });
  });

  it('accepts an empty token and a bare database name while auth is off', async () => {
    const response = await write(url, line(measurement, { service: 'bare' }, { latency_ms: 1 }, t0 + 3), { token: '', bucket: influxdbDatabase });
    expect(response.status, await response.text()).toBe(204);
    const { rows } = await flux(
      url,
      `from(bucket: "${influxdbBucket}") |> range(start: ${new Date(t0).toISOString()}, stop: ${new Date(t0 + 1000).toISOString()})
        |> filter(fn: (r) => r._measurement == "${measurement}" and r.service == "bare")`,
    );
    expect(rows.map((r) => [r._field, r._value, rfc3339Millis(r._time)])).toEqual([['latency_ms', 1, new Date(t0 + 3).toISOString()]]);
  });

  it('refuses writes to a database that does not exist (404), so a sink must be pointed at one', async () => {
    const response = await write(url, line(measurement, {}, { v: 1 }, t0), { bucket: `missing_${measurement}/autogen` });
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('database not found');
  });
});
