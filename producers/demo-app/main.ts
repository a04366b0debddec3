/**
 * Entry of the demo app process: `node --import tsx producers/demo-app/main.ts [options]`.
 * Nothing else is imported before `runDemoApp` starts the OpenTelemetry SDK; the app itself
 * (express, http) is loaded after that, so the auto-instrumentations patch it.
 */
import { runDemoApp } from './server.js';

try {
  process.exitCode = await runDemoApp(process.argv.slice(2));
} catch (error) {
  const code = (error as { code?: unknown }).code;
  process.stderr.write(`demo-app: ${typeof code === 'string' ? `${code}: ${(error as Error).message}` : ((error as Error).stack ?? String(error))}\n`);
  process.exitCode = 1;
}
