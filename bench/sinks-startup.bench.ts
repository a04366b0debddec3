/**
 * Start-up of the Alertmanager sink after a week of events, before and after the active set moved
 * to a compacted topic: the old start read both event topics from the beginning, decoded every
 * event and folded them into the active set; the new one reads aiops.sink.alertmanager.active
 * (here a topic of the run) to its end.
 *
 * The week (BENCH_DAYS, default 7), at a busy but realistic rate: BENCH_SERIES (50) anomaly series
 * with 6 incidents a day each, 20 minutes long, evaluated every 10 s: an OPEN, an UPDATE for every
 * anomalous point (120) and a RESOLVED; BENCH_SLOS (10) SLOs whose page tier fires twice a day for
 * an hour and whose ticket tier fires once a day for six hours, with evaluate's FIRING heartbeat
 * every 5 minutes of data time. A few alerts are still open at the end. The events go to the run's
 * own anomalies and SLO topics (6 partitions, as the platform's) through a real AlertmanagerSink
 * (against a stand-in Alertmanager that accepts everything) that writes its active set as it
 * would in production; untimed.
 *
 * Each start is measured in a fresh child process (node --expose-gc), alternating old and new,
 * BENCH_REPEAT times (default 3): wall time to a usable active set, heap in use after it (after a
 * GC) and peak RSS. Needs the local stack's Kafka. Prints one JSON line (medians).
 *
 * Run: `npx tsx bench/sinks-startup.bench.ts`
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { readToEnd } from '../runtime/read-to-end.js';
import { anomalyEventId, anomalySerde } from '../schemas/anomalies.js';
import type { AnomalyEvent } from '../schemas/anomalies.js';
import { sloEventId, sloEventSerde } from '../schemas/slo.js';
import type { SloEvent } from '../schemas/slo.js';
import { AlertmanagerSink } from '../sinks/alertmanager/alertmanager-sink.js';
import { decodeSinkEvent } from '../sinks/runtime.js';
import type { SinkEvent } from '../sinks/runtime.js';
import { createTopics, kafkaClient, localEndpoints } from '../stack/clients/index.js';
import { loadStackConfig } from '../stack/index.js';

const DAY = 86_400_000;
const MIN = 60_000;
const days = Number(process.env.BENCH_DAYS ?? 7);
const seriesCount = Number(process.env.BENCH_SERIES ?? 50);
const sloCount = Number(process.env.BENCH_SLOS ?? 10);
const repeat = Number(process.env.BENCH_REPEAT ?? 3);
const log = pino({ level: 'silent' });
const brokers = localEndpoints(loadStackConfig()).kafkaBrokers;

/** A stand-in Alertmanager: accepts every post. */
async function standIn(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

function anomaly(series: number, state: AnomalyEvent['state'], at: number, startedAt: number, seq: number): AnomalyEvent {
  const signal = `http{service.name="svc-${series % 10}",http.route="/api/r${series}"}`;
  return {
    id: anomalyEventId(signal, 'http.p95', startedAt, seq), timestamp: at, metric: 'http.p95', signal, expected_value: 0.12, actual_value: 0.9, lower: 0.08, upper: 0.16,
    deviation: 0.78, score: state === 'RESOLVED' ? 0.1 : 0.9, confidence: 0.8, severity: 'warning', state, detector: 'holt-winters', mode: 'seasonal', started_at: startedAt,
    context: { service: `svc-${series % 10}`, endpoint: `/api/r${series}`, dimensions: { 'service.name': `svc-${series % 10}`, 'http.route': `/api/r${series}` } },
  };
}

function slo(n: number, tier: SloEvent['tier'], state: SloEvent['state'], at: number, startedAt: number): SloEvent {
  return {
    id: sloEventId(`slo-${n}`, tier, startedAt), timestamp: at, slo: `slo-${n}`, service: `svc-${n}`, description: 'availability of the API', sli: 'availability', objective: 0.999,
    period: '30d rolling', period_ms: 30 * DAY, tier, state, long_window_ms: tier === 'page' ? 3_600_000 : 21_600_000, short_window_ms: tier === 'page' ? 300_000 : 1_800_000,
    factor: tier === 'page' ? 14.4 : 6, long_burn_rate: 16, short_burn_rate: 20, budget_remaining: 0.7, projected_exhaustion: null, started_at: startedAt, labels: { team: 'api' }, observed_share: 1,
  };
}

/** The week's events in time order (each with its topic). */
function week(start: number): { topic: 'anomalies' | 'slo'; key: string; value: Buffer; event: AnomalyEvent | SloEvent; at: number }[] {
  const out: { topic: 'anomalies' | 'slo'; key: string; value: Buffer; event: AnomalyEvent | SloEvent; at: number }[] = [];
  const end = start + days * DAY;
  for (let s = 0; s < seriesCount; s++) {
    for (let d = 0; d < days; d++) {
      for (let i = 0; i < 6; i++) {
        const opened = start + d * DAY + i * 4 * 3_600_000 + ((s * 7_919) % 200) * MIN;
        const closes = opened + 20 * MIN;
        // The last incident of a few series is still open when the week ends.
        const open = d === days - 1 && i === 5 && s % 10 === 0;
        const seq = d * 6 + i + 1;
        const push = (e: AnomalyEvent): void => void out.push({ topic: 'anomalies', key: e.signal, value: anomalySerde.serialize(e), event: e, at: e.timestamp });
        push(anomaly(s, 'OPEN', opened, opened, seq));
        for (let t = opened + 10_000; t < Math.min(closes, end); t += 10_000) push(anomaly(s, 'UPDATE', t, opened, seq));
        if (!open && closes < end) push(anomaly(s, 'RESOLVED', closes, opened, seq));
      }
    }
  }
  for (let n = 0; n < sloCount; n++) {
    const push = (e: SloEvent): void => void out.push({ topic: 'slo', key: e.slo, value: sloEventSerde.serialize(e), event: e, at: e.timestamp });
    for (let d = 0; d < days; d++) {
      const fires: [SloEvent['tier'], number, number][] = [
        ['page', start + d * DAY + 3 * 3_600_000 + n * MIN, 3_600_000],
        ['page', start + d * DAY + 15 * 3_600_000 + n * MIN, 3_600_000],
        ['ticket', start + d * DAY + 8 * 3_600_000 + n * MIN, 6 * 3_600_000],
      ];
      for (const [tier, at, length] of fires) {
        push(slo(n, tier, 'FIRING', at, at));
        for (let t = at + 5 * MIN; t < at + length; t += 5 * MIN) push(slo(n, tier, 'FIRING', t, at));
        // One SLO's last ticket is still firing at the end.
        if (!(d === days - 1 && tier === 'ticket' && n === 0)) push(slo(n, tier, 'RESOLVED', at + length, at));
      }
    }
  }
  return out.sort((a, b) => a.at - b.at);
}

async function prepare(): Promise<void> {
  const run = randomUUID().slice(0, 8);
  const topics = { anomalies: `bench.anomalies.${run}`, slo: `bench.slo.${run}`, active: `bench.sink.active.${run}` };
  const kafka = kafkaClient(brokers, 'aiops-bench');
  await createTopics(kafka, [topics.anomalies, topics.slo], 6);
  const events = week(Date.UTC(2026, 0, 5));
  const { server, url } = await standIn();
  const sink = new AlertmanagerSink({ url, kafka, activeTopic: topics.active, staleness: { anomalyMs: 0, sloMs: 0 }, log });
  await sink.rebuild();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const BATCH = 2_000;
  for (let i = 0; i < events.length; i += BATCH) {
    const batch = events.slice(i, i + BATCH);
    await producer.sendBatch({
      topicMessages: (['anomalies', 'slo'] as const).map((t) => ({ topic: topics[t], messages: batch.filter((e) => e.topic === t).map((e) => ({ key: e.key, value: e.value })) })),
    });
    // What the sink delivers in production: the same events, in order, with its active-set writes.
    await sink.deliver(batch.map((e, k): SinkEvent => (e.topic === 'anomalies' ? { kind: 'anomaly', event: e.event as AnomalyEvent, topic: topics.anomalies, partition: 0, offset: String(i + k) } : { kind: 'slo', event: e.event as SloEvent, topic: topics.slo, partition: 0, offset: String(i + k) })));
  }
  await producer.disconnect();
  const active = sink.active.size;
  await sink.close();
  let setRecords = 0;
  const admin = kafka.admin();
  await admin.connect();
  for (const p of await admin.fetchTopicOffsets(topics.active)) setRecords += Number(p.high) - Number(p.low);
  await admin.disconnect();
  server.close();
  const self = fileURLToPath(import.meta.url);
  const measure = (mode: string): { ms: number; heapMB: number; maxRssMB: number; active: number } => {
    const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, mode, topics.anomalies, topics.slo, topics.active], { encoding: 'utf8', env: process.env });
    const line = child.stdout.trim().split('\n').at(-1) ?? '';
    try {
      return JSON.parse(line) as { ms: number; heapMB: number; maxRssMB: number; active: number };
    } catch {
      throw new Error(`measurement ${mode} failed: ${child.stderr.slice(-2_000)}`);
    }
  };
  const before: ReturnType<typeof measure>[] = [];
  const after: ReturnType<typeof measure>[] = [];
  for (let r = 0; r < repeat; r++) {
    before.push(measure('--measure-topics'));
    after.push(measure('--measure-set'));
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const summary = (xs: ReturnType<typeof measure>[]) => ({ ms: median(xs.map((x) => x.ms)), heapMB: median(xs.map((x) => x.heapMB)), maxRssMB: median(xs.map((x) => x.maxRssMB)), active: xs[0]?.active, runs: xs.map((x) => x.ms) });
  const b = summary(before);
  const a = summary(after);
  const kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
  await kafkaAdmin.deleteTopics({ topics: [topics.anomalies, topics.slo, topics.active] }).catch(() => undefined);
  await kafkaAdmin.disconnect();
  process.stdout.write(
    `${JSON.stringify({
      sinks_startup: {
        days, series: seriesCount, slos: sloCount, events: events.length, activeAtEnd: active, setRecords,
        fromTopics: b, fromSet: a, speedup: Number((b.ms / a.ms).toFixed(1)), heapRatio: Number((b.heapMB / a.heapMB).toFixed(1)),
        load1: Number(loadavg()[0]?.toFixed(2)), cores: 2,
      },
    })}\n`,
  );
}

/** One start in this (child) process: the old rebuild from both topics, or the new read of the set. */
async function measureOnce(mode: string, anomaliesTopic: string, sloTopic: string, activeTopic: string): Promise<void> {
  const kafka = kafkaClient(brokers, 'aiops-bench');
  const { server, url } = await standIn();
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const t0 = performance.now();
  let active = 0;
  let keep: unknown;
  if (mode === '--measure-topics') {
    // The start before the compacted set: every event of both topics, decoded, then folded.
    const events: SinkEvent[] = [];
    for (const topic of [anomaliesTopic, sloTopic]) {
      await readToEnd(kafka, topic, (partition, messages) => {
        for (const m of messages) events.push(decodeSinkEvent(topic, partition, m));
      });
    }
    const set = new Map<string, SinkEvent>();
    for (const e of events) {
      if (e.kind === 'measurement') continue;
      if (e.event.state === 'RESOLVED') set.delete(e.event.id);
      else set.set(e.event.id, e);
    }
    active = set.size;
    keep = set;
  } else {
    const sink = new AlertmanagerSink({ url, kafka, activeTopic, log });
    active = await sink.rebuild();
    keep = sink;
    await sink.close();
  }
  const ms = performance.now() - t0;
  gc?.();
  const heapMB = process.memoryUsage().heapUsed / 2 ** 20;
  const maxRssMB = process.resourceUsage().maxRSS / 1024;
  void keep;
  server.close();
  process.stdout.write(`${JSON.stringify({ ms: Math.round(ms), heapMB: Number(heapMB.toFixed(1)), maxRssMB: Number(maxRssMB.toFixed(1)), active })}\n`);
  process.exit(0);
}

const [mode, ...args] = process.argv.slice(2);
if (mode === '--measure-topics' || mode === '--measure-set') await measureOnce(mode, args[0] ?? '', args[1] ?? '', args[2] ?? '');
else await prepare();
