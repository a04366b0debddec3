import { randomUUID } from 'node:crypto';
import zlib from 'node:zlib';
import kafkajs from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultRules, ingestFactory, parseIngestConfig } from '../../processors/ingest/index.js';
import { zstdCompressionAvailable } from '../../runtime/kafka-codecs.js';
import { runProcess } from '../../runtime/process.js';
import type { RunningProcess } from '../../runtime/process.js';
import { processKafka } from '../../runtime/runner.js';
import { signalSerde } from '../../schemas/index.js';
import type { SignalRecord } from '../../schemas/index.js';
import { collectMessages, createTopics, kafkaClient } from '../../stack/clients/index.js';
import { stackEndpoints } from '../helpers/stack.js';
import { sumRecord } from '../helpers/otlp.js';

const { CompressionCodecs, CompressionTypes } = kafkajs;
const T0 = Date.now() - 60_000;

function requests(service: string, value: number): Buffer {
  return sumRecord({ service, value, startMs: T0, timeMs: T0 + 1000 });
}

/**
 * A valid zstd frame made of raw (stored) blocks, for Node.js versions whose zlib cannot compress
 * zstd: the consumer still decodes a real zstd frame (magic, header, block headers, checksum-free).
 */
function zstdRawFrame(data: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.from([0x00, 0x70])]; // magic; descriptor: no content size, window 2^(10+14)
  const max = 128 * 1024;
  for (let offset = 0; ; offset += max) {
    const block = data.subarray(offset, offset + max);
    const last = offset + max >= data.length;
    const header = (block.length << 3) | (last ? 1 : 0); // block type 0 (raw) in bits 1-2
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]), block);
    if (last) break;
  }
  return Buffer.concat(parts);
}

describe('ingest reads compressed input on the real broker', () => {
  const endpoints = stackEndpoints();
  const run = randomUUID().slice(0, 8);
  const input = `test.compressed-in.${run}`;
  const signals = `test.compressed-signals.${run}`;
  let proc: RunningProcess | undefined;

  afterAll(async () => {
    await proc?.stop();
  });

  it('turns gzip, snappy, lz4 and zstd record batches into signals', async () => {
    const kafka = kafkaClient(endpoints.kafkaBrokers); // registers the platform's codecs
    const codecs = CompressionCodecs as unknown as Record<number, () => { compress(e: { buffer: Buffer }): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> }>;
    const zstd = codecs[CompressionTypes.ZSTD];
    if (!zstdCompressionAvailable && zstd) {
      const zstdDecompress = (zlib as unknown as { zstdDecompress?: unknown }).zstdDecompress;
      expect(zstdDecompress).toBeUndefined();
      codecs[CompressionTypes.ZSTD] = () => ({ compress: async (encoder) => zstdRawFrame(encoder.buffer), decompress: zstd().decompress });
    }
    await createTopics(kafka, [input], 1);
    const producer = kafka.producer();
    await producer.connect();
    const sent = { gzip: 3, snappy: 5, lz4: 7, zstd: 11 } as const;
    try {
      for (const [codec, value] of Object.entries(sent)) {
        const compression = { gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy, lz4: CompressionTypes.LZ4, zstd: CompressionTypes.ZSTD }[codec as keyof typeof sent];
        // Several records per batch, so the codec compresses more than one record's bytes.
        await producer.send({ topic: input, compression, messages: [{ value: requests(`svc-${codec}`, value) }, { value: requests(`svc-${codec}-b`, value) }] });
      }
    } finally {
      if (!zstdCompressionAvailable && zstd) codecs[CompressionTypes.ZSTD] = zstd;
      await producer.disconnect();
    }

    const config = parseIngestConfig({
      rules: [...defaultRules, { name: 'requests', metric: 'http.server.requests', kind: 'counter', groupBy: ['service.name'] }],
      bucketMs: 10_000,
      idleTimeoutMs: 500,
      signalsTopic: signals,
    });
    proc = await runProcess({ name: `ingest-compressed-${run}`, kafka: processKafka(endpoints.kafkaBrokers, 'compressed-input'), inputTopic: input, outputTopics: [signals], factory: ingestFactory(config), idleTimeoutMs: 500, port: 0 });

    const partials = await collectMessages(kafka, { topic: signals, count: 8, timeoutMs: 60_000, filter: (m) => m.key !== null });
    const counts = Object.fromEntries(
      partials
        .map((m) => signalSerde.deserialize(m.value as Buffer) as SignalRecord)
        .filter((s) => s.rule === 'requests')
        .map((s) => [s.dimensions['service.name'], s.count]),
    );
    expect(counts).toEqual({ 'svc-gzip': 3, 'svc-gzip-b': 3, 'svc-snappy': 5, 'svc-snappy-b': 5, 'svc-lz4': 7, 'svc-lz4-b': 7, 'svc-zstd': 11, 'svc-zstd-b': 11 });
    const stats = await proc.runner.stats();
    expect(stats.counters.rejected_records ?? 0).toBe(0);
  });
});
