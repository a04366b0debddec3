import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { fileSafe, nabStamp } from '../../processors/anomaly/topic-source.js';
import { signalValueSerde } from '../../schemas/signal-values.js';
import type { SignalValue } from '../../schemas/signal-values.js';
import { createTopics, kafkaClient } from '../../stack/clients/index.js';
import { projectRoot } from '../../stack/index.js';
import { stackEndpoints } from '../helpers/stack.js';

const run = promisify(execFile);
const B = 60_000;
const START = Date.UTC(2026, 0, 5);
const ROWS = 600;
const SPIKE = 450;

function value(signal: string, k: number): SignalValue {
  // A daily-ish wave with a little deterministic noise, and a latency spike at row SPIKE.
  const p95 = 0.2 + 0.05 * Math.sin((2 * Math.PI * k) / 144) + ((k * 13) % 7) * 0.002 + (k === SPIKE || k === SPIKE + 1 ? 1.5 : 0);
  return {
    signal, rule: 'http', dimensions: { 'service.name': 'shop' }, bucketStartMs: START + k * B, bucketMs: B, count: 600, errors: 3, rate: 10, errorRatio: 0.005,
    mean: p95 / 2, p50: p95 / 3, p95, p99: p95 * 1.2, min: Number.NaN, max: Number.NaN, statusClasses: [0, 597, 0, 0, 0, 3], bounds: [], bucketCounts: [], sources: 1, series: 1,
  };
}

/**
 * `aiops backtest --topic`: replays a signal-values topic on the real broker through the same
 * detector as the CSV path, with a time range, label windows and NAB scoring.
 */
describe('aiops backtest --topic', () => {
  const endpoints = stackEndpoints();
  const topic = `test.signal-values.${randomUUID().slice(0, 8)}`;
  const shop = 'http{service.name="shop"}';
  const other = 'http{service.name="other"}';
  const dir = mkdtempSync(join(tmpdir(), 'aiops-backtest-'));
  const env = { ...process.env, AIOPS_KAFKA_BROKERS: endpoints.kafkaBrokers.join(',') };

  beforeAll(async () => {
    const kafka = kafkaClient(endpoints.kafkaBrokers);
    await createTopics(kafka, [topic], 2, { 'retention.ms': '-1' });
    const producer = kafka.producer();
    await producer.connect();
    const messages = [];
    for (let k = 0; k < ROWS; k++) for (const s of [shop, other]) messages.push({ key: s, value: signalValueSerde.serialize(value(s, k)) });
    messages.push({ key: 'junk', value: Buffer.from('not avro') });
    await producer.send({ topic, messages });
    await producer.disconnect();
  });

  it('scores the series in range with the labels, writes NAB results equal to the CSV path, a report and a PNG', async () => {
    const name = `p95/${fileSafe(shop)}.csv`;
    const labels = join(dir, 'labels.json');
    writeFileSync(labels, JSON.stringify({ [name]: [[nabStamp(START + (SPIKE - 10) * B), nabStamp(START + (SPIKE + 10) * B)]] }));
    const out = join(dir, 'topic');
    const { stdout, stderr } = await run(
      process.execPath,
      [join(projectRoot, 'bin/aiops.js'), 'backtest', '--topic', topic, '--signals', 'http{service.name="shop"*', '--metrics', 'p95',
        '--from', new Date(START).toISOString(), '--labels', labels, '--out', out, '--report', join(dir, 'report.html'), '--png', name, '--png-out', join(dir, 'chart.png')],
      { env, timeout: 120_000 },
    );
    expect(stdout).toMatch(new RegExp(`1 series, ${ROWS} rows, 1 label windows \\(topic ${topic.replace(/\./g, '\\.')}: ${2 * ROWS + 1} records, ${ROWS} out of range, 1 not signal values\\)`));
    expect(stdout).toMatch(/windows detected 1\/1/);
    expect(stderr).toMatch(/not signal values, first: partition \d offset \d+/);
    const standard = Number(/standard\s+(-?[\d.]+)/.exec(stdout)?.[1]);
    expect(standard).toBeGreaterThan(50);
    const index = JSON.parse(readFileSync(join(out, 'series.json'), 'utf8')) as Record<string, { signal: string; metric: string }>;
    expect(index).toEqual({ [name]: { signal: shop, metric: 'p95' } });

    // The same rows as a CSV file through --csv give the same per-row scores.
    const csv = join(dir, 'shop.csv');
    writeFileSync(csv, ['timestamp,value', ...Array.from({ length: ROWS }, (_, k) => `${nabStamp(START + k * B)},${value(shop, k).p95}`)].join('\n'));
    await run(process.execPath, [join(projectRoot, 'bin/aiops.js'), 'backtest', '--csv', csv, '--out', join(dir, 'csv')], { env, timeout: 60_000 });
    const fromTopic = readFileSync(join(out, name), 'utf8').split('\n');
    const fromCsv = readFileSync(join(dir, 'csv', 'shop.csv'), 'utf8').split('\n');
    expect(fromTopic).toHaveLength(ROWS + 2);
    expect(fromTopic.slice(1).map((l) => l.split(',')[2])).toEqual(fromCsv.slice(1).map((l) => l.split(',')[2]));
    expect(fromTopic.slice(1).map((l) => l.split(',')[0])).toEqual(fromCsv.slice(1).map((l) => l.split(',')[0]));

    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html.match(/<svg/g)).toHaveLength(1);
    const png = readFileSync(join(dir, 'chart.png'));
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  });

  it('keeps only the offset range it is given', async () => {
    const { stdout } = await run(process.execPath, [join(projectRoot, 'bin/aiops.js'), 'backtest', '--topic', topic, '--metrics', 'rate,p95', '--from-offset', '0', '--to-offset', '100'], { env, timeout: 120_000 });
    // Offsets [0, 100) of both partitions: at most 200 records, spread over the two signals.
    const rows = [...stdout.matchAll(/: (\d+) rows, \d+ at or above/g)].map((m) => Number(m[1]));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(2 * 200);
    expect(stdout).toMatch(/records, \d+ out of range/);
    const out = Number(/records, (\d+) out of range/.exec(stdout)?.[1]);
    expect(out).toBeGreaterThanOrEqual(2 * ROWS + 1 - 200);
  });
});
