import { escapeXml, renderTrendSvg } from '../../../src/domain/history/trend-svg';

/** The inline SVG trend: self-contained, gaps for unmeasured runs, markers for regressions. */

const points = [
  { at: '2026-03-01T09:00:00Z', detection: 80, prevention: 100 },
  { at: '2026-03-02T09:00:00Z', detection: 40, prevention: 100, regression: true },
  { at: '2026-03-03T09:00:00Z', prevention: 100 },
  { at: '2026-03-04T09:00:00Z', detection: 80, prevention: 100, recovery: true },
];

describe('renderTrendSvg', () => {
  const svg = renderTrendSvg(points, { width: 400, height: 200, title: 'APT-X <report> & "friends"' });

  it('is one self-contained SVG element: no script, no external reference', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="400" height="200"')).toBe(true);
    expect(svg.endsWith('</svg>')).toBe(true);
    expect(svg).not.toMatch(/<script|href=|url\(|@import|<image|<foreignObject/i);
    // The namespace is the only URL.
    expect(svg.match(/https?:\/\//g)).toEqual(['http://']);
  });

  it('escapes the title and describes the series for screen readers', () => {
    expect(svg).toContain('<title>APT-X &lt;report&gt; &amp; &quot;friends&quot;</title>');
    expect(svg).toContain('<desc>4 run(s) from 2026-03-01 to 2026-03-04; last DETECTION 80, PREVENTION 100; 1 regression(s), 1 recovery(ies).</desc>');
  });

  it('draws a gap where a score was not measured instead of a drop to 0', () => {
    const detection = /<path d="([^"]+)"[^>]*stroke="#1f6fb2"/.exec(svg)![1];
    // Two sub-paths: runs 1-2, then run 4 alone.
    expect(detection.match(/M/g)).toHaveLength(2);
    expect(detection.match(/L/g)).toHaveLength(1);
    const prevention = /<path d="([^"]+)"[^>]*stroke="#2e8b57"/.exec(svg)![1];
    expect(prevention.match(/M/g)).toHaveLength(1);
    expect(prevention.match(/L/g)).toHaveLength(3);
  });

  it('maps time to x and 0-100 to y inside the plot', () => {
    const coords = [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)" r="1.8" fill="#1f6fb2"/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(coords).toHaveLength(3);
    const [a, b, c] = coords;
    expect(a[0]).toBeLessThan(b[0]);
    expect(b[0]).toBeLessThan(c[0]);
    // Equal days apart: run 4 is three steps from run 1, run 2 one step.
    expect(Math.round((c[0] - a[0]) / (b[0] - a[0]))).toBe(3);
    expect(b[1]).toBeGreaterThan(a[1]); // 40 is drawn lower than 80
    expect(a[1]).toBe(c[1]);
  });

  it('marks regressions in red and recoveries in green', () => {
    expect(svg.match(/r="4.5" fill="none" stroke="#c62828"/g)).toHaveLength(1);
    expect(svg.match(/r="4.5" fill="none" stroke="#2e7d32"/g)).toHaveLength(1);
  });

  it('says when there is no history yet, and survives a single run', () => {
    expect(renderTrendSvg([])).toContain('>no history yet</text>');
    const one = renderTrendSvg([{ at: '2026-03-01T09:00:00Z', detection: 50 }]);
    expect(one).toContain('<circle cx="');
    expect(one).not.toContain('NaN');
  });

  it('escapes every XML special character', () => {
    expect(escapeXml(`<a href='x'>&"</a>`)).toBe('&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;');
  });
});
