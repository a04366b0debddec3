import { Resvg } from '@resvg/resvg-js';

/**
 * One scored series for the report. Arrays have the same length (one entry per row); NaN is
 * allowed in expected/lower/upper (no model yet) and in values (gaps).
 */
export interface ReportSeries {
  /** Shown as the chart title; escaped, so it may contain any characters. */
  readonly name: string;
  /** Unix ms, non-decreasing. */
  readonly timestamps: ArrayLike<number>;
  readonly values: ArrayLike<number>;
  readonly expected: ArrayLike<number>;
  readonly lower: ArrayLike<number>;
  readonly upper: ArrayLike<number>;
  /** Anomaly score per row in [0, 1]. */
  readonly scores: ArrayLike<number>;
  /** A row is a detection when its score is at least the threshold. */
  readonly threshold: number;
  /** Labelled anomaly windows (may be empty). */
  readonly windows: readonly { readonly startMs: number; readonly endMs: number }[];
}

/** Chart size in pixels (at least 160 × 120). */
export interface ChartOptions {
  /** Default 1200. */
  readonly width?: number;
  /** Default 420. */
  readonly height?: number;
}

const FONT = 'DejaVu Sans, sans-serif';
const COLOR = {
  value: '#1f77b4',
  expected: '#ff7f0e',
  band: '#ff7f0e',
  window: '#d62728',
  detection: '#d62728',
  score: '#2ca02c',
  threshold: '#d62728',
  axis: '#444',
  grid: '#e5e5e5',
  text: '#222',
};
const MARGIN = { left: 66, right: 18, top: 54, bottom: 28 };
const PANEL_GAP = 12;
/** Share of the plot height given to the value panel; the score panel gets the rest. */
const VALUE_SHARE = 0.72;
const DAY_MS = 86_400_000;
/** Candidate time-tick steps; beyond the last, whole multiples of a year. */
const TIME_STEPS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000,
  900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, DAY_MS, 2 * DAY_MS, 3 * DAY_MS,
  7 * DAY_MS, 14 * DAY_MS, 30 * DAY_MS, 60 * DAY_MS, 90 * DAY_MS, 180 * DAY_MS, 365 * DAY_MS,
];

/** Escapes the XML special characters `& < > " '`. */
function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      default:
        return '&#39;';
    }
  });
}

/** A coordinate rounded to one decimal place (clamped so huge values stay out of exponent form). */
function r1(v: number): string {
  const c = v > 1e6 ? 1e6 : v < -1e6 ? -1e6 : v;
  return String(Math.round(c * 10) / 10);
}

/** The element at `i`, or NaN when missing. */
function at(a: ArrayLike<number>, i: number): number {
  return a[i] ?? Number.NaN;
}

/** FNV-1a hash of a string, as hex; keeps clip-path ids stable per series. */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16);
}

/** Rows where a detection starts: score >= threshold and the previous row's score < threshold (or it is the first row). */
export function detectionStarts(scores: ArrayLike<number>, threshold: number): number[] {
  const starts: number[] = [];
  let previous = false;
  for (let i = 0; i < scores.length; i++) {
    const on = at(scores, i) >= threshold;
    if (on && !previous) starts.push(i);
    previous = on;
  }
  return starts;
}

/** Evenly spaced "nice" ticks (steps of 1, 2 or 5 × 10^k) inside [lo, hi], about `count` of them. */
function niceTicks(lo: number, hi: number, count: number): { ticks: number[]; step: number } {
  const rough = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const residual = rough / magnitude;
  const step = (residual < 1.5 ? 1 : residual < 3 ? 2 : residual < 7 ? 5 : 10) * magnitude;
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step); k * step <= hi; k++) ticks.push(k * step);
  return { ticks, step };
}

/** A compact tick label: a k/M/G suffix for large magnitudes, as few decimals as the step needs. */
function formatValue(v: number, step: number, magnitude: number): string {
  if (v === 0) return '0';
  const [unit, suffix] = magnitude >= 1e9 ? [1e9, 'G'] : magnitude >= 1e6 ? [1e6, 'M'] : magnitude >= 1e3 ? [1e3, 'k'] : [1, ''];
  const scaledStep = step / unit;
  if (scaledStep < 1e-6) return v.toExponential(2);
  const decimals = Math.max(0, Math.ceil(-Math.log10(scaledStep) - 1e-9));
  const text = (v / unit).toFixed(decimals);
  return (/^-0(\.0*)?$/.test(text) ? text.slice(1) : text) + suffix;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** A UTC time label: `YYYY-MM-DD` for day steps, `MM-DD HH:mm` otherwise (with `:ss` below a minute). */
function formatTime(ms: number, step: number): string {
  const d = new Date(ms);
  const date = `${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
  if (step >= DAY_MS) return `${d.getUTCFullYear()}-${date}`;
  const time = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
  return step >= 60_000 ? `${date} ${time}` : `${date} ${time}:${pad2(d.getUTCSeconds())}`;
}

/** About `count` time ticks in [t0, t1] on round UTC multiples of a step chosen from the span. */
function timeTicks(t0: number, t1: number, count: number): { ticks: number[]; step: number } {
  const span = t1 - t0;
  if (span <= 0) return { ticks: [t0], step: 60_000 };
  const rough = span / count;
  let step = TIME_STEPS.find((s) => s >= rough) ?? 0;
  if (step === 0) {
    const years = rough / (365 * DAY_MS);
    step = niceTicks(0, years * 5, 5).step * 365 * DAY_MS;
    if (step < rough) step *= 2;
  }
  const ticks: number[] = [];
  for (let k = Math.ceil(t0 / step); k * step <= t1; k++) ticks.push(k * step);
  return { ticks, step };
}

/** Pixel geometry shared by the path builders. */
interface Plot {
  /** Row count. */
  readonly n: number;
  /** Pixel x per row; NaN for rows without a finite timestamp. */
  readonly xs: Float64Array;
  /** Bucket per row: the pixel column when downsampling, else the row itself. */
  readonly bucket: (i: number) => number;
}

/**
 * An SVG path through the finite points of `ys` (NaN breaks the line). Per bucket it keeps the
 * first, minimum, maximum and last point in time order, so spikes survive downsampling; a gap
 * inside one bucket does not break the line.
 */
function linePath(plot: Plot, ys: ArrayLike<number>, yOf: (v: number) => number): string {
  const parts: string[] = [];
  let bucket = -1;
  let first = 0;
  let last = 0;
  let iMin = 0;
  let iMax = 0;
  let vMin = 0;
  let vMax = 0;
  let startsSegment = true;
  let gap = true;
  const point = (i: number, command: string): void => {
    parts.push(`${command}${r1(at(plot.xs, i))},${r1(yOf(at(ys, i)))}`);
  };
  const flush = (): void => {
    if (bucket < 0) return;
    point(first, startsSegment ? 'M' : 'L');
    const a = Math.min(iMin, iMax);
    const b = Math.max(iMin, iMax);
    if (a !== first) point(a, 'L');
    if (b !== a && b !== first) point(b, 'L');
    if (last !== b && last !== first) point(last, 'L');
  };
  for (let i = 0; i < plot.n; i++) {
    const v = at(ys, i);
    if (!Number.isFinite(v) || !Number.isFinite(at(plot.xs, i))) {
      gap = true;
      continue;
    }
    const b = plot.bucket(i);
    if (b !== bucket) {
      flush();
      bucket = b;
      first = last = iMin = iMax = i;
      vMin = vMax = v;
      startsSegment = gap;
    } else {
      last = i;
      if (v < vMin) {
        vMin = v;
        iMin = i;
      }
      if (v > vMax) {
        vMax = v;
        iMax = i;
      }
    }
    gap = false;
  }
  flush();
  return parts.join('');
}

/**
 * Polygons of the prediction interval, one per run of rows with finite lower and upper. Per
 * bucket the band spans the bucket's first to last x at its minimum lower and maximum upper.
 */
function bandPolygons(plot: Plot, lower: ArrayLike<number>, upper: ArrayLike<number>, yOf: (v: number) => number): string[] {
  const polygons: string[] = [];
  const xs: number[] = [];
  const los: number[] = [];
  const his: number[] = [];
  let bucket = -1;
  let x0 = 0;
  let x1 = 0;
  let lo = 0;
  let hi = 0;
  let gap = true;
  const flushBucket = (): void => {
    if (bucket < 0) return;
    xs.push(x0);
    los.push(lo);
    his.push(hi);
    if (x1 !== x0) {
      xs.push(x1);
      los.push(lo);
      his.push(hi);
    }
    bucket = -1;
  };
  const flushPolygon = (): void => {
    flushBucket();
    if (xs.length >= 2) {
      const points: string[] = [];
      for (let k = 0; k < xs.length; k++) points.push(`${r1(xs[k] ?? 0)},${r1(yOf(his[k] ?? 0))}`);
      for (let k = xs.length - 1; k >= 0; k--) points.push(`${r1(xs[k] ?? 0)},${r1(yOf(los[k] ?? 0))}`);
      polygons.push(points.join(' '));
    }
    xs.length = los.length = his.length = 0;
  };
  for (let i = 0; i < plot.n; i++) {
    const l = at(lower, i);
    const u = at(upper, i);
    const x = at(plot.xs, i);
    if (!Number.isFinite(l) || !Number.isFinite(u) || !Number.isFinite(x)) {
      gap = true;
      continue;
    }
    const b = plot.bucket(i);
    if (b !== bucket) {
      if (gap) flushPolygon();
      else flushBucket();
      bucket = b;
      x0 = x1 = x;
      lo = l;
      hi = u;
    } else {
      x1 = x;
      if (l < lo) lo = l;
      if (u > hi) hi = u;
    }
    gap = false;
  }
  flushPolygon();
  return polygons;
}

/** The SVG header, white background and title shared by every chart. */
function frame(parts: string[], name: string, width: number, height: number): void {
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}" font-size="12">`,
    `<rect class="background" x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`,
    `<text class="title" x="${MARGIN.left}" y="22" font-size="15" font-weight="bold" fill="${COLOR.text}">${esc(name)}</text>`,
  );
}

/** The legend row under the title. */
function legend(parts: string[]): void {
  const y = 40;
  let x = MARGIN.left;
  const item = (swatch: string, label: string): void => {
    parts.push(swatch, `<text x="${x + 24}" y="${y + 4}" fill="${COLOR.text}">${label}</text>`);
    x += 32 + label.length * 7;
  };
  parts.push('<g class="legend">');
  item(`<line x1="${x}" y1="${y}" x2="${x + 18}" y2="${y}" stroke="${COLOR.value}" stroke-width="1.5"/>`, 'value');
  item(`<line x1="${x}" y1="${y}" x2="${x + 18}" y2="${y}" stroke="${COLOR.expected}" stroke-width="1.5" stroke-dasharray="4 3"/>`, 'expected');
  item(`<rect x="${x}" y="${y - 6}" width="18" height="12" fill="${COLOR.band}" fill-opacity="0.2"/>`, 'band');
  item(`<circle cx="${x + 9}" cy="${y}" r="4" fill="${COLOR.detection}" stroke="#fff"/>`, 'detection');
  item(`<rect x="${x}" y="${y - 6}" width="18" height="12" fill="${COLOR.window}" fill-opacity="0.12"/>`, 'label window');
  parts.push('</g>');
}

/**
 * A standalone SVG chart of one series: the value line, expected value (dashed), prediction
 * interval band, labelled windows and detection markers in the top panel; the score and its
 * threshold in the bottom panel; value and UTC time axes, a legend and the series name as title.
 * Lines are reduced to first/min/max/last per pixel column when there are more than about two
 * rows per pixel. Deterministic: the same input gives the same string.
 */
export function seriesSvg(series: ReportSeries, options: ChartOptions = {}): string {
  const width = Math.max(160, Math.round(options.width ?? 1200));
  const height = Math.max(120, Math.round(options.height ?? 420));
  const parts: string[] = [];
  frame(parts, series.name, width, height);

  const n = series.timestamps.length;
  let t0 = Infinity;
  let t1 = -Infinity;
  for (let i = 0; i < n; i++) {
    const t = at(series.timestamps, i);
    if (t < t0) t0 = t;
    if (t > t1) t1 = t;
  }
  if (!Number.isFinite(t0) || !Number.isFinite(t1)) {
    parts.push(
      `<text class="no-data" x="${width / 2}" y="${height / 2}" text-anchor="middle" font-size="14" fill="#888">no data</text>`,
      '</svg>',
    );
    return parts.join('\n');
  }
  legend(parts);

  // Geometry.
  const left = MARGIN.left;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = Math.max(20, height - MARGIN.top - MARGIN.bottom - PANEL_GAP);
  const vTop = MARGIN.top;
  const vH = Math.round(plotH * VALUE_SHARE);
  const sTop = vTop + vH + PANEL_GAP;
  const sH = plotH - vH;
  const span = t1 - t0;
  const xOf = (t: number): number => (span > 0 ? left + ((t - t0) / span) * plotW : left + plotW / 2);

  // Value range over values and finite bounds, padded 5% (a constant series by 5% of |v| or 1).
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of [series.values, series.lower, series.upper]) {
    for (let i = 0; i < n; i++) {
      const v = at(a, i);
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
  const pad = hi > lo ? (hi - lo) * 0.05 : lo === 0 ? 1 : Math.abs(lo) * 0.05;
  lo -= pad;
  hi += pad;
  const vy = (v: number): number => vTop + ((hi - v) / (hi - lo)) * vH;
  const sy = (s: number): number => sTop + (1 - Math.min(1, Math.max(0, s))) * sH;

  const xs = new Float64Array(n);
  for (let i = 0; i < n; i++) xs[i] = xOf(at(series.timestamps, i));
  const downsample = n > 2 * plotW;
  const plot: Plot = {
    n,
    xs,
    bucket: downsample ? (i) => Math.min(plotW - 1, Math.max(0, Math.floor(at(xs, i) - left))) : (i) => i,
  };
  const clip = `clip-${hash(series.name)}-${width}x${height}`;
  parts.push(
    `<defs><clipPath id="${clip}-v"><rect x="${left}" y="${vTop}" width="${plotW}" height="${vH}"/></clipPath>` +
      `<clipPath id="${clip}-s"><rect x="${left}" y="${sTop}" width="${plotW}" height="${sH}"/></clipPath></defs>`,
  );

  // Grid and axes.
  const values = niceTicks(lo, hi, 5);
  const magnitude = Math.max(Math.abs(lo), Math.abs(hi));
  const times = timeTicks(t0, t1, 6);
  parts.push(`<g class="grid" stroke="${COLOR.grid}" stroke-width="1">`);
  for (const v of values.ticks) parts.push(`<line x1="${left}" y1="${r1(vy(v))}" x2="${left + plotW}" y2="${r1(vy(v))}"/>`);
  for (const t of times.ticks) {
    const x = r1(xOf(t));
    parts.push(`<line x1="${x}" y1="${vTop}" x2="${x}" y2="${vTop + vH}"/>`, `<line x1="${x}" y1="${sTop}" x2="${x}" y2="${sTop + sH}"/>`);
  }
  parts.push('</g>', `<g class="axis" fill="${COLOR.axis}" font-size="11">`);
  for (const v of values.ticks) {
    parts.push(`<text x="${left - 6}" y="${r1(vy(v))}" dy="0.32em" text-anchor="end">${esc(formatValue(v, values.step, magnitude))}</text>`);
  }
  for (const s of [0, 1]) parts.push(`<text x="${left - 6}" y="${r1(sy(s))}" dy="0.32em" text-anchor="end">${s}</text>`);
  for (const t of times.ticks) {
    parts.push(`<text x="${r1(xOf(t))}" y="${sTop + sH + 16}" text-anchor="middle">${esc(formatTime(t, times.step))}</text>`);
  }
  parts.push(
    '</g>',
    `<rect x="${left}" y="${vTop}" width="${plotW}" height="${vH}" fill="none" stroke="${COLOR.axis}"/>`,
    `<rect x="${left}" y="${sTop}" width="${plotW}" height="${sH}" fill="none" stroke="${COLOR.axis}"/>`,
  );

  // Top panel: windows, band, expected, value, detections.
  parts.push(`<g clip-path="url(#${clip}-v)">`);
  for (const w of series.windows) {
    if (!(w.endMs >= t0 && w.startMs <= t1)) continue;
    const x0 = xOf(Math.max(w.startMs, t0));
    const x1 = xOf(Math.min(w.endMs, t1));
    parts.push(
      `<rect class="window" x="${r1(x0)}" y="${vTop}" width="${r1(Math.max(1, x1 - x0))}" height="${vH}" fill="${COLOR.window}" fill-opacity="0.12"/>`,
    );
  }
  for (const points of bandPolygons(plot, series.lower, series.upper, vy)) {
    parts.push(`<polygon class="band" points="${points}" fill="${COLOR.band}" fill-opacity="0.2" stroke="none"/>`);
  }
  const expected = linePath(plot, series.expected, vy);
  if (expected) {
    parts.push(`<path class="expected" d="${expected}" fill="none" stroke="${COLOR.expected}" stroke-width="1.2" stroke-dasharray="4 3"/>`);
  }
  const value = linePath(plot, series.values, vy);
  if (value) parts.push(`<path class="value" d="${value}" fill="none" stroke="${COLOR.value}" stroke-width="1.2" stroke-linejoin="round"/>`);
  parts.push('</g>');
  for (const i of detectionStarts(series.scores, series.threshold)) {
    const x = at(xs, i);
    if (!Number.isFinite(x)) continue;
    const v = at(series.values, i);
    const y = Number.isFinite(v) ? vy(v) : vTop + vH;
    parts.push(`<circle class="detection" cx="${r1(x)}" cy="${r1(y)}" r="3.5" fill="${COLOR.detection}" stroke="#fff" stroke-width="1"/>`);
  }

  // Bottom panel: score and threshold.
  parts.push(`<g clip-path="url(#${clip}-s)">`);
  const score = linePath(plot, series.scores, sy);
  if (score) parts.push(`<path class="score" d="${score}" fill="none" stroke="${COLOR.score}" stroke-width="1"/>`);
  parts.push('</g>');
  if (Number.isFinite(series.threshold)) {
    const y = r1(sy(series.threshold));
    parts.push(
      `<line class="threshold" x1="${left}" y1="${y}" x2="${left + plotW}" y2="${y}" stroke="${COLOR.threshold}" stroke-width="1" stroke-dasharray="5 4"/>`,
      `<text x="${left + plotW - 4}" y="${y}" dy="-3" text-anchor="end" font-size="10" fill="${COLOR.threshold}">threshold ${esc(String(series.threshold))}</text>`,
    );
  }
  parts.push(`<text x="${left + 4}" y="${sTop + 12}" font-size="10" fill="${COLOR.axis}">score</text>`, '</svg>');
  return parts.join('\n');
}

/**
 * A self-contained HTML page (no external scripts, styles or fonts): the title, the summary
 * lines in a `<pre>`, then a heading and inline SVG chart per series.
 */
export function htmlReport(title: string, summary: readonly string[], series: readonly ReportSeries[], options?: ChartOptions): string {
  const parts = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>${esc(title)}</title>`,
    `<style>body{font-family:${FONT};margin:24px;color:#222}pre{background:#f6f6f6;padding:12px;overflow-x:auto}` +
      'section{margin:24px 0}h2{font-size:15px;word-break:break-all}svg{max-width:100%;height:auto}</style>',
    '</head>',
    '<body>',
    `<h1>${esc(title)}</h1>`,
    `<pre class="summary">${summary.map(esc).join('\n')}</pre>`,
  ];
  for (const s of series) parts.push('<section>', `<h2>${esc(s.name)}</h2>`, seriesSvg(s, options), '</section>');
  parts.push('</body>', '</html>', '');
  return parts.join('\n');
}

/** Renders an SVG string to PNG bytes with resvg (system fonts, default family 'DejaVu Sans'). */
export function svgToPng(svg: string): Buffer {
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'original' },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}
