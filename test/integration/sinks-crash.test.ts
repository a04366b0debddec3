/*
 * The kill test of the sinks: anomaly and SLO events (opening, updating, resolving) arrive on
 * their topics while `aiops sinks` child processes (Alertmanager and Grafana sinks) are killed with
 * SIGKILL: once right after Grafana created an annotation and before the sink heard the answer
 * (the window between the create and the id map's commit), then at random points of the
 * committed progress; a last child finishes. Then the real Alertmanager holds exactly the alerts
 * that are still open, with their labels, and the Grafana double holds exactly one annotation per
 * event, equal to what an uninterrupted child left in a second double.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Prng } from '../../runtime/otlp/index.js';
import { sleep } from '../../runtime/retry.js';
import { anomalyEventId, anomalySerde } from '../../schemas/anomalies.js';
import type { AnomalyEvent } from '../../schemas/anomalies.js';
import { sloEventId, sloEventSerde } from '../../schemas/slo.js';
import type { SloEvent } from '../../schemas/slo.js';
import { createTopics, externalEndpoints, kafkaClient } from '../../stack/clients/index.js';
import { Children, committedTotal, killPoints, until } from '../helpers/crash.js';
import { FakeGrafana, TOKEN } from '../helpers/fake-grafana.js';
import type { StoredAnnotation } from '../helpers/fake-grafana.js';
import { stackEndpoints } from '../helpers/stack.js';

const PARTITIONS = 3;
const T = Date.now() - 3_600_000;

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

function anomaly(signal: string, service: string, state: AnomalyEvent['state'], at: number, startedAt: number): AnomalyEvent {
  return {
    id: anomalyEventId(signal, 'http.p95', startedAt, 1), timestamp: at, metric: 'http.p95', signal, expected_value: 0.12, actual_value: state === 'RESOLVED' ? 0.13 : 2.4, lower: 0.08, upper: 0.16,
    deviation: 2.28, score: state === 'RESOLVED' ? 0.1 : 0.97, confidence: 0.8, severity: 'critical', state, detector: 'holt-winters', mode: 'seasonal', started_at: startedAt,
    context: { service, endpoint: '/api/pay', dimensions: {} },
  };
}

function slo(name: string, state: SloEvent['state'], at: number, startedAt: number): SloEvent {
  return {
    id: sloEventId(name, 'page', startedAt), timestamp: at, slo: name, service: 'payments', description: '', sli: 'availability', objective: 0.999, period: '30d rolling',
    period_ms: 30 * 86_400_000, tier: 'page', state, long_window_ms: 3_600_000, short_window_ms: 300_000, factor: 14.4, long_burn_rate: state === 'RESOLVED' ? 0.5 : 20,
    short_burn_rate: state === 'RESOLVED' ? 0.2 : 300, budget_remaining: 0.6, projected_exhaustion: state === 'RESOLVED' ? null : at + 3_600_000, started_at: startedAt, labels: { team: 'payments' },
  };
}

/** An annotation as the comparison sees it: by its event tag, without Grafana's own id. */
function comparable(list: Iterable<StoredAnnotation>): Record<string, Omit<StoredAnnotation, 'id'>[]> {
  const out: Record<string, Omit<StoredAnnotation, 'id'>[]> = {};
  for (const annotation of list) {
    const rest: Partial<StoredAnnotation> = { ...annotation };
    delete rest.id;
    (out[annotation.tags.find((t) => t.startsWith('event:')) ?? '-'] ??= []).push(rest as Omit<StoredAnnotation, 'id'>);
  }
  return out;
}

describe.skipIf(externalEndpoints() !== undefined)('sinks killed with SIGKILL while events arrive', () => {
  const endpoints = stackEndpoints();
  const run = randomUUID().slice(0, 8);
  const children = new Children();
  const grafana = new FakeGrafana();
  const referenceGrafana = new FakeGrafana();

  afterAll(async () => {
    children.killAll();
    await grafana.stop();
    await referenceGrafana.stop();
  });

  it('leaves Alertmanager with exactly the open alerts and Grafana with one annotation per event, as an uninterrupted run', { timeout: 600_000 }, async () => {
    const kafka = kafkaClient(endpoints.kafkaBrokers);
    const anomalies = `test.sinks-crash-anomalies.${run}`;
    const slos = `test.sinks-crash-slo.${run}`;
    await createTopics(kafka, [anomalies, slos], PARTITIONS);

    // 10 anomalies (OPEN, two UPDATEs, RESOLVED for 6 of them) and 4 SLO page alerts (RESOLVED for 2).
    const events: { topic: string; key: string; value: Buffer; at: number }[] = [];
    const open = new Map<string, Record<string, string>>();
    for (let i = 0; i < 10; i++) {
      const service = `svc${i}-${run}`;
      const signal = `http{service.name="${service}",http.route="/api/pay"}`;
      const start = T + i * 60_000;
      const add = (state: AnomalyEvent['state'], at: number): void => {
        events.push({ topic: anomalies, key: signal, value: anomalySerde.serialize(anomaly(signal, service, state, at, start)), at });
      };
      add('OPEN', start);
      add('UPDATE', start + 10_000);
      add('UPDATE', start + 20_000);
      if (i % 3 !== 0) add('RESOLVED', start + 300_000);
      else open.set(anomalyEventId(signal, 'http.p95', start, 1), { alertname: 'AiopsAnomaly', service, severity: 'critical', signal, metric: 'http.p95', endpoint: '/api/pay' });
    }
    for (let j = 0; j < 4; j++) {
      const name = `slo${j}-${run}`;
      const start = T + j * 90_000 + 30_000;
      events.push({ topic: slos, key: name, value: sloEventSerde.serialize(slo(name, 'FIRING', start, start)), at: start });
      if (j % 2 === 0) events.push({ topic: slos, key: name, value: sloEventSerde.serialize(slo(name, 'RESOLVED', start + 600_000, start)), at: start + 600_000 });
      else open.set(sloEventId(name, 'page', start), { team: 'payments', alertname: 'AiopsSloBurnRate', service: 'payments', severity: 'critical', slo: name, tier: 'page' });
    }
    events.sort((a, b) => a.at - b.at);

    // Grafana answers each create after 100 ms (so that kills land among deliveries); the third
    // create of the killed run is answered only after its sink was killed.
    let current: ChildProcess | undefined;
    let creates = 0;
    let killedInWindow: StoredAnnotation | undefined;
    grafana.afterCreate = async (annotation) => {
      creates++;
      if (creates === 3 && current) {
        killedInWindow = annotation;
        await Children.kill(current);
      } else await sleep(100);
    };
    referenceGrafana.afterCreate = () => sleep(100);
    await grafana.start();
    await referenceGrafana.start();

    const env = (name: string, sinks: string, url: string): Record<string, string> => ({
      AIOPS_KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
      AIOPS_SINKS: sinks,
      AIOPS_SINKS_PORT: '0',
      AIOPS_SINKS_TOPICS: `${anomalies},${slos}`,
      AIOPS_SINKS_GROUP_PREFIX: `test.${name}.`,
      AIOPS_ALERTMANAGER_URL: endpoints.alertmanager,
      AIOPS_ALERTMANAGER_RESEND_MS: '5000',
      AIOPS_ALERTMANAGER_ACTIVE_TOPIC: `test.${name}.alertmanager-active`,
      AIOPS_GRAFANA_URL: url,
      AIOPS_GRAFANA_TOKEN: TOKEN,
      AIOPS_GRAFANA_DASHBOARD_UID: 'aiops-overview',
      AIOPS_GRAFANA_ANNOTATIONS_TOPIC: `test.${name}.grafana-annotations`,
      AIOPS_KAFKA_SESSION_TIMEOUT_MS: '6000',
    });
    const name = `sinks-crash-${run}`;
    const refName = `sinks-crash-ref-${run}`;
    const reference = children.start('sinks', env(refName, 'grafana', referenceGrafana.url));
    current = children.start('sinks', env(name, 'alertmanager,grafana', grafana.url));

    // The events arrive one by one while the sinks run and are killed.
    const producer = kafka.producer();
    await producer.connect();
    const producing = (async () => {
      for (const e of events) {
        await producer.send({ topic: e.topic, messages: [{ key: e.key, value: e.value }] });
        await sleep(600);
      }
      await producer.disconnect();
    })();

    const admin = kafka.admin();
    await admin.connect();
    const progress = async (prefix: string, sink: string): Promise<number> => {
      let n = 0;
      for (const topic of [anomalies, slos]) n += await committedTotal(admin, `test.${prefix}.${sink}`, topic);
      return n;
    };
    const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;
    // The first child dies in the create window; three more at random points of the Grafana
    // sink's progress (the slower of the two), each after the restarted child moved on.
    const kills: { alertmanager: number; grafana: number }[] = [];
    const killed = async (): Promise<void> => {
      kills.push({ alertmanager: await progress(name, 'alertmanager'), grafana: await progress(name, 'grafana') });
    };
    await until(async () => (exited(current as ChildProcess) ? true : undefined), 120_000, 100);
    await killed();
    const prng = new Prng(Number.parseInt(run.slice(0, 6), 16));
    for (const target of killPoints(events.length, [0.35, 0.6, 0.85], () => prng.next())) {
      const at = Math.max(target, (kills.at(-1)?.grafana ?? 0) + 1);
      current = children.start('sinks', env(name, 'alertmanager,grafana', grafana.url));
      const child = current;
      await until(async () => ((await progress(name, 'grafana')) >= at ? true : undefined), 120_000, 100);
      await Children.kill(child);
      await killed();
    }
    current = children.start('sinks', env(name, 'alertmanager,grafana', grafana.url));
    await producing;
    const done = async (prefix: string, sink: string): Promise<true | undefined> => ((await progress(prefix, sink)) >= events.length ? true : undefined);
    await until(() => done(name, 'alertmanager'), 180_000);
    await until(() => done(name, 'grafana'), 180_000);
    await until(() => done(refName, 'grafana'), 180_000);
    await admin.disconnect();
    if (process.env.AIOPS_CRASH_DUMP) writeFileSync(`${process.env.AIOPS_CRASH_DUMP}.sinks-kills.json`, JSON.stringify({ events: events.length, kills }));

    // Every kill struck before the end, the first one right after a create.
    const where = `kills at ${JSON.stringify(kills)} of ${events.length} events`;
    expect(killedInWindow, 'a kill between a create and its answer').toBeDefined();
    expect(kills.length, where).toBe(4);
    expect(kills.every((k) => k.grafana < events.length), where).toBe(true);

    // Alertmanager: the open alerts, with their labels, and none of the resolved ones.
    const active = await until(async () => {
      const response = await fetch(`${endpoints.alertmanager}/api/v2/alerts?active=true&silenced=false&inhibited=false`);
      const list = ((await response.json()) as AmAlert[]).filter((a) => (a.labels.service ?? '').endsWith(run) || (a.labels.slo ?? '').endsWith(run));
      return list.length === open.size ? list : undefined;
    }, 30_000);
    const byEvent = Object.fromEntries(active.map((a) => [a.annotations.event_id, a.labels]));
    expect(byEvent).toEqual(Object.fromEntries(open));

    // Grafana: one annotation per event, each as the uninterrupted run left it.
    const opened = new Set(events.map((e) => (e.topic === anomalies ? anomalySerde.deserialize(e.value).id : sloEventSerde.deserialize(e.value).id)));
    const actual = comparable(grafana.annotations.values());
    expect(Object.keys(actual).sort()).toEqual([...opened].map((id) => `event:${id}`).sort());
    expect(Object.entries(actual).filter(([, list]) => list.length !== 1).map(([tag, list]) => `${tag}: ${list.length} annotations`)).toEqual([]);
    expect(actual).toEqual(comparable(referenceGrafana.annotations.values()));
    // The annotation created in the window was taken over, not created again.
    const windowTag = killedInWindow?.tags.find((t) => t.startsWith('event:')) ?? '';
    expect(actual[windowTag]).toHaveLength(1);
    expect(grafana.annotations.get(killedInWindow?.id ?? -1)).toBeDefined();
    current.kill('SIGTERM');
    reference.kill('SIGTERM');
  });
});
