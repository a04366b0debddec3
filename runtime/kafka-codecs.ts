/**
 * The Kafka compression codecs of every platform client. kafkajs reads only gzip by itself; a
 * batch compressed with snappy, lz4 or zstd (the usual producer defaults of collectors and other
 * clients) would crash the consumer. {@link registerKafkaCodecs} adds them to kafkajs' codec table
 * once per process, and {@link compressionFromEnv} reads the compression of the platform's own
 * output (`AIOPS_KAFKA_COMPRESSION`).
 *
 * Packages: `kafkajs-snappy` (the kafkajs author's codec, pure JavaScript through snappyjs, reads
 * plain and xerial-framed snappy), `lz4-napi` (LZ4 frame format, prebuilt binaries published on
 * npm per platform, so `npm ci` needs no compiler), `fzstd` (pure JavaScript zstd decoder). zstd
 * compression uses Node's own zlib where it has it (Node.js 22.15 and later); no zstd package
 * with a compressor installs without a compiler or a download outside npm.
 */
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { decompress as fzstdDecompress } from 'fzstd';
import kafkajs from 'kafkajs';
import lz4 from 'lz4-napi';
import { aiopsError } from './errors.js';

const { CompressionCodecs, CompressionTypes } = kafkajs;

/** What kafkajs asks of a codec. */
interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

type ZstdZlib = {
  zstdCompress?: (data: Buffer, callback: (error: Error | null, result: Buffer) => void) => void;
  zstdDecompress?: (data: Buffer, callback: (error: Error | null, result: Buffer) => void) => void;
};
const nodeZstd = zlib as unknown as ZstdZlib;

/** True when this Node.js can compress zstd (zlib has it from 22.15 on). */
export const zstdCompressionAvailable = typeof nodeZstd.zstdCompress === 'function';

const snappyCodec = createRequire(import.meta.url)('kafkajs-snappy') as () => Codec;

const lz4Codec = (): Codec => ({
  compress: async (encoder) => lz4.compressFrame(encoder.buffer),
  decompress: async (buffer) => lz4.decompressFrame(buffer),
});

const zstdCodec = (): Codec => {
  const compress = nodeZstd.zstdCompress ? promisify(nodeZstd.zstdCompress) : undefined;
  const decompress = nodeZstd.zstdDecompress ? promisify(nodeZstd.zstdDecompress) : undefined;
  return {
    compress: async (encoder) => {
      if (!compress) throw aiopsError('CONFIG_INVALID', [`  - zstd compression needs Node.js 22.15 or later (this is ${process.version}); choose lz4, snappy or gzip`]);
      return compress(encoder.buffer);
    },
    decompress: async (buffer) => (decompress ? decompress(buffer) : Buffer.from(fzstdDecompress(buffer))),
  };
};

let registered = false;

/** Adds snappy, lz4 and zstd to kafkajs' codec table (gzip is built in). Safe to call again. */
export function registerKafkaCodecs(): void {
  if (registered) return;
  const codecs = CompressionCodecs as unknown as Record<number, () => Codec>;
  codecs[CompressionTypes.Snappy] = snappyCodec;
  codecs[CompressionTypes.LZ4] = lz4Codec;
  codecs[CompressionTypes.ZSTD] = zstdCodec;
  registered = true;
}

/** The names `AIOPS_KAFKA_COMPRESSION` takes. */
export const compressionNames = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type CompressionName = (typeof compressionNames)[number];

/** The compression of the platform's own topics when `AIOPS_KAFKA_COMPRESSION` is not set (see docs/configuration.md for the measurement). */
export const defaultCompression: CompressionName = 'lz4';

const typeOf: Readonly<Record<CompressionName, number>> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

/** The kafkajs compression type of a name. */
export function compressionType(name: CompressionName): number {
  return typeOf[name];
}

/**
 * The compression of the platform's output records from `AIOPS_KAFKA_COMPRESSION` (or its `_FILE`
 * form is not needed: it is no secret), validated: AIOPS_ERR_CONFIG_INVALID for an unknown name,
 * or zstd on a Node.js without a zstd compressor.
 */
export function compressionFromEnv(env: NodeJS.ProcessEnv = process.env): { name: CompressionName; type: number } {
  const raw = env.AIOPS_KAFKA_COMPRESSION?.trim().toLowerCase();
  const name = (raw === undefined || raw === '' ? defaultCompression : raw) as CompressionName;
  if (!compressionNames.includes(name)) {
    throw aiopsError('CONFIG_INVALID', [`  - AIOPS_KAFKA_COMPRESSION: expected one of ${compressionNames.join(', ')}, got "${env.AIOPS_KAFKA_COMPRESSION ?? ''}"`]);
  }
  if (name === 'zstd' && !zstdCompressionAvailable) {
    throw aiopsError('CONFIG_INVALID', [`  - AIOPS_KAFKA_COMPRESSION: zstd needs Node.js 22.15 or later to compress (this is ${process.version}); choose lz4, snappy or gzip`]);
  }
  return { name, type: typeOf[name] };
}
