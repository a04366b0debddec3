/**
 * Entry of the demo app process: `node --import tsx producers/demo-app/main.ts [options]`, or of
 * the inventory service it calls: `... main.ts inventory [options]`.
 * Nothing else is imported before `runDemoApp` starts the OpenTelemetry SDK; the app itself
 * (express, http) is loaded after that, so the auto-instrumentations patch it.
 */
import { runDemoApp, runInventory } from './server.js';

try {
  const argv = process.argv.slice(2);
  // `main.ts inventory [options]`: the inventory service the shop starts beside itself.
  process.exitCode = argv[0] === 'inventory' ? await runInventory(argv.slice(1)) : await runDemoApp(argv);
} catch (error) {
  const code = (error as { code?: unknown }).code;
  process.stderr.write(`demo-app: ${typeof code === 'string' ? `${code}: ${(error as Error).message}` : ((error as Error).stack ?? String(error))}\n`);
  process.exitCode = 1;
}
