import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot, versions } from '../config.js';
import type { StackConfig } from '../config.js';
import { capture, isComplete, markComplete, requireTool, runLogged } from '../install.js';
import { httpProbe } from '../probes.js';
import type { StackComponent } from '../types.js';

export const influxdbConfigFile = join(projectRoot, 'compose/influxdb/influxdb.conf');

/**
 * The database the stack creates after start. InfluxDB 1.8's v2 compatibility API names it as the
 * bucket `aiops/autogen` (database/retention policy) or just `aiops` (its default policy).
 */
export const influxdbDatabase = 'aiops';
/** `bucket` for /api/v2/write and Flux's `from(bucket:)`. */
export const influxdbBucket = `${influxdbDatabase}/autogen`;

function installDir(config: StackConfig): string {
  return join(config.cacheDir, 'influxdb', versions.influxdb);
}

/** Runs one InfluxQL statement through POST /query and throws on an error in its answer. */
async function influxql(url: string, statement: string): Promise<void> {
  const response = await fetch(`${url}/query`, {
    method: 'POST',
    body: new URLSearchParams({ q: statement }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let error: string | undefined;
  try {
    const body = JSON.parse(text) as { error?: string; results?: { error?: string }[] };
    error = body.error ?? body.results?.find((r) => r.error)?.error;
  } catch {
    error = text;
  }
  if (!response.ok || error) throw new Error(`InfluxDB ${statement}: HTTP ${response.status}: ${error ?? text}`);
}

export const influxdb: StackComponent = {
  name: 'influxdb',
  title: 'InfluxDB 1.8 (time-series store, v2 write API)',
  // Flux's standard library is type-checked at start: about 4 s on 2 idle cores.
  startTimeoutMs: 60_000,

  async install(config, log) {
    const dir = installDir(config);
    if (isComplete(dir)) return;
    requireTool('go', 'InfluxDB is built from its Go module');
    const logFile = join(config.logDir, 'install-influxdb.log');
    log(`building InfluxDB (${versions.influxdbModule}@${versions.influxdb}) from the Go module proxy (about a minute, once)`);
    // Built inside the downloaded module, like Jaeger, so its go.mod and go.sum are used as they are.
    const info = JSON.parse(await capture('go', ['mod', 'download', '-json', `${versions.influxdbModule}@${versions.influxdb}`])) as { Dir?: string };
    if (!info.Dir) throw new Error('go mod download returned no module directory');
    const staging = `${dir}.partial`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    const version = versions.influxdb.replace(/^v/, '');
    await runLogged('go', ['build', '-trimpath', '-ldflags', `-X main.version=${version} -X main.branch=${versions.influxdb}`, '-o', join(staging, 'influxd'), './cmd/influxd'], {
      cwd: info.Dir,
      // 1.8's Flux (v0.65) is pure Go; 2.x needs Rust for it, which is why 1.8 is used.
      env: { GOFLAGS: '-mod=readonly', CGO_ENABLED: '0' },
      logFile,
      what: 'InfluxDB',
    });
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
    markComplete(dir, `influxdb ${versions.influxdb}`);
  },

  async prepare(config) {
    const data = join(config.dataDir, 'influxdb');
    for (const sub of ['meta', 'data', 'wal']) mkdirSync(join(data, sub), { recursive: true });
    return {
      command: join(installDir(config), 'influxd'),
      args: ['run', '-config', influxdbConfigFile],
      // InfluxDB applies INFLUXDB_<SECTION>_<KEY> over the file's values.
      env: {
        INFLUXDB_META_DIR: join(data, 'meta'),
        INFLUXDB_DATA_DIR: join(data, 'data'),
        INFLUXDB_DATA_WAL_DIR: join(data, 'wal'),
        INFLUXDB_HTTP_BIND_ADDRESS: `${config.host}:${config.ports.influxdb.http}`,
        // The backup/restore RPC listener cannot be turned off; an ephemeral port keeps it from
        // taking 8088 (or anything else) on a shared machine.
        INFLUXDB_BIND_ADDRESS: '127.0.0.1:0',
      },
    };
  },

  probe(config) {
    return httpProbe(`${influxdbUrl(config)}/health`);
  },

  async afterStart(config) {
    // Writes to a missing database are refused (404), so the stack creates it. Idempotent.
    await influxql(influxdbUrl(config), `CREATE DATABASE "${influxdbDatabase}"`);
  },

  addresses(config) {
    return { http: influxdbUrl(config) };
  },

  ports(config) {
    return [config.ports.influxdb.http];
  },
};

export function influxdbUrl(config: StackConfig): string {
  return `http://${config.host}:${config.ports.influxdb.http}`;
}
