#!/usr/bin/env node
// Entry point of the `aiops` command. In a checkout it runs the TypeScript sources through tsx's
// loader, so an old build never shadows an edit. Where the sources are not beside it (the image,
// a package) or with AIOPS_DIST=1, it runs the compiled JavaScript in dist/ (`npm run build`).
import { existsSync } from 'node:fs';

const sources = existsSync(new URL('../cli/main.ts', import.meta.url));
if (!sources || process.env.AIOPS_DIST === '1') {
  if (!existsSync(new URL('../dist/cli/main.js', import.meta.url))) {
    process.stderr.write('aiops: dist/cli/main.js is missing: run `npm run build` first\n');
    process.exit(1);
  }
  await import('../dist/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
