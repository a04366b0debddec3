import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadStackConfig } from './config.js';
import type { StackConfig } from './config.js';
import { capture, contentHash, isComplete, markComplete, requireTool } from './install.js';

/**
 * JSON schemas of the custom resources the Helm chart renders, for checking them without an API
 * server. The CRDs come from the operators' Go modules (pinned, through the Go module proxy and
 * Go's module cache); each served version's openAPIV3Schema becomes a JSON schema in the stack's
 * cache, made strict: an object that declares its properties accepts no others (the API server
 * would silently prune them, so a misspelt field is a bug either way).
 */
export const crdSources = Object.freeze([
  {
    module: 'github.com/prometheus-operator/prometheus-operator',
    version: 'v0.85.0',
    files: ['servicemonitors', 'podmonitors', 'prometheusrules'].map((p) => `example/prometheus-operator-crd/monitoring.coreos.com_${p}.yaml`),
  },
  {
    module: 'github.com/kedacore/keda/v2',
    version: 'v2.18.3',
    files: ['scaledobjects', 'triggerauthentications'].map((p) => `config/crd/bases/keda.sh_${p}.yaml`),
  },
]);

/** `<group>/<version>/<Kind>`, e.g. `keda.sh/v1alpha1/ScaledObject`. */
export type ResourceKey = string;

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An OpenAPI v3 structural schema as a strict JSON schema (draft 7). */
export function strictSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strictSchema);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'properties' && isObject(value)) out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, strictSchema(v)]));
    else if (key === 'nullable' || key.startsWith('x-kubernetes-')) continue;
    // Go's inline flags (e.g. "^(?i)(abort|warn)?$") are no ECMAScript regex: such a pattern is left out.
    else if (key === 'pattern' && typeof value === 'string' && value.includes('(?')) continue;
    else out[key] = strictSchema(value);
  }
  // int-or-string fields carry no type (anyOf integer/string): keep them so.
  if (node['nullable'] === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  if (isObject(node['properties']) && node['additionalProperties'] === undefined && node['x-kubernetes-preserve-unknown-fields'] !== true) out.additionalProperties = false;
  return out;
}

/** The schema of a whole object of one CRD version: apiVersion and kind fixed, metadata an object. */
export function resourceSchema(group: string, version: string, kind: string, openApi: unknown): JsonObject {
  const strict = strictSchema(openApi) as JsonObject;
  const properties = { ...(isObject(strict.properties) ? strict.properties : {}) };
  properties.apiVersion = { const: `${group}/${version}` };
  properties.kind = { const: kind };
  // Object metadata is the API server's (kubernetes-validate checks it on built-in kinds).
  properties.metadata = { type: 'object', required: ['name'] };
  return { $schema: 'http://json-schema.org/draft-07/schema#', title: `${kind} (${group}/${version})`, ...strict, properties, required: [...new Set(['apiVersion', 'kind', 'metadata', ...((strict.required as string[] | undefined) ?? [])])] };
}

/** Every served version of a CRD document as (key, schema) pairs. */
export function schemasOfCrd(crd: unknown): [ResourceKey, JsonObject][] {
  if (!isObject(crd) || crd.kind !== 'CustomResourceDefinition' || !isObject(crd.spec)) return [];
  const spec = crd.spec as { group: string; names: { kind: string }; versions: { name: string; served?: boolean; schema?: { openAPIV3Schema?: unknown } }[] };
  return spec.versions
    .filter((v) => v.served !== false && v.schema?.openAPIV3Schema !== undefined)
    .map((v) => [`${spec.group}/${v.name}/${spec.names.kind}`, resourceSchema(spec.group, v.name, spec.names.kind, v.schema?.openAPIV3Schema)]);
}

/**
 * Strimzi's KafkaTopic (kafka.strimzi.io/v1beta2). Strimzi publishes its CRDs in its release
 * bundles and repository, not in a registry package this project can install, so this schema is
 * written from Strimzi's documented KafkaTopic fields: spec.topicName, spec.partitions (>= 1),
 * spec.replicas (1 to 32767) and spec.config (free-form topic configuration), plus the
 * strimzi.io/cluster label the Topic Operator selects topics by.
 */
export const kafkaTopicSchema: JsonObject = Object.freeze({
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'KafkaTopic (kafka.strimzi.io/v1beta2), from Strimzi\'s documented fields',
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  additionalProperties: false,
  properties: {
    apiVersion: { const: 'kafka.strimzi.io/v1beta2' },
    kind: { const: 'KafkaTopic' },
    metadata: {
      type: 'object',
      required: ['name', 'labels'],
      properties: { name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', maxLength: 253 }, labels: { type: 'object', required: ['strimzi.io/cluster'], additionalProperties: { type: 'string' } } },
    },
    spec: {
      type: 'object',
      additionalProperties: false,
      properties: {
        topicName: { type: 'string', minLength: 1 },
        partitions: { type: 'integer', minimum: 1 },
        replicas: { type: 'integer', minimum: 1, maximum: 32767 },
        config: { type: 'object' },
      },
    },
  },
});

function crdDir(config: StackConfig): string {
  return join(config.cacheDir, 'crds', contentHash(JSON.stringify(crdSources)));
}

/**
 * Writes the schemas into the cache once (Go downloads the pinned modules into its module cache)
 * and returns the folder and a map from resource key to schema file.
 */
export async function ensureCrdSchemas(config: StackConfig = loadStackConfig(), log: (line: string) => void = () => undefined): Promise<Map<ResourceKey, string>> {
  const dir = crdDir(config);
  const indexFile = join(dir, 'index.json');
  if (!isComplete(dir) || !existsSync(indexFile)) {
    const go = requireTool('go', 'the CRDs of the custom resources the Helm chart renders come from their Go modules');
    const staging = `${dir}.partial`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    const index: Record<ResourceKey, string> = {};
    const save = (key: ResourceKey, schema: unknown): void => {
      const file = `${key.replaceAll('/', '_')}.json`;
      writeFileSync(join(staging, file), `${JSON.stringify(schema, null, 2)}\n`);
      index[key] = file;
    };
    for (const source of crdSources) {
      log(`fetching the CRDs of ${source.module}@${source.version} (Go module)`);
      const info = JSON.parse(await capture(go, ['mod', 'download', '-json', `${source.module}@${source.version}`], { env: { GOFLAGS: '-mod=mod', GO111MODULE: 'on' } })) as { Dir?: string; Error?: string };
      if (!info.Dir) throw new Error(`go mod download ${source.module}@${source.version}: ${info.Error ?? 'no module folder'}`);
      for (const file of source.files) {
        for (const doc of parseAllDocuments(readFileSync(join(info.Dir, file), 'utf8'))) {
          for (const [key, schema] of schemasOfCrd(doc.toJSON())) save(key, schema);
        }
      }
    }
    save('kafka.strimzi.io/v1beta2/KafkaTopic', kafkaTopicSchema);
    writeFileSync(join(staging, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
    markComplete(dir, crdSources.map((s) => `${s.module}@${s.version}`).join(' '));
  }
  const index = JSON.parse(readFileSync(indexFile, 'utf8')) as Record<ResourceKey, string>;
  return new Map(Object.entries(index).map(([key, file]) => [key, join(dir, file)]));
}
