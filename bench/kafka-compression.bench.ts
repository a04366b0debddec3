/**
 * Bytes and CPU of each Kafka compression codec on two kinds of record batch, compressed as
 * kafkajs compresses a batch: the platform's own records (aiops.signals.v1 partials of a
 * shop-like workload: services × routes × status, histogram buckets) and the collector's input
 * (otlp_metrics: one OTLP protobuf request per resource from the synthetic HTTP workload).
 * Prints one JSON line.
 */
import kafkajs from 'kafkajs';
import { registerKafkaCodecs, zstdCompressionAvailable } from '../runtime/kafka-codecs.js';
import { HttpWorkload, encodeWorkloadBatch } from '../runtime/otlp/index.js';
import { signalSerde } from '../schemas/signals.js';
import type { SignalRecord } from '../schemas/signals.js';

const { CompressionCodecs, CompressionTypes } = kafkajs;
registerKafkaCodecs();

const batchRecords = Number(process.env.BENCH_BATCH_RECORDS ?? 500);
const rounds = Number(process.env.BENCH_ROUNDS ?? 200);

function record(i: number): Buffer {
  const services = ['checkout', 'cart', 'catalog', 'payment', 'shipping', 'frontend'];
  const routes = ['/api/cart', '/api/checkout', '/api/products/:id', '/api/orders', '/health', '/'];
  const value: SignalRecord = {
    kind: 'PARTIAL',
    sourcePartition: i % 6,
    watermarkMs: 1_764_800_000_000 + i * 10,
    idle: false,
    signal: 'http.server.request',
    rule: 'http-server',
    dimensions: { 'service.name': services[i % 6] as string, 'http.route': routes[(i >> 3) % 6] as string, 'http.request.method': i % 5 === 0 ? 'POST' : 'GET' },
    bucketStartMs: 1_764_800_000_000 - (1_764_800_000_000 % 10_000),
    bucketMs: 10_000,
    count: 10 + (i % 37),
    errors: i % 11 === 0 ? 1 : 0,
    statusClasses: [0, 10 + (i % 37), 0, i % 7 === 0 ? 1 : 0, i % 11 === 0 ? 1 : 0, 0],
    sum: 0.05 * (10 + (i % 37)) + (i % 13) / 100,
    min: 0.001 * (1 + (i % 9)),
    max: 0.2 + (i % 17) / 50,
    bounds: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
    bucketCounts: [0, 1, 2, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0].map((c, k) => c + ((i + k) % 3)),
    series: 1,
  };
  return signalSerde.serialize(value);
}

// A batch's records section as kafkajs hands it to the codec: length-prefixed records, keys included.
function recordsSection(records: readonly { key: Buffer; value: Buffer }[]): Buffer {
  return Buffer.concat(
    records.map(({ key, value }) => {
      const header = Buffer.alloc(8);
      header.writeUInt32BE(key.length, 0);
      header.writeUInt32BE(value.length, 4);
      return Buffer.concat([header, key, value]);
    }),
  );
}

const signalsBatch = recordsSection(Array.from({ length: batchRecords }, (_, i) => ({ key: Buffer.from(`http.server.request|${i % 36}`), value: record(i) })));
const workload = new HttpWorkload({ services: 20, instancesPerService: 5, routesPerService: 10, startTimeMs: Date.UTC(2025, 0, 1), intervalMs: 10_000, temporality: 'cumulative', seed: 1 });
workload.next();
const otlpBatch = recordsSection(encodeWorkloadBatch(workload.next()));

async function measure(name: string, type: number, batch: Buffer): Promise<Record<string, number | string | null>> {
  const codec = (CompressionCodecs as unknown as Record<number, () => { compress(e: { buffer: Buffer }): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> }>)[type]?.();
  if (!codec) return { codec: name };
  let compressed: Buffer | undefined;
  let compressUs: number | null = null;
  if (name !== 'zstd' || zstdCompressionAvailable) {
    const start = process.cpuUsage();
    for (let r = 0; r < rounds; r++) compressed = await codec.compress({ buffer: batch });
    const used = process.cpuUsage(start);
    compressUs = Math.round((used.user + used.system) / rounds);
  }
  if (!compressed) return { codec: name, compressUs: null, note: 'no compressor on this Node.js' };
  const start = process.cpuUsage();
  for (let r = 0; r < rounds; r++) await codec.decompress(compressed);
  const used = process.cpuUsage(start);
  return { codec: name, bytes: compressed.length, ratio: Number((batch.length / compressed.length).toFixed(2)), compressUs, decompressUs: Math.round((used.user + used.system) / rounds) };
}

const codecs = [['gzip', CompressionTypes.GZIP], ['snappy', CompressionTypes.Snappy], ['lz4', CompressionTypes.LZ4], ['zstd', CompressionTypes.ZSTD]] as const;
const signals = [];
for (const [name, type] of codecs) signals.push(await measure(name, type, signalsBatch));
const otlp = [];
for (const [name, type] of codecs) otlp.push(await measure(name, type, otlpBatch));
process.stdout.write(
  `${JSON.stringify({ bench: 'kafka-compression', node: process.version, rounds, signals: { records: batchRecords, bytes: signalsBatch.length, results: signals }, otlpMetrics: { bytes: otlpBatch.length, results: otlp } })}\n`,
);
