/**
 * A coverage's score trend as one self-contained inline SVG (no script, no external font, image or
 * stylesheet), for a report page or a file: DETECTION and PREVENTION over time on a 0-100 scale,
 * red dots where a regression opened, green dots where one recovered. Unmeasured runs break the line.
 */

export interface TrendPoint {
  /** ISO time of the run. */
  at: string;
  detection?: number;
  prevention?: number;
  regression?: boolean;
  recovery?: boolean;
}

export interface TrendOptions {
  width?: number;
  height?: number;
  title?: string;
}

const COLORS = { DETECTION: '#1f6fb2', PREVENTION: '#2e8b57', regression: '#c62828', recovery: '#2e7d32', grid: '#d0d0d0', text: '#333333' } as const;
const PAD = { left: 34, right: 12, top: 26, bottom: 30 };

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const fixed = (n: number): string => (Math.round(n * 10) / 10).toString();

export function renderTrendSvg(input: TrendPoint[], options: TrendOptions = {}): string {
  const width = Math.max(160, Math.round(options.width ?? 640));
  const height = Math.max(100, Math.round(options.height ?? 200));
  const title = options.title ?? 'Coverage score trend';
  const points = input.filter((p) => Number.isFinite(Date.parse(p.at))).sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const t0 = points.length > 0 ? Date.parse(points[0].at) : 0;
  const t1 = points.length > 0 ? Date.parse(points[points.length - 1].at) : 0;
  const x = (at: string): number => (t1 === t0 ? PAD.left + plotW / 2 : PAD.left + ((Date.parse(at) - t0) / (t1 - t0)) * plotW);
  const y = (v: number): number => PAD.top + plotH - (Math.min(100, Math.max(0, v)) / 100) * plotH;

  const desc =
    points.length === 0
      ? 'No run recorded yet.'
      : `${points.length} run(s) from ${points[0].at.slice(0, 10)} to ${points[points.length - 1].at.slice(0, 10)}; ` +
        `last DETECTION ${points[points.length - 1].detection ?? 'not measured'}, PREVENTION ${points[points.length - 1].prevention ?? 'not measured'}; ` +
        `${points.filter((p) => p.regression).length} regression(s), ${points.filter((p) => p.recovery).length} recovery(ies).`;

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(title)}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(title)}</title>`,
    `<desc>${escapeXml(desc)}</desc>`,
    `<text x="${PAD.left}" y="14" fill="${COLORS.text}" font-size="12">${escapeXml(title)}</text>`,
  ];
  for (const v of [0, 50, 100]) {
    out.push(`<line x1="${PAD.left}" y1="${fixed(y(v))}" x2="${width - PAD.right}" y2="${fixed(y(v))}" stroke="${COLORS.grid}" stroke-width="1"/>`);
    out.push(`<text x="${PAD.left - 4}" y="${fixed(y(v) + 4)}" text-anchor="end" fill="${COLORS.text}">${v}</text>`);
  }
  if (points.length === 0) {
    out.push(`<text x="${fixed(PAD.left + plotW / 2)}" y="${fixed(PAD.top + plotH / 2)}" text-anchor="middle" fill="${COLORS.text}">no history yet</text>`, '</svg>');
    return out.join('');
  }

  for (const [key, name] of [['detection', 'DETECTION'], ['prevention', 'PREVENTION']] as const) {
    // One sub-path per run of measured points: an unmeasured run is a gap, never a 0.
    let d = '';
    let open = false;
    for (const p of points) {
      const v = p[key];
      if (v === undefined || !Number.isFinite(v)) {
        open = false;
        continue;
      }
      d += `${open ? 'L' : 'M'}${fixed(x(p.at))} ${fixed(y(v))} `;
      open = true;
    }
    if (!d) continue;
    out.push(`<path d="${d.trim()}" fill="none" stroke="${COLORS[name]}" stroke-width="2" stroke-linejoin="round"><title>${name}</title></path>`);
    // Single points of a sub-path would be invisible as a line: mark every point lightly.
    for (const p of points) {
      const v = p[key];
      if (v === undefined || !Number.isFinite(v)) continue;
      out.push(`<circle cx="${fixed(x(p.at))}" cy="${fixed(y(v))}" r="1.8" fill="${COLORS[name]}"><title>${escapeXml(`${p.at.slice(0, 16).replace('T', ' ')} ${name} ${v}`)}</title></circle>`);
    }
  }
  for (const p of points) {
    if (!p.regression && !p.recovery) continue;
    const values = [p.detection, p.prevention].filter((v): v is number => v !== undefined && Number.isFinite(v));
    const cy = values.length > 0 ? y(Math.min(...values)) : y(0);
    const kind = p.regression ? 'regression' : 'recovery';
    out.push(`<circle cx="${fixed(x(p.at))}" cy="${fixed(cy)}" r="4.5" fill="none" stroke="${COLORS[kind]}" stroke-width="2"><title>${escapeXml(`${p.at.slice(0, 16).replace('T', ' ')} ${kind}`)}</title></circle>`);
  }
  const baseY = height - 10;
  out.push(`<text x="${PAD.left}" y="${baseY}" fill="${COLORS.text}">${escapeXml(points[0].at.slice(0, 10))}</text>`);
  if (points.length > 1) out.push(`<text x="${width - PAD.right}" y="${baseY}" text-anchor="end" fill="${COLORS.text}">${escapeXml(points[points.length - 1].at.slice(0, 10))}</text>`);
  const legendX = PAD.left + plotW / 2 - 90;
  out.push(
    `<rect x="${fixed(legendX)}" y="${baseY - 8}" width="10" height="3" fill="${COLORS.DETECTION}"/><text x="${fixed(legendX + 14)}" y="${baseY}" fill="${COLORS.text}">DETECTION</text>`,
    `<rect x="${fixed(legendX + 90)}" y="${baseY - 8}" width="10" height="3" fill="${COLORS.PREVENTION}"/><text x="${fixed(legendX + 104)}" y="${baseY}" fill="${COLORS.text}">PREVENTION</text>`,
    '</svg>',
  );
  return out.join('');
}
