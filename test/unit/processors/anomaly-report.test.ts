import { describe, expect, it } from 'vitest';
import { detectionStarts, htmlReport, seriesSvg, svgToPng } from '../../../processors/anomaly/report.js';
import type { ReportSeries } from '../../../processors/anomaly/report.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 2, 1);
const NAME = 'cpu{host="a<b>&c"}\'x\'';
const ESCAPED_NAME = 'cpu{host=&quot;a&lt;b&gt;&amp;c&quot;}&#39;x&#39;';

/** A sine series one minute apart with a band of ±0.5 around the expected value. */
function sine(rows: number, name = 'sine'): ReportSeries & { values: Float64Array; lower: Float64Array; upper: Float64Array; scores: Float64Array } {
  const timestamps = new Float64Array(rows);
  const values = new Float64Array(rows);
  const expected = new Float64Array(rows);
  const lower = new Float64Array(rows);
  const upper = new Float64Array(rows);
  const scores = new Float64Array(rows).fill(0.1);
  for (let i = 0; i < rows; i++) {
    timestamps[i] = T0 + i * MIN;
    const v = Math.sin(i / 50);
    values[i] = expected[i] = v;
    lower[i] = v - 0.5;
    upper[i] = v + 0.5;
  }
  return { name, timestamps, values, expected, lower, upper, scores, threshold: 0.5, windows: [] };
}

/** The points of a path's `d` attribute (any class) as [x, y] pairs, plus the count of `M` commands. */
function pathPoints(svg: string, cls: string): { points: [number, number][]; moves: number } {
  const d = new RegExp(`<path class="${cls}" d="([^"]*)"`).exec(svg)?.[1];
  if (d === undefined) return { points: [], moves: 0 };
  const points: [number, number][] = [];
  let moves = 0;
  for (const m of d.matchAll(/([ML])(-?[\d.]+),(-?[\d.]+)/g)) {
    if (m[1] === 'M') moves++;
    points.push([Number(m[2]), Number(m[3])]);
  }
  return { points, moves };
}

function count(svg: string, needle: string): number {
  return svg.split(needle).length - 1;
}

/** The [cx, cy] of every detection marker, in document order. */
function detections(svg: string): [number, number][] {
  return [...svg.matchAll(/<circle class="detection" cx="([\d.-]+)" cy="([\d.-]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

describe('detectionStarts', () => {
  it('returns rows where the score first reaches the threshold', () => {
    expect(detectionStarts([0, 0.6, 0.7, 0.2, 0.9], 0.5)).toEqual([1, 4]);
  });

  it('counts the first row and a score equal to the threshold', () => {
    expect(detectionStarts([0.9, 0.9, 0.1, 0.5], 0.5)).toEqual([0, 3]);
  });

  it('treats NaN as below the threshold and handles empty input', () => {
    expect(detectionStarts(new Float64Array([0.8, Number.NaN, 0.8]), 0.5)).toEqual([0, 2]);
    expect(detectionStarts([], 0.5)).toEqual([]);
  });
});

describe('seriesSvg', () => {
  const SPIKE = 3000;
  const synthetic = (): ReportSeries => {
    const s = sine(5000, NAME);
    s.values[SPIKE] = 10;
    for (let i = 0; i < 100; i++) s.lower[i] = s.upper[i] = Number.NaN;
    for (let i = 2000; i < 2100; i++) s.lower[i] = Number.NaN;
    for (let i = 1000; i <= 1010; i++) s.scores[i] = 0.8;
    for (let i = SPIKE; i <= SPIKE + 3; i++) s.scores[i] = 0.95;
    return {
      ...s,
      windows: [
        { startMs: T0 - 100 * MIN, endMs: T0 + 200 * MIN },
        { startMs: T0 + 10_000 * MIN, endMs: T0 + 10_100 * MIN },
      ],
    };
  };

  it('draws one marker per detection start and only the windows inside the range', () => {
    const svg = seriesSvg(synthetic());
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(count(svg, 'class="detection"')).toBe(2);
    expect(count(svg, 'class="window"')).toBe(1);
    expect(count(svg, 'class="band"')).toBe(2);
    expect(svg).not.toContain('NaN');
  });

  it('clips a window that starts before the series to the left edge of the plot', () => {
    const svg = seriesSvg(synthetic());
    const window = /<rect class="window" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/.exec(svg);
    const firstX = pathPoints(svg, 'value').points[0]?.[0];
    expect(window).not.toBeNull();
    expect(Number(window?.[1])).toBe(firstX);
    // 200 of 4999 minutes of the plot width.
    const lastX = pathPoints(svg, 'value').points.at(-1)?.[0] ?? 0;
    expect(Number(window?.[2])).toBeCloseTo(((lastX - (firstX ?? 0)) * 200) / 4999, 0);
  });

  it('escapes the series name', () => {
    const svg = seriesSvg(synthetic());
    expect(svg).toContain(ESCAPED_NAME);
    expect(svg).not.toContain(NAME);
  });

  it('keeps the spike when downsampling the value line', () => {
    const svg = seriesSvg(synthetic());
    const { points } = pathPoints(svg, 'value');
    expect(points.length).toBeGreaterThan(100);
    expect(points.length).toBeLessThan(5000);
    const minY = Math.min(...points.map(([, y]) => y));
    const markers = detections(svg);
    // The second detection starts at the spike row, whose marker sits on the spike's value.
    expect(markers[1]?.[1]).toBe(minY);
    expect(markers[0]?.[1]).toBeGreaterThan(minY + 50);
  });

  it('renders to a PNG of the requested size', () => {
    const png = svgToPng(seriesSvg(synthetic(), { width: 800, height: 300 }));
    expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(png.readUInt32BE(16)).toBe(800);
    expect(png.readUInt32BE(20)).toBe(300);
  });

  it('bounds the number of points for a large series', () => {
    const width = 1000;
    const svg = seriesSvg(sine(100_000), { width });
    for (const cls of ['value', 'expected', 'score']) {
      const { points } = pathPoints(svg, cls);
      expect(points.length).toBeGreaterThan(0);
      expect(points.length).toBeLessThanOrEqual(4 * width + 4);
    }
    const band = /<polygon class="band" points="([^"]*)"/.exec(svg)?.[1] ?? '';
    expect(band.split(' ').length).toBeLessThanOrEqual(4 * width + 4);
    expect(svg).not.toContain('NaN');
  });

  it('draws every row of a small series and breaks the line at gaps', () => {
    const s = sine(50);
    s.values[20] = Number.NaN;
    const svg = seriesSvg(s);
    const { points, moves } = pathPoints(svg, 'value');
    expect(points).toHaveLength(49);
    expect(moves).toBe(2);
  });

  it('is deterministic', () => {
    expect(seriesSvg(synthetic())).toBe(seriesSvg(synthetic()));
  });

  it('renders a constant series without NaN', () => {
    for (const level of [0, 42, -3]) {
      const s = sine(300);
      s.values.fill(level);
      const svg = seriesSvg({ ...s, expected: s.values, lower: s.values, upper: s.values });
      expect(svg).not.toContain('NaN');
      expect(() => svgToPng(svg)).not.toThrow();
    }
  });

  it('renders a series without a model (NaN bands) without NaN or band polygons', () => {
    const s = sine(300);
    const none = new Float64Array(300).fill(Number.NaN);
    const svg = seriesSvg({ ...s, expected: none, lower: none, upper: none });
    expect(svg).not.toContain('NaN');
    expect(count(svg, 'class="band"')).toBe(0);
    expect(pathPoints(svg, 'value').points).toHaveLength(300);
  });

  it('renders an empty series as "no data"', () => {
    const empty = new Float64Array(0);
    const svg = seriesSvg({
      name: NAME,
      timestamps: empty,
      values: empty,
      expected: empty,
      lower: empty,
      upper: empty,
      scores: empty,
      threshold: 0.5,
      windows: [{ startMs: 0, endMs: 1 }],
    });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('no data');
    expect(svg).toContain(ESCAPED_NAME);
    expect(svg).not.toContain('NaN');
    expect(count(svg, 'class="window"')).toBe(0);
    expect(() => svgToPng(svg)).not.toThrow();
  });

  it('labels time in days for multi-day spans and in hours and minutes otherwise', () => {
    const days = seriesSvg(sine(10_000));
    expect(days).toMatch(/>2024-03-0\d</);
    const hours = seriesSvg(sine(300));
    expect(hours).toMatch(/>03-01 0\d:\d\d</);
    expect(hours).not.toMatch(/>2024-03-0\d</);
  });
});

describe('htmlReport', () => {
  it('embeds one chart per series and escapes the title and summary', () => {
    const html = htmlReport('NAB <run> & "scores"', ['standard: 71.2', 'a < b && c > d'], [sine(200, 'a'), sine(200, NAME)]);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(count(html, '<svg')).toBe(2);
    expect(html).toContain('NAB &lt;run&gt; &amp; &quot;scores&quot;');
    expect(html).toContain('a &lt; b &amp;&amp; c &gt; d');
    expect(html).toContain(`<h2>${ESCAPED_NAME}</h2>`);
    expect(html).not.toContain('<run>');
    expect(html).not.toContain('<script');
    expect(html).not.toMatch(/<link|src=|@import|url\(http/);
  });
});
