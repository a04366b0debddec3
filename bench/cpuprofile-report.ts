/**
 * A V8 CPU profile (`node --cpu-prof`) as a table of self time by function (top N, with the share
 * of all samples) and a flame graph SVG (stacks folded by function and file, width = samples).
 *
 * Run: `tsx bench/cpuprofile-report.ts <file.cpuprofile> [--top 25] [--svg out.svg] [--min 0.005]`.
 * `--min` drops frames narrower than that share of all samples from the SVG (keeps it small).
 * The table goes to stdout as Markdown.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A frame's label: function and the file it is in (the project's path, or the package). */
function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || '(anonymous)';
  if (!url) return name;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  const file = pkg ?? url.replace(/^file:\/\//, '').replace(/^.*?\/(processors|runtime|bench|schemas|cli|stack)\//, '$1/');
  return `${name} ${pkg ? `[${pkg}]` : file.includes('/') ? file : `${basename(file)}:${lineNumber + 1}`}`;
}

/** A coarse area of a frame label, for the summary by area. */
function area(name: string): string {
  if (name.startsWith('(idle)')) return 'idle (waiting on the broker)';
  if (name.startsWith('(garbage collector)')) return 'garbage collection';
  if (name.includes('[kafkajs]')) return 'kafkajs (protocol, CRC, record encoding)';
  if (name.includes('[avsc]') || name.includes('schemas/')) return 'Avro encoding';
  if (name.includes('runtime/otlp/')) return 'OTLP decoding';
  if (name.includes('series-store') || name.includes('bucket-store') || name.includes('runtime/state/')) return 'state stores (pages, changelog encoding)';
  if (name.includes('processors/ingest/')) return 'ingest processor (series, deltas, buckets)';
  if (name.includes('runtime/')) return 'runner and runtime';
  if (name.includes('node:') || /^(FastBuffer|writeBuffer|_copyActual|Enc|dispatch|runMicrotasks)/.test(name)) return 'Node.js buffers, I/O and event loop';
  return 'other';
}

interface Tree {
  name: string;
  self: number;
  total: number;
  children: Map<string, Tree>;
}

function fold(profile: CpuProfile): { root: Tree; self: Map<string, number>; total: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const weight = new Map<number, number>();
  // Sample weights in time (microseconds) rather than counts: the sampling interval varies.
  profile.samples.forEach((id, i) => weight.set(id, (weight.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const root: Tree = { name: 'all', self: 0, total: 0, children: new Map() };
  const self = new Map<string, number>();
  let total = 0;
  for (const [id, w] of weight) {
    if (w <= 0) continue;
    const stack: string[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at);
      if (node && node.callFrame.functionName !== '(root)') stack.push(label(node));
    }
    stack.reverse();
    const leaf = stack[stack.length - 1] ?? '(root)';
    self.set(leaf, (self.get(leaf) ?? 0) + w);
    total += w;
    let tree = root;
    tree.total += w;
    for (const name of stack) {
      let child = tree.children.get(name);
      if (!child) tree.children.set(name, (child = { name, self: 0, total: 0, children: new Map() }));
      child.total += w;
      tree = child;
    }
    tree.self += w;
  }
  return { root, self, total };
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** An icicle-style flame graph (root at the bottom), frames under `minShare` of the total left out. */
function flameGraph(root: Tree, title: string, minShare: number): string {
  const width = 1200;
  const rowHeight = 16;
  const rows: string[] = [];
  let depthMax = 0;
  const walk = (tree: Tree, x: number, depth: number): void => {
    depthMax = Math.max(depthMax, depth);
    const w = (tree.total / root.total) * width;
    rows.push(`${x.toFixed(1)}|${depth}|${w.toFixed(1)}|${tree.name}|${((tree.total / root.total) * 100).toFixed(1)}`);
    let childX = x;
    for (const child of [...tree.children.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      if (child.total / root.total >= minShare) walk(child, childX, depth + 1);
      childX += (child.total / root.total) * width;
    }
  };
  walk(root, 0, 0);
  const height = (depthMax + 1) * rowHeight + 40;
  const hue = (name: string): number => {
    let h = 0;
    for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
    return h;
  };
  const rects = rows.map((row) => {
    const [x, depth, w, name, pct] = row.split('|') as [string, string, string, string, string];
    const y = height - 20 - (Number(depth) + 1) * rowHeight;
    const h = hue(name);
    const fill = name.includes('[kafkajs]') ? `rgb(${90 + (h % 60)},${140 + (h % 60)},220)` : `rgb(${220 + (h % 35)},${100 + (h % 120)},${40 + (h % 40)})`;
    const chars = Math.floor(Number(w) / 6.5);
    const text = chars >= 4 ? `<text x="${(Number(x) + 3).toFixed(1)}" y="${y + 12}">${escape(name.length > chars ? `${name.slice(0, chars - 2)}..` : name)}</text>` : '';
    return `<g><title>${escape(name)} (${pct}%)</title><rect x="${x}" y="${y}" width="${w}" height="${rowHeight - 1}" fill="${fill}"/>${text}</g>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="monospace" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/><text x="6" y="14" font-size="13">${escape(title)}</text>`,
    ...rects,
    '</svg>',
  ].join('\n');
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--') && !/^\d/.test(a));
  if (!file) throw new Error('usage: cpuprofile-report <file.cpuprofile> [--top N] [--svg out.svg] [--min share]');
  const option = (name: string): string | undefined => {
    const at = args.indexOf(`--${name}`);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const top = Number(option('top') ?? 25);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const { root, self, total } = fold(profile);
  const lines = ['| self % | self ms | function (file or [package]) |', '|---:|---:|---|'];
  for (const [name, us] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`| ${((us / total) * 100).toFixed(1)} | ${(us / 1000).toFixed(0)} | \`${name.replace(/\|/g, '\\|')}\` |`);
  }
  const byArea = new Map<string, number>();
  for (const [name, us] of self) byArea.set(area(name), (byArea.get(area(name)) ?? 0) + us);
  lines.push('', '| area | self % |', '|---|---:|');
  for (const [name, us] of [...byArea.entries()].sort((a, b) => b[1] - a[1])) lines.push(`| ${name} | ${((us / total) * 100).toFixed(1)} |`);
  process.stdout.write(`${lines.join('\n')}\n\nTotal ${(total / 1000).toFixed(0)} ms sampled.\n`);
  const svg = option('svg');
  if (svg) writeFileSync(svg, flameGraph(root, option('title') ?? basename(file), Number(option('min') ?? 0.005)));
}

main();
