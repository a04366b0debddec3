import { AiopsError } from '../runtime/errors.js';
import { runBacktest } from './backtest-command.js';
import { runDashboards } from './dashboards-command.js';
import { runDemo } from './demo-command.js';
import { runDemoApp } from '../producers/demo-app/index.js';
import { runLoadgen } from '../producers/loadgen/index.js';
import { runReplay } from '../producers/replay/index.js';
import { runEvaluate, runIngest } from './process-command.js';
import { runSinks } from './sinks-command.js';
import { runSlo } from './slo-command.js';
import { runStack } from './stack-command.js';
import { runTopics } from './topics-command.js';
import { runTools } from './tools-command.js';
import { runImage, runNodeLtsCommand } from './image-command.js';

const usage = `usage: aiops <command> [options]

commands:
  stack up [component...]     install what is missing and start the local stack
  stack down                  stop every process 'stack up' started
  stack status [--json]       health and addresses of each component
  stack logs [component] [-n N]
                              last N lines (default 50) of one or all component logs
  ingest [--config file]      run the ingest processor (otlp_metrics -> aiops.signals.v1)
  evaluate [--config file]    run the evaluate processor (aiops.signals.v1 -> signal values,
                              anomaly events on aiops.anomalies.v1)
  backtest [--nab dir | --csv file... | --topic name] [--sweep] [--out dir] [--report f.html]
                              replay series through the anomaly detector and score them (--help)
  sinks                       deliver anomaly and SLO events to Alertmanager, Grafana, InfluxDB
                              (AIOPS_SINKS, default alertmanager)
  slo check <files>           validate SLO files (OpenSLO v1, Sloth prometheus/v1)
  slo rules <files> [--out f] Prometheus recording and alerting rules for those SLOs
  dashboards [--check]        write the Grafana dashboards (compose/grafana/dashboards) from
                              grafana/dashboards.ts; --check fails if a committed one differs
  tools install [tool...]     install the checking tools (helm, promtool, hadolint, ...) into the cache
  topics create [--partitions n] [--replication-factor n]
                              create the platform's Kafka topics that are missing (idempotent)
  image build [--docker-archive f] | export --docker-archive f | run [-e K=v] -- <command>
                              build the image from the Dockerfile without Docker (buildah, a
                              local Node.js 24 base), export it, run it with runc (docs/deploy.md)
  node-lts [-- args...]       the image's Node.js LTS from the cache: its path, or run it with args
  demo [--duration s]         the main job: stack, platform, demo shop with load, a latency
                              spike and an error burst, anomaly and SLO alerts, live (3.5 min)
  demo-app [--port n]         the demo shop alone (Express + OpenTelemetry SDK, fault injection)
  loadgen --url u [--rate r]  bounded load with a traffic mix
  replay --nab dir | --csv f... | --from-topic t [--topic t] [--speedup x|max]
                              write NAB/CSV series (as OTLP) or a recorded topic into Kafka
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'stack':
      return runStack(rest);
    case 'demo':
      return runDemo(rest);
    case 'demo-app':
      return runDemoApp(rest);
    case 'loadgen':
      return runLoadgen(rest);
    case 'replay':
      return runReplay(rest);
    case 'ingest':
      return runIngest(rest);
    case 'evaluate':
      return runEvaluate(rest);
    case 'backtest':
      return runBacktest(rest);
    case 'slo':
      return runSlo(rest);
    case 'sinks':
      return runSinks(rest);
    case 'topics':
      return runTopics(rest);
    case 'dashboards':
      return runDashboards(rest);
    case 'tools':
      return runTools(rest);
    case 'image':
      return runImage(rest);
    case 'node-lts':
      return runNodeLtsCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(usage);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`aiops: unknown command "${command}"\n\n${usage}`);
      return 2;
  }
}

// `aiops stack logs | head` closes the pipe early; that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof AiopsError) {
    process.stderr.write(`aiops: ${error.code}: ${error.message}\n`);
  } else {
    process.stderr.write(`aiops: ${(error as Error).stack ?? String(error)}\n`);
  }
  process.exitCode = 1;
}
