import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { projectRoot } from '../config.js';
import type { StackConfig } from '../config.js';
import { capture, runLogged } from '../install.js';
import { ensureBaseImage } from './base.js';
import { ensureImageTools } from './tools.js';

type Log = (line: string) => void;

/** The image's name; the tag is package.json's version. */
export const imageRepository = 'ghcr.io/aiops-stream/aiops';

/** Where a checkout's image work lives: the exported OCI layout, unpacked bundles, timings. */
export function imageDir(config: StackConfig): string {
  return join(config.home, 'image');
}

/** The exported OCI layout of the project image (what umoci unpacks for runc). */
export function imageLayout(config: StackConfig): string {
  return join(imageDir(config), 'oci');
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * The storage driver of buildah's store: overlay where the kernel has it and the cache is not on
 * an overlay itself (cheap layer commits: a warm build takes seconds), else vfs (a full copy
 * per layer, but works anywhere, e.g. inside a container). AIOPS_IMAGE_STORAGE_DRIVER overrides.
 */
export async function storageDriver(config: StackConfig, env: NodeJS.ProcessEnv = process.env): Promise<'overlay' | 'vfs'> {
  const wanted = env.AIOPS_IMAGE_STORAGE_DRIVER;
  if (wanted === 'overlay' || wanted === 'vfs') return wanted;
  let kernel = '';
  try {
    kernel = readFileSync('/proc/filesystems', 'utf8');
  } catch {
    return 'vfs';
  }
  if (!/\toverlay$/m.test(kernel)) return 'vfs';
  mkdirSync(config.cacheDir, { recursive: true });
  const fsType = (await capture('stat', ['-f', '-c', '%T', config.cacheDir]).catch(() => 'unknown')).trim();
  return fsType === 'overlayfs' || fsType === 'unknown' ? 'vfs' : 'overlay';
}

/**
 * Where buildah keeps images and its layer cache: a store of its own in the cache (one per
 * driver), shared by the checkouts on the machine, so the base and unchanged layers survive
 * between runs. Returns buildah's global options and the same store as skopeo names it.
 */
export async function buildahStore(config: StackConfig): Promise<{ args: string[]; skopeo: string }> {
  const driver = await storageDriver(config);
  const root = join(config.cacheDir, 'image', 'buildah', driver);
  const storage = join(root, 'storage');
  const run = join(root, 'run');
  return { args: ['--root', storage, '--runroot', run, '--storage-driver', driver], skopeo: `[${driver}@${storage}+${run}]` };
}

export interface ImageBuildOptions {
  readonly config: StackConfig;
  readonly log: Log;
  /** Also write a docker-archive tarball here (`docker load -i <file>`). */
  readonly dockerArchive?: string;
  /** Build every step anew (no layer cache). */
  readonly noCache?: boolean;
}

export interface ImageBuildReport {
  /** `ghcr.io/aiops-stream/aiops:<version>` */
  readonly reference: string;
  /** The exported OCI layout and the tag in it. */
  readonly layout: string;
  readonly tag: string;
  readonly baseReference: string;
  /** Time to make (or find) the base image, and to build the project image on it. */
  readonly baseMs: number;
  readonly buildMs: number;
  readonly exportMs: number;
  readonly totalMs: number;
  /** Sum of the compressed layers as a registry stores them, and the unpacked size as buildah states it ("350 MB"). */
  readonly compressedBytes: number;
  readonly unpackedSize: string;
  readonly dockerArchive?: string;
}

interface OciIndex {
  manifests: { digest: string; annotations?: Record<string, string> }[];
}

function blob(layout: string, digest: string): Buffer {
  const [algorithm, hex] = digest.split(':');
  return readFileSync(join(layout, 'blobs', algorithm ?? 'sha256', hex ?? ''));
}

/** The manifest of `tag` in an OCI layout. */
export function readManifest(layout: string, tag: string): { config: { digest: string }; layers: { digest: string; size: number }[] } {
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as OciIndex;
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!entry) throw new Error(`no image tagged ${tag} in ${layout}`);
  return JSON.parse(blob(layout, entry.digest).toString('utf8')) as { config: { digest: string }; layers: { digest: string; size: number }[] };
}

/** The image configuration (user, env, entrypoint, labels…) of `tag` in an OCI layout. */
export function readImageConfig(layout: string, tag: string): { config: { User?: string; Env?: string[]; Entrypoint?: string[]; Cmd?: string[]; WorkingDir?: string; Labels?: Record<string, string>; ExposedPorts?: Record<string, object>; StopSignal?: string } } {
  return JSON.parse(blob(layout, readManifest(layout, tag).config.digest).toString('utf8')) as ReturnType<typeof readImageConfig>;
}

/**
 * A CA file the machine's npm trusts beyond Node's own list (`npm config get cafile`, or
 * NODE_EXTRA_CA_CERTS): behind a TLS-intercepting proxy, `npm ci` inside the build needs it too.
 */
export async function hostExtraCa(): Promise<string | undefined> {
  const fromEnv = process.env.NODE_EXTRA_CA_CERTS;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  const configured = (await capture('npm', ['config', 'get', 'cafile']).catch(() => '')).trim();
  return configured && configured !== 'null' && configured !== 'undefined' && existsSync(configured) ? configured : undefined;
}

async function gitFacts(): Promise<{ revision: string; created: string }> {
  try {
    const revision = (await capture('git', ['rev-parse', 'HEAD'], { cwd: projectRoot })).trim();
    const dirty = (await capture('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: projectRoot })).trim() !== '';
    // The commit's time, not the clock: a rebuild of the same commit keeps the same labels.
    const created = (await capture('git', ['log', '-1', '--format=%cI'], { cwd: projectRoot })).trim();
    return { revision: dirty ? `${revision}-dirty` : revision, created };
  } catch {
    return { revision: 'unknown', created: new Date(0).toISOString() };
  }
}

/**
 * Builds the project image from the Dockerfile with buildah (chroot isolation, no daemon)
 * against the base made locally (`NODE_IMAGE`), then exports it as an OCI layout under
 * `.aiops/image/oci` and, when asked, as a docker-archive tarball. Each timing is appended to
 * `.aiops/image/build-times.jsonl`.
 */
export async function buildImage(options: ImageBuildOptions): Promise<ImageBuildReport> {
  const { config, log } = options;
  const started = Date.now();
  const tools = await ensureImageTools(config, log, ['buildah', 'skopeo', 'mmdebstrap', 'umoci']);
  const base = await ensureBaseImage(config, log);
  const baseMs = Date.now() - started;
  const store = await buildahStore(config);
  const storage = store.args;
  const logFile = join(config.logDir, 'image-build.log');
  const version = packageVersion();
  const reference = `${imageRepository}:${version}`;
  const { revision, created } = await gitFacts();

  // The base enters buildah's store once under a name carrying its key; later builds find it there.
  const localBase = `localhost/aiops-node-base:${base.key}`;
  const known = await capture(tools.buildah, [...storage, 'images', '--noheading', '--format', '{{.Name}}:{{.Tag}}']).catch(() => '');
  if (!known.split('\n').includes(localBase)) {
    log(`loading the base ${base.tag} into buildah's store`);
    await runLogged(tools.skopeo, ['copy', '--quiet', base.reference, `containers-storage:${store.skopeo}${localBase}`], { logFile, what: 'loading the base into buildah' });
  }

  const ca = await hostExtraCa();
  const caInBuild = '/run/aiops-build-ca.pem';
  const caArgs = ca ? ['--volume', `${ca}:${caInBuild}:ro`, '--build-arg', `NODE_EXTRA_CA_CERTS=${caInBuild}`] : [];
  log(`building ${reference} from the Dockerfile (buildah bud, base ${base.tag}); log: ${logFile}`);
  const buildStarted = Date.now();
  await runLogged(
    tools.buildah,
    [
      ...storage,
      'bud',
      '--isolation',
      'chroot',
      '--layers',
      // Docker's format keeps HEALTHCHECK, which OCI image configs have no field for.
      '--format',
      'docker',
      ...(options.noCache ? ['--no-cache'] : []),
      '--pull-never',
      ...caArgs,
      '--build-arg',
      `NODE_IMAGE=${localBase}`,
      '--build-arg',
      `VERSION=${version}`,
      '--build-arg',
      `REVISION=${revision}`,
      '--build-arg',
      `CREATED=${created}`,
      '--file',
      join(projectRoot, 'Dockerfile'),
      '--tag',
      reference,
      projectRoot,
    ],
    { logFile, what: `the image (buildah bud)` },
  );
  const buildMs = Date.now() - buildStarted;

  const exportStarted = Date.now();
  const layout = imageLayout(config);
  // The export is redone only when the build produced another image.
  const imageId = (await capture(tools.buildah, [...storage, 'images', '--noheading', '--no-trunc', '--format', '{{.ID}}', reference])).trim().split('\n')[0] ?? '';
  const stamp = join(imageDir(config), 'oci.image-id');
  const exported = existsSync(stamp) && existsSync(join(layout, 'index.json')) ? readFileSync(stamp, 'utf8').trim() : '';
  if (exported !== `${imageId} ${version}`) {
    rmSync(layout, { recursive: true, force: true });
    rmSync(stamp, { force: true });
    mkdirSync(imageDir(config), { recursive: true });
    await runLogged(tools.buildah, [...storage, 'push', '--quiet', reference, `oci:${layout}:${version}`], { logFile, what: 'export of the OCI layout' });
    writeFileSync(stamp, `${imageId} ${version}\n`);
  }
  const dockerArchive = options.dockerArchive ? await exportDockerArchive(config, options.dockerArchive, log) : undefined;
  const exportMs = Date.now() - exportStarted;

  const manifest = readManifest(layout, version);
  const compressedBytes = manifest.layers.reduce((n, l) => n + l.size, 0);
  const unpackedSize = (await capture(tools.buildah, [...storage, 'images', '--noheading', '--format', '{{.Size}}', reference])).trim().split('\n')[0] ?? '';
  const report: ImageBuildReport = {
    reference,
    layout,
    tag: version,
    baseReference: base.reference,
    baseMs,
    buildMs,
    exportMs,
    totalMs: Date.now() - started,
    compressedBytes,
    unpackedSize,
    ...(dockerArchive ? { dockerArchive } : {}),
  };
  appendFileSync(join(imageDir(config), 'build-times.jsonl'), `${JSON.stringify({ at: new Date().toISOString(), revision, ...report })}\n`);
  return report;
}

/**
 * Copies the exported image into a docker-archive tarball with skopeo, tagged with the image's
 * reference, for `docker load -i <file>`. Returns the file's absolute path.
 */
export async function exportDockerArchive(config: StackConfig, file: string, log: Log): Promise<string> {
  const { skopeo } = await ensureImageTools(config, log, ['skopeo']);
  const version = packageVersion();
  const target = resolve(file);
  rmSync(target, { force: true });
  log(`writing the docker-archive ${target}`);
  await runLogged(skopeo, ['copy', '--quiet', `oci:${imageLayout(config)}:${version}`, `docker-archive:${target}:${imageRepository}:${version}`], {
    logFile: join(config.logDir, 'image-build.log'),
    what: 'export of the docker-archive',
  });
  return target;
}

/** True when an exported layout of the current version exists (the runc test builds otherwise). */
export function imageExported(config: StackConfig): boolean {
  return existsSync(join(imageLayout(config), 'index.json'));
}
