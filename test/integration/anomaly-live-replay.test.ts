import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoAnomalyConfig, judge, loadRecording, replayRecording } from '../../bench/live-recording.js';
import { kafkaClient } from '../../stack/clients/index.js';
import { projectRoot } from '../../stack/index.js';
import { stackEndpoints } from '../helpers/stack.js';

/**
 * The live false-alarm benchmark's committed recording (30 minutes of the demo shop's healthy
 * traffic at 25 requests/s on an otherwise idle machine, then the demo's two faults), as ingest
 * wrote it to its signals topic, replayed through a real evaluate with the demo's anomaly
 * settings on the real broker: healthy traffic opens no event, and each fault opens one on its
 * metric and route within two buckets.
 */
describe('recorded healthy demo traffic through evaluate', () => {
  it('opens no anomaly event in 30 healthy minutes and detects both faults within two buckets', async () => {
    const { kafkaBrokers } = stackEndpoints();
    const kafka = kafkaClient(kafkaBrokers, 'test-live-replay');
    const rec = loadRecording(join(projectRoot, 'bench/recordings/anomaly-live-30min-quiet.json.gz'));
    const run = randomUUID().slice(0, 8);
    const { events } = await replayRecording(kafka, kafkaBrokers, rec, `test.replay-signals.${run}`, demoAnomalyConfig(`test.replay-anomalies.${run}`));
    const verdict = judge(rec, events);

    expect(verdict.healthy_buckets).toBeGreaterThan(360);
    expect(verdict.false_alarm_events).toEqual([]);
    expect(verdict.faults.map((f) => [f.fault, f.detected, f.within_two_buckets])).toEqual(verdict.faults.map((f) => [f.fault, true, true]));
    expect(verdict.faults).toHaveLength(2);
  }, 180_000);
});
