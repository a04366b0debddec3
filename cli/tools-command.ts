import { aiopsError } from '../runtime/errors.js';
import { checkingTools, ensureTool, ensureTools } from '../stack/tools.js';
import type { CheckingTool } from '../stack/tools.js';

const usage = `usage: aiops tools install [tool...]   install the checking tools (default: all) into the cache
       aiops tools path <tool>          install if needed, print the executable's path
tools: ${checkingTools.join(', ')}
`;

function toolNamed(name: string): CheckingTool {
  if ((checkingTools as readonly string[]).includes(name)) return name as CheckingTool;
  throw aiopsError('CONFIG_INVALID', [`  - unknown tool "${name}" (${checkingTools.join(', ')})`]);
}

/** `aiops tools`: the checking tools the test command runs over the deployment files. */
export async function runTools(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const log = (line: string): void => {
    process.stderr.write(`[tools] ${line}\n`);
  };
  switch (sub) {
    case 'install': {
      const started = Date.now();
      const paths = await ensureTools(rest.length > 0 ? rest.map(toolNamed) : checkingTools, log);
      for (const [name, path] of Object.entries(paths)) process.stdout.write(`${name.padEnd(20)} ${path}\n`);
      process.stderr.write(`[tools] ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      return 0;
    }
    case 'path': {
      const [name] = rest;
      if (!name) break;
      process.stdout.write(`${await ensureTool(toolNamed(name), log)}\n`);
      return 0;
    }
    default:
      break;
  }
  process.stderr.write(usage);
  return 2;
}
