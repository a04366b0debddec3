import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { compressionFromEnv, registerKafkaCodecs, zstdCompressionAvailable } from '../../../runtime/kafka-codecs.js';

const { CompressionCodecs, CompressionTypes } = kafkajs;
type Codec = { compress(encoder: { buffer: Buffer }): Promise<Buffer>; decompress(buffer: Buffer): Promise<Buffer> };
const codec = (type: number): Codec => (CompressionCodecs as unknown as Record<number, () => Codec>)[type]?.() as Codec;

const payload = Buffer.from(Array.from({ length: 2_000 }, (_, i) => `service=checkout route=/api/cart/${i % 17} count=${i}`).join('\n'));

describe('registerKafkaCodecs', () => {
  it('lets kafkajs compress and read back snappy and lz4, and compressed output is smaller', async () => {
    registerKafkaCodecs();
    registerKafkaCodecs(); // a second call changes nothing
    for (const type of [CompressionTypes.Snappy, CompressionTypes.LZ4]) {
      const compressed = await codec(type).compress({ buffer: payload });
      expect(compressed.length).toBeLessThan(payload.length / 2);
      expect((await codec(type).decompress(compressed)).equals(payload)).toBe(true);
    }
  });

  it('reads xerial-framed snappy, as Java producers write it', async () => {
    registerKafkaCodecs();
    const block = await codec(CompressionTypes.Snappy).compress({ buffer: payload });
    const size = Buffer.alloc(4);
    size.writeUInt32BE(block.length);
    const framed = Buffer.concat([Buffer.from([130, 83, 78, 65, 80, 80, 89, 0]), Buffer.from([0, 0, 0, 1, 0, 0, 0, 1]), size, block]);
    expect((await codec(CompressionTypes.Snappy).decompress(framed)).equals(payload)).toBe(true);
  });

  it('reads a zstd frame (a stored block, so any Node.js can make it) and compresses zstd where Node.js can', async () => {
    registerKafkaCodecs();
    const data = payload.subarray(0, 10_000);
    const header = (data.length << 3) | 1; // last block, raw
    const frame = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x70]), Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]), data]);
    expect((await codec(CompressionTypes.ZSTD).decompress(frame)).equals(data)).toBe(true);
    if (zstdCompressionAvailable) {
      const compressed = await codec(CompressionTypes.ZSTD).compress({ buffer: payload });
      expect((await codec(CompressionTypes.ZSTD).decompress(compressed)).equals(payload)).toBe(true);
    } else {
      await expect(codec(CompressionTypes.ZSTD).compress({ buffer: payload })).rejects.toMatchObject({ code: 'AIOPS_ERR_CONFIG_INVALID' });
    }
  });
});

describe('compressionFromEnv', () => {
  it('defaults to lz4 and accepts every codec name in any case', () => {
    expect(compressionFromEnv({})).toEqual({ name: 'lz4', type: CompressionTypes.LZ4 });
    expect(compressionFromEnv({ AIOPS_KAFKA_COMPRESSION: 'GZIP' })).toEqual({ name: 'gzip', type: CompressionTypes.GZIP });
    expect(compressionFromEnv({ AIOPS_KAFKA_COMPRESSION: 'none' })).toEqual({ name: 'none', type: CompressionTypes.None });
    expect(compressionFromEnv({ AIOPS_KAFKA_COMPRESSION: 'snappy' }).type).toBe(CompressionTypes.Snappy);
  });

  it('rejects an unknown name, and zstd where Node.js cannot compress it, with the variable named', () => {
    expect(() => compressionFromEnv({ AIOPS_KAFKA_COMPRESSION: 'brotli' })).toThrow(/AIOPS_KAFKA_COMPRESSION: expected one of none, gzip, snappy, lz4, zstd, got "brotli"/);
    if (zstdCompressionAvailable) expect(compressionFromEnv({ AIOPS_KAFKA_COMPRESSION: 'zstd' }).type).toBe(CompressionTypes.ZSTD);
    else expect(() => compressionFromEnv({ AIOPS_KAFKA_COMPRESSION: 'zstd' })).toThrow(/zstd needs Node.js 22.15/);
  });
});
