/**
 * Turns metrics requests into Kafka records the way the collector's Kafka exporter does with
 * `partition_metrics_by_resource_attributes: true`: one record per resource, keyed by a hash of
 * the resource attributes so every record of one resource lands on the same partition.
 *
 * The key is a stable 16-byte hash, like the collector's, but not bit-identical to it (the
 * collector hashes with pdatautil.MapHash): equal attribute sets give equal keys whatever their
 * order, across runs and processes, which is what partitioning and replay rely on.
 */

import { createHash } from 'node:crypto';
import { encodeMetricsRequest, encodeMetricsRequestJson, writeAttributes } from './encode-metrics.js';
import { ProtoWriter } from './proto-writer.js';
import type { AttributeValue, Attributes, MetricsRequest } from './types.js';

/** A record as kafkajs `producer.send({ topic, messages })` takes it. */
export interface KafkaRecord {
  key: Buffer;
  value: Buffer;
  /** Unix ms as a decimal string: the latest point time of the record, for time-indexed replay. */
  timestamp: string;
}

export type OtlpEncoding = 'otlp_proto' | 'otlp_json';

/** Key order must not change the hash: sort kvlist keys at every depth. */
function canonical(value: AttributeValue): AttributeValue {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map(canonical);
  return sortedAttributes(value);
}

function sortedAttributes(attrs: Attributes): Attributes {
  const out: Attributes = {};
  for (const key of Object.keys(attrs).sort()) out[key] = canonical(attrs[key] as AttributeValue);
  return out;
}

const keyWriter = new ProtoWriter(256);

/** A stable 16-byte hash of resource attributes (SHA-256 of their sorted protobuf encoding). */
export function resourceKey(resource: Attributes): Buffer {
  keyWriter.reset();
  writeAttributes(keyWriter, 1, sortedAttributes(resource));
  return createHash('sha256').update(keyWriter.subarray()).digest().subarray(0, 16);
}

function latestTimeMs(request: MetricsRequest): number {
  let latest = 0;
  for (const rm of request.resourceMetrics) {
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) for (const p of m.points) if (p.timeMs > latest) latest = p.timeMs;
    }
  }
  return latest;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * One Kafka record per resource of the given requests (a request with several resources is
 * split, as the collector does), encoded as otlp_proto (default) or otlp_json.
 */
export function encodeWorkloadBatch(requests: readonly MetricsRequest[], encoding: OtlpEncoding = 'otlp_proto'): KafkaRecord[] {
  const records: KafkaRecord[] = [];
  for (const request of requests) {
    for (const rm of request.resourceMetrics) {
      const single: MetricsRequest = { resourceMetrics: [rm] };
      const value = encoding === 'otlp_proto' ? toBuffer(encodeMetricsRequest(single)) : Buffer.from(encodeMetricsRequestJson(single), 'utf8');
      records.push({ key: resourceKey(rm.resource), value, timestamp: String(latestTimeMs(single)) });
    }
  }
  return records;
}
