import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderStats } from '../../../cli/sinks-command.js';
import { createTelemetry } from '../../../runtime/telemetry.js';
import { loadStackConfig, versions } from '../../../stack/config.js';
import { cachedDebian, unpackDebian } from '../../../stack/debian.js';
import { ensureTool } from '../../../stack/tools.js';

const run = promisify(execFile);
const root = new URL('../../../', import.meta.url).pathname;
const rulesDir = join(root, 'compose/prometheus/rules');
const testsDir = join(rulesDir, 'tests');
const RUNBOOK = 'https://github.com/aiops-stream/aiops/blob/main/docs/runbooks.md#';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface AlertTest {
  alertname: string;
  eval_time: string;
  exp_alerts: unknown[];
}
interface UnitTestFile {
  rule_files: string[];
  tests: { alert_rule_test?: AlertTest[] }[];
}

// The platform's files; others in the folder (SLO rules of `aiops slo rules`, thresholds) are the user's.
const ruleFiles = readdirSync(rulesDir).filter((f) => /^aiops-.*\.rules\.yml$/.test(f)).sort();
const testFiles = readdirSync(testsDir).filter((f) => f.endsWith('.test.yml')).sort();
const groupsOf = (file: string): { name: string; rules: Rule[] }[] => (parse(readFileSync(join(rulesDir, file), 'utf8')) as { groups: { name: string; rules: Rule[] }[] }).groups;
const alerts = ruleFiles.flatMap((file) => groupsOf(file).flatMap((g) => g.rules.filter((r) => r.alert).map((r) => ({ file, ...r, alert: r.alert as string }))));

/** GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to dashes. */
function anchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

// Sections of docs/runbooks.md for alerts that other code defines, not the rule files here.
const elsewhere: Record<string, string> = { 'slo-burn-rate': 'the SLO rules `aiops slo rules` exports (processors/slo/rules.ts)' };

describe('alert rule files (compose/prometheus/rules)', () => {
  it('are the three platform files, in the folder Prometheus loads, with their unit tests outside its glob', () => {
    // `aiops-*` keeps them apart from what `aiops slo rules` writes there (docs/slo.md: slo.yml).
    expect(ruleFiles).toEqual(['aiops-meta.rules.yml', 'aiops-platform.rules.yml', 'aiops-service.rules.yml']);
    expect(readFileSync(join(root, 'compose/prometheus/prometheus.yml'), 'utf8')).toMatch(/rule_files:\n\s+- rules\/\*\.yml/);
    expect(testFiles).toEqual(['aiops-meta.test.yml', 'aiops-platform.test.yml', 'aiops-service.test.yml']);
  });

  it('give every alert a severity, a summary, a description and a runbook link', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(13);
    for (const a of alerts) {
      expect(['page', 'ticket', 'info'], `${a.alert} severity`).toContain(a.labels?.severity);
      expect(a.annotations?.summary, `${a.alert} summary`).toBeTruthy();
      expect(a.annotations?.description, `${a.alert} description`).toBeTruthy();
      expect(a.annotations?.runbook_url, `${a.alert} runbook_url`).toBe(`${RUNBOOK}${a.alert.toLowerCase()}`);
    }
  });

  it('name each alert once (one rule per alert)', () => {
    const names = alerts.map((a) => a.alert);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });

  it('cover the design: latency, errors, anomalies; collector, storage, rule failures, components; lag, dead letters, sinks, readiness', () => {
    const byName = new Map(alerts.map((a) => [a.alert, a]));
    const expects: Record<string, RegExp> = {
      AiopsHighLatencyP95: /http_server_request_duration_seconds_bucket|p95_rate5m/,
      AiopsHighErrorRate: /errors:ratio_rate5m/,
      AiopsAnomalyScoreHigh: /aiops_anomaly_score/,
      AiopsCollectorRefusingData: /otelcol_receiver_lost/,
      AiopsCollectorExportFailing: /otelcol_exporter_lost/,
      AiopsCollectorQueueNearlyFull: /otelcol_exporter_queue_size/,
      AiopsPrometheusStorageNearlyFull: /prometheus_tsdb_retention_limit_bytes/,
      AiopsPrometheusRuleFailures: /prometheus_rule_evaluation_failures_total/,
      AiopsComponentDown: /^up\{/,
      AiopsConsumerLagGrowing: /aiops:process_lag:sum/,
      AiopsDeadLetters: /kind="dead_letters"[\s\S]*aiops_sink_dead_letters_total/,
      AiopsSinkDeliveryFailing: /aiops_sink_retries_total[\s\S]*aiops_sink_delivered_total/,
      AiopsProcessorNotReady: /aiops_process_ready[\s\S]*aiops_sink_ready/,
    };
    for (const [name, pattern] of Object.entries(expects)) expect(byName.get(name)?.expr, name).toMatch(pattern);
  });

  it('keep `for` at most 2 minutes on the alerts the integration test waits for', () => {
    const minutes = (d: string | undefined): number => (d === undefined ? 0 : Number(/^(\d+)m$/.exec(d)?.[1] ?? Number.NaN));
    for (const name of ['AiopsComponentDown', 'AiopsHighErrorRate', 'AiopsDeadLetters']) {
      expect(minutes(alerts.find((a) => a.alert === name)?.for), name).toBeLessThanOrEqual(2);
    }
  });
});

describe('docs/runbooks.md', () => {
  const doc = readFileSync(join(root, 'docs/runbooks.md'), 'utf8');
  const sections = [...doc.matchAll(/^### (.+)$/gm)].map((m) => anchor(m[1] as string));

  it('has a section for every alert', () => {
    expect(alerts.map((a) => a.alert.toLowerCase()).filter((a) => !sections.includes(a))).toEqual([]);
  });

  it('has no section without an alert', () => {
    const names = new Set(alerts.map((a) => a.alert.toLowerCase()));
    expect(sections.filter((s) => !names.has(s) && !(s in elsewhere))).toEqual([]);
  });

  it('says in every alert section what it means, what to check and how to fix it', () => {
    const bodies = doc.split(/^### /m).slice(1);
    for (const body of bodies) {
      const title = body.split('\n')[0];
      expect(body, title).toContain('**Means.**');
      expect(body, title).toContain('**Check.**');
      expect(body, title).toContain('**Fix.**');
    }
  });
});

describe('promtool unit tests (compose/prometheus/rules/tests)', () => {
  it('test every alert both firing and silent, and load only the platform rule files', () => {
    const cases = new Map<string, { firing: number; silent: number }>();
    for (const file of testFiles) {
      const unit = parse(readFileSync(join(testsDir, file), 'utf8')) as UnitTestFile;
      for (const ruleFile of unit.rule_files) expect(ruleFiles).toContain(ruleFile.replace(/^\.\.\//, ''));
      for (const t of unit.tests.flatMap((x) => x.alert_rule_test ?? [])) {
        const c = cases.get(t.alertname) ?? { firing: 0, silent: 0 };
        if (t.exp_alerts.length > 0) c.firing++;
        else c.silent++;
        cases.set(t.alertname, c);
      }
    }
    for (const a of alerts) {
      expect(cases.get(a.alert)?.firing ?? 0, `${a.alert} firing case`).toBeGreaterThan(0);
      expect(cases.get(a.alert)?.silent ?? 0, `${a.alert} silent case`).toBeGreaterThan(0);
    }
  });
});

describe('promtool and amtool on the files (tools installed into the stack cache on first use)', () => {
  let promtool = '';
  let amtool = '';
  beforeAll(async () => {
    const config = loadStackConfig();
    promtool = await ensureTool('promtool', () => undefined, config);
    // amtool comes with the stack's Alertmanager package (what `aiops stack up` unpacks).
    const am = cachedDebian(config, versions.alertmanagerDeb) ?? (await unpackDebian(config, versions.alertmanagerDeb, () => undefined));
    amtool = join(am, 'usr/bin/amtool');
  }, 300_000);

  const tool = async (bin: string, args: string[]): Promise<string> => {
    try {
      const { stdout, stderr } = await run(bin, args, { cwd: root });
      return stdout + stderr;
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      throw new Error(`${bin} ${args.join(' ')} exited ${e.code}:\n${e.stdout}\n${e.stderr}`);
    }
  };

  it.each(ruleFiles)('promtool check rules %s', async (file) => {
    const rules = groupsOf(file).reduce((n, g) => n + g.rules.length, 0);
    const out = await tool(promtool, ['check', 'rules', join(rulesDir, file)]);
    expect(out).toContain(`SUCCESS: ${rules} rules found`);
  });

  it.each(testFiles)('promtool test rules %s', async (file) => {
    const out = await tool(promtool, ['test', 'rules', join(testsDir, file)]);
    expect(out).toContain('SUCCESS');
    expect(out).not.toContain('FAILED');
  });

  it('amtool accepts the Alertmanager configuration and routes each severity to its receiver', async () => {
    const file = join(root, 'compose/alertmanager/alertmanager.yml');
    expect(await tool(amtool, ['check-config', file])).toContain('SUCCESS');
    const route = async (...labels: string[]): Promise<string> => (await run(amtool, ['config', 'routes', 'test', `--config.file=${file}`, ...labels])).stdout.trim();
    expect(await route('alertname=AiopsComponentDown', 'severity=page')).toBe('page');
    expect(await route('alertname=AiopsSloBurnRate', 'severity=critical')).toBe('page');
    expect(await route('alertname=CheckoutAvailability', 'sloth_severity=page')).toBe('page');
    expect(await route('alertname=AiopsDeadLetters', 'severity=ticket')).toBe('ticket');
    expect(await route('alertname=AiopsSloBurnRate', 'severity=warning')).toBe('ticket');
    expect(await route('alertname=CheckoutAvailability', 'sloth_severity=ticket')).toBe('ticket');
    expect(await route('alertname=AiopsAnomalyScoreHigh', 'severity=info')).toBe('info');
    expect(await route('alertname=Other')).toBe('default');
  });
});

describe('the metrics the platform rules read are exported', () => {
  it('processes: aiops_process_ready 1/0 beside the runner statistics', async () => {
    let ready = false;
    const stats = { counters: { records: 1, dead_letters: 0 }, partitions: [0], stateEntries: 0, stateBytes: 0, lag: { 0: 5 } };
    const telemetry = createTelemetry('ingest', async () => stats, () => ready);
    expect(await telemetry.render()).toMatch(/^aiops_process_ready\{process="ingest"[^}]*\} 0$/m);
    ready = true;
    const text = await telemetry.render();
    expect(text).toMatch(/^aiops_process_ready\{process="ingest"[^}]*\} 1$/m);
    expect(text).toMatch(/^aiops_process_events_total\{process="ingest",kind="dead_letters"[^}]*\} 0$/m);
    expect(text).toMatch(/^aiops_process_lag\{process="ingest",partition="0"[^}]*\} 5$/m);
    await telemetry.shutdown();
  });

  it('sinks: aiops_sink_ready 1/0 and the delivery counters, per sink', () => {
    const stats = (delivered: number, retries: number) => ({ delivered, retries, deadLetters: 1, batches: 0, rebuilt: 0, consumerRestarts: 0 });
    const text = renderStats([{ stats: stats(3, 0), ready: true }, { stats: stats(0, 7), ready: false }], ['alertmanager', 'grafana']);
    expect(text).toContain('# TYPE aiops_sink_ready gauge');
    expect(text).toMatch(/^aiops_sink_ready\{sink="alertmanager"\} 1$/m);
    expect(text).toMatch(/^aiops_sink_ready\{sink="grafana"\} 0$/m);
    expect(text).toMatch(/^aiops_sink_retries_total\{sink="grafana"\} 7$/m);
    expect(text).toMatch(/^aiops_sink_delivered_total\{sink="alertmanager"\} 3$/m);
    expect(text).toMatch(/^aiops_sink_dead_letters_total\{sink="grafana"\} 1$/m);
  });
});
