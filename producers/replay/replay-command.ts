import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import type { Kafka } from 'kafkajs';
import { defaultNabDir } from '../../processors/anomaly/nab/corpus.js';
import { aiopsError } from '../../runtime/errors.js';
import { kafkaConnectionFromEnv } from '../../runtime/kafka-config.js';
import type { KafkaConnection } from '../../runtime/kafka-config.js';
import { kafkaClient } from '../../stack/clients/index.js';
import { parseSpeedup } from './pacer.js';
import type { Speedup } from './pacer.js';
import { replayNab } from './replay-nab.js';
import type { NabReplaySource } from './replay-nab.js';
import { replayTopic } from './replay-topic.js';

export const replayUsage = `usage: aiops replay [source] [--topic name] [--speedup x|max] [--brokers list]

Writes data into a Kafka topic for the pipeline to process, at a speed-up.

source (one of):
  --nab [dir]          a NAB folder's data/<category>/<file>.csv (default: AIOPS_NAB_DIR or ../shared/nab)
  --csv file...        timestamp,value files in NAB's data layout (each named <folder>/<file>.csv)
  --from-topic name    a recorded topic (e.g. of otlp_metrics), copied record by record: same key,
                       value, headers and partition, order kept per partition

  CSV rows become OTLP metrics (otlp_proto): a gauge nab.value (unit 1) of service.name=nab per
  file, point attribute nab.file=<category>/<file>.csv. Every file is shifted by whole days so
  all start on one day, rows are merged by time, one record per time (key "nab": one partition,
  time order); a row that repeats its file's previous second is nudged to the next free second.

options:
  --topic name         destination (default otlp_metrics)
  --speedup x|max      data time runs x times faster than wall time; max: no waiting (default max)
  --start-day date     NAB/CSV: the day every file starts on, YYYY-MM-DD or today (default: the
                       earliest first day of the files)
  --bucket-ms n        NAB/CSV: ingest's bucket length; rows of a file never share one (default 1000)
  --plan-out file      NAB/CSV: write the per-file shifts and nudges as JSON (to score the replay later)
  --keep-timestamps    --from-topic: keep the records' Kafka timestamps (default: stamped now)
  --brokers list       bootstrap brokers (default AIOPS_KAFKA_BROKERS or 127.0.0.1:9092); TLS and
                       SASL from AIOPS_KAFKA_SECURITY_PROTOCOL and friends (docs/configuration.md)
  --json               print the result as one JSON line
`;

function parseDay(text: string): number {
  if (text === 'today') return Date.now();
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(text) ? Date.parse(`${text}T00:00:00Z`) : Number.NaN;
  if (!Number.isFinite(ms)) throw aiopsError('CLI_USAGE', [`--start-day: expected YYYY-MM-DD or today, got "${text}"`]);
  return ms;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(0) : 'n/a';
}

/** `aiops replay`: NAB folders, CSV files or a recorded topic into a topic; returns the exit code. `connect` is for tests. */
export async function runReplay(argv: string[], connect: (brokers: string[], connection: KafkaConnection) => Kafka = (_brokers, connection) => kafkaClient(connection, 'aiops-replay')): Promise<number> {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        nab: { type: 'string' },
        csv: { type: 'string', multiple: true },
        'from-topic': { type: 'string' },
        topic: { type: 'string', default: 'otlp_metrics' },
        speedup: { type: 'string', default: 'max' },
        'start-day': { type: 'string' },
        'bucket-ms': { type: 'string' },
        'plan-out': { type: 'string' },
        'keep-timestamps': { type: 'boolean', default: false },
        brokers: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw aiopsError('CLI_USAGE', [`${(error as Error).message}\n\n${replayUsage}`]);
  }
  if (values.help) {
    process.stdout.write(replayUsage);
    return 0;
  }
  // `--csv a.csv b.csv` leaves b.csv as a positional: both are inputs.
  const csvFiles = values.csv ? [...values.csv, ...positionals] : [];
  if (!values.csv && positionals.length > 0) throw aiopsError('CLI_USAGE', [`unexpected argument "${positionals[0]}"\n\n${replayUsage}`]);
  const sources = [values.nab !== undefined, csvFiles.length > 0, values['from-topic'] !== undefined].filter(Boolean).length;
  if (sources !== 1) throw aiopsError('CLI_USAGE', [`choose one source: --nab, --csv or --from-topic\n\n${replayUsage}`]);
  let speedup: Speedup;
  try {
    speedup = parseSpeedup(values.speedup);
  } catch (error) {
    throw aiopsError('CLI_USAGE', [`--${(error as Error).message}`]);
  }
  const bucketMs = values['bucket-ms'] === undefined ? 1_000 : Number(values['bucket-ms']);
  if (!(Number.isInteger(bucketMs) && bucketMs >= 1_000 && 86_400_000 % bucketMs === 0)) throw aiopsError('CLI_USAGE', [`--bucket-ms: expected whole ms of at least 1000 that divide a day, got "${values['bucket-ms']}"`]);
  const topic = values.topic;
  if (values['from-topic'] === topic) throw aiopsError('CLI_USAGE', ['--from-topic and --topic must differ']);
  const connection = kafkaConnectionFromEnv(withBrokers(process.env, values.brokers));
  const kafka = connect([...connection.brokers], connection);
  const say = (line: string): void => {
    if (!values.json) process.stdout.write(`${line}\n`);
  };

  if (values['from-topic'] !== undefined) {
    const from = values['from-topic'];
    say(`replaying topic ${from} into ${topic} at speed-up ${speedup}`);
    const r = await replayTopic(kafka, { from, to: topic, speedup, keepTimestamps: values['keep-timestamps'] });
    if (values.json) process.stdout.write(`${JSON.stringify({ replay: r })}\n`);
    else say(`${r.records} records copied (${Object.entries(r.perPartition).map(([p, n]) => `partition ${p}→${r.partitionMap[Number(p)]}: ${n}`).join(', ') || 'source empty'}), ${r.elapsedMs} ms, ${fmt(r.recordsPerSecond)} records/s`);
    return 0;
  }

  let source: NabReplaySource;
  try {
    source = csvFiles.length > 0 ? { csv: csvFiles } : { nabDir: values.nab || defaultNabDir() };
  } catch (error) {
    throw aiopsError('CLI_USAGE', [(error as Error).message]);
  }
  const startDayMs = values['start-day'] === undefined ? undefined : parseDay(values['start-day']);
  say(`replaying ${csvFiles.length > 0 ? `${csvFiles.length} CSV files` : `NAB ${(source as { nabDir: string }).nabDir}`} into ${topic} at speed-up ${speedup}`);
  let r;
  try {
    r = await replayNab(kafka, { topic, source, speedup, bucketMs, ...(startDayMs === undefined ? {} : { startDayMs }) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || /not found|unparsable/.test((error as Error).message)) throw aiopsError('CLI_USAGE', [(error as Error).message]);
    throw error;
  }
  const plan = { startDayMs: r.plan.startDayMs, bucketMs: r.plan.bucketMs, shifts: r.shifts, files: r.files };
  if (values['plan-out']) {
    mkdirSync(dirname(values['plan-out']), { recursive: true });
    writeFileSync(values['plan-out'], `${JSON.stringify(plan, null, 2)}\n`);
  }
  if (values.json) {
    const summary = { topic: r.topic, rows: r.rows, records: r.records, nudged: r.nudged, bytes: r.bytes, elapsedMs: r.elapsedMs, rowsPerSecond: r.rowsPerSecond, recordsPerSecond: r.recordsPerSecond, firstMs: r.firstMs, lastMs: r.lastMs };
    process.stdout.write(`${JSON.stringify({ replay: { ...summary, ...plan } })}\n`);
    return 0;
  }
  say(`${r.files.length} files, ${r.rows} rows in ${r.records} records (${r.bytes} bytes), data time ${new Date(r.firstMs).toISOString()} .. ${new Date(r.lastMs).toISOString()}`);
  say(`written in ${r.elapsedMs} ms: ${fmt(r.rowsPerSecond)} rows/s, ${fmt(r.recordsPerSecond)} records/s`);
  say(`every file starts on ${new Date(r.plan.startDayMs).toISOString().slice(0, 10)}; ${r.nudged} duplicate rows nudged to the next free second`);
  for (const f of r.files) say(`  ${f.name}: ${f.rows} rows, shifted ${f.shiftDays >= 0 ? '+' : ''}${f.shiftDays} days${f.nudged > 0 ? `, ${f.nudged} nudged (up to ${f.maxNudgeMs} ms)` : ''}${f.nonFinite > 0 ? `, ${f.nonFinite} not numbers` : ''}`);
  if (values['plan-out']) say(`plan written to ${values['plan-out']}`);
  return 0;
}

/** The environment with `--brokers` in place of AIOPS_KAFKA_BROKERS(_FILE), when given. */
export function withBrokers(env: NodeJS.ProcessEnv, brokers: string | undefined): NodeJS.ProcessEnv {
  if (brokers === undefined) return env;
  const out: NodeJS.ProcessEnv = { ...env, AIOPS_KAFKA_BROKERS: brokers };
  delete out.AIOPS_KAFKA_BROKERS_FILE;
  return out;
}
