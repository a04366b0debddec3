/**
 * The CRC-64-AVRO fingerprint (the Rabin fingerprint of the Avro specification, "Schema
 * Fingerprints"), computed over a schema's Parsing Canonical Form. It identifies the writer's
 * schema in Avro single-object encoding.
 */
const EMPTY = 0xc15d213aa4d7a795n;
const MASK = 0xffffffffffffffffn;

const table: bigint[] = (() => {
  const out: bigint[] = [];
  for (let i = 0; i < 256; i++) {
    let fp = BigInt(i);
    for (let j = 0; j < 8; j++) fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n) & MASK);
    out.push(fp & MASK);
  }
  return out;
})();

export function crc64Avro(bytes: Uint8Array): bigint {
  let fp = EMPTY;
  for (const b of bytes) fp = ((fp >> 8n) ^ (table[Number((fp ^ BigInt(b)) & 0xffn)] as bigint)) & MASK;
  return fp;
}
