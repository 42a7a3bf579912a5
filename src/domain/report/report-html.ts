import type { AssessmentResult } from '../assessment/assessment-types';
import type { CoverageRequest, ScoreEntry } from '../coverage/coverage-types';
import { gapAction, techniqueExplanation } from '../stix/explanation';

/**
 * The coverage report page: one self-contained HTML document (no external asset, no script), every
 * text escaped. Served by the daemon at `/coverages/<uuid>` and written by `assess --out-html`.
 * Pure: the time shown is passed in.
 */

export interface ReportTechnique {
  id: string;
  name?: string;
  tactics: string[];
  tested: boolean;
  detection?: number;
  prevention?: number;
  /** Markdown (src/domain/stix/explanation.ts). */
  explanation: string;
}

export interface ReportGap {
  techniqueId: string;
  name?: string;
  dimension: 'detection' | 'prevention';
  current?: number;
  action: string;
  priority: number;
}

export interface ReportInput {
  coverageId: string;
  coverageName: string;
  coveredName?: string;
  backend: string;
  /** ISO time of the assessment shown. */
  assessedAt: string;
  overall: ScoreEntry[];
  techniques: ReportTechnique[];
  gaps: ReportGap[];
  warnings: string[];
  /** Download links (relative URLs), when the page is served. */
  links?: { detectionLayer: string; preventionLayer: string; bundle: string };
  /** An inline SVG the caller built from trusted numbers (score history), shown as is. */
  trendSvg?: string;
}

/** ATT&CK Enterprise tactics, in matrix order. */
export const TACTIC_ORDER = [
  'reconnaissance',
  'resource-development',
  'initial-access',
  'execution',
  'persistence',
  'privilege-escalation',
  'defense-evasion',
  'credential-access',
  'discovery',
  'lateral-movement',
  'collection',
  'command-and-control',
  'exfiltration',
  'impact',
] as const;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);

/** The little Markdown our explanations use: **bold**, "- " list items, backslash escapes. */
export function markdownToHtml(markdown: string): string {
  const inline = (line: string): string =>
    escapeHtml(line.replace(/\\([\\`*_[\]<>|#])/g, (_m, c: string) => `\u0000${c.charCodeAt(0)}\u0000`))
      .replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>')
      .replace(/\u0000(\d+)\u0000/g, (_m, code: string) => escapeHtml(String.fromCharCode(Number(code))));
  const out: string[] = [];
  let list = false;
  for (const line of markdown.split('\n')) {
    const item = /^\s*(?:-|\d+\.)\s+(.*)$/.exec(line);
    if (item) {
      if (!list) out.push('<ul>');
      list = true;
      out.push(`<li>${inline(item[1])}</li>`);
      continue;
    }
    if (list) out.push('</ul>');
    list = false;
    if (line.trim()) out.push(`<p>${inline(line)}</p>`);
  }
  if (list) out.push('</ul>');
  return out.join('');
}

/** Score → colour: red (0) through amber to green (100); grey when not tested. */
export function scoreColour(score: number | undefined): string {
  if (score === undefined) return '#b8bcc4';
  const hue = Math.round((Math.max(0, Math.min(100, score)) / 100) * 120);
  return `hsl(${hue}, 65%, 45%)`;
}

function gauge(name: string, score: number | undefined): string {
  const r = 42;
  const length = 2 * Math.PI * r;
  const filled = score === undefined ? 0 : (length * score) / 100;
  const label = score === undefined ? '—' : String(score);
  return `<figure class="gauge"><svg viewBox="0 0 100 100" width="120" height="120" role="img" aria-label="${escapeHtml(`${name} ${label}`)}">
<circle cx="50" cy="50" r="${r}" fill="none" stroke="#e3e5e8" stroke-width="10"/>
<circle cx="50" cy="50" r="${r}" fill="none" stroke="${scoreColour(score)}" stroke-width="10" stroke-dasharray="${filled.toFixed(1)} ${length.toFixed(1)}" transform="rotate(-90 50 50)"/>
<text x="50" y="57" text-anchor="middle" font-size="22" font-weight="700">${escapeHtml(label)}</text></svg>
<figcaption>${escapeHtml(name)}</figcaption></figure>`;
}

function heatStrip(techniques: ReportTechnique[]): string {
  const byTactic = new Map<string, ReportTechnique[]>();
  for (const t of techniques) {
    for (const tactic of t.tactics.length > 0 ? t.tactics : ['other']) {
      const list = byTactic.get(tactic) ?? [];
      list.push(t);
      byTactic.set(tactic, list);
    }
  }
  const order = [...TACTIC_ORDER.filter((t) => byTactic.has(t)), ...[...byTactic.keys()].filter((t) => !(TACTIC_ORDER as readonly string[]).includes(t)).sort()];
  const columns = order.map((tactic) => {
    const cells = (byTactic.get(tactic) ?? [])
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((t) => {
        const title = `${t.id}${t.name ? ` ${t.name}` : ''}: detection ${t.detection ?? 'not tested'}, prevention ${t.prevention ?? 'not tested'}`;
        return `<a class="cell" href="#${escapeHtml(t.id)}" title="${escapeHtml(title)}" style="background:${scoreColour(t.detection)}"></a>`;
      })
      .join('');
    return `<div class="tactic"><div class="tactic-name">${escapeHtml(tactic.replace(/-/g, ' '))}</div><div class="cells">${cells}</div></div>`;
  });
  return `<div class="heat">${columns.join('')}</div>`;
}

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;color:#c9ced8;font-size:14px}
main{padding:20px 28px;max-width:1400px}section{background:#fff;border:1px solid #e3e5e8;border-radius:8px;padding:16px 20px;margin-bottom:18px}
h2{font-size:17px;margin:0 0 12px}.gauges{display:flex;gap:28px}.gauge{margin:0;text-align:center}.gauge figcaption{font-weight:600;font-size:13px;letter-spacing:.04em}
.heat{display:flex;gap:6px;overflow-x:auto}.tactic{min-width:88px}.tactic-name{font-size:11px;text-transform:capitalize;height:30px;color:#4a5263}
.cells{display:flex;flex-wrap:wrap;gap:3px}.cell{display:block;width:14px;height:14px;border-radius:2px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;vertical-align:top;border-bottom:1px solid #eceef1;padding:6px 8px}
th{background:#f0f2f5;position:sticky;top:0}td.score{font-weight:700;text-align:right;white-space:nowrap}td.why p,td.why ul{margin:0 0 4px}td.why ul{padding-left:18px}
.muted{color:#6b7385}.links a{margin-right:16px}ol li{margin-bottom:4px}.warn{color:#8a5a00}
`;

export function renderReportHtml(input: ReportInput): string {
  const score = (name: string): number | undefined => input.overall.find((s) => s.name.toUpperCase() === name)?.score;
  const rows = [...input.techniques]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map(
      (t) => `<tr id="${escapeHtml(t.id)}"><td>${escapeHtml(t.id)}</td><td>${escapeHtml(t.name ?? '')}</td>
<td class="score" style="color:${scoreColour(t.detection)}">${t.detection ?? '—'}</td><td class="score" style="color:${scoreColour(t.prevention)}">${t.prevention ?? '—'}</td>
<td class="why">${markdownToHtml(t.explanation)}</td></tr>`,
    )
    .join('\n');
  const gaps =
    input.gaps.length === 0
      ? `<p class="muted">${input.techniques.some((t) => t.tested) ? 'No gap ranked.' : 'Nothing was tested: no gap can be ranked.'}</p>`
      : `<ol>${input.gaps
          .map(
            (g) =>
              `<li><a href="#${escapeHtml(g.techniqueId)}">${escapeHtml(g.techniqueId)}</a>${g.name ? ` ${escapeHtml(g.name)}` : ''}: <strong>${g.dimension} ${g.current ?? 'not tested'}</strong> → ${markdownToHtml(g.action).replace(/^<p>|<\/p>$/g, '')} <span class="muted">(priority ${g.priority})</span></li>`,
          )
          .join('')}</ol>`;
  const links = input.links
    ? `<p class="links"><a href="${escapeHtml(input.links.detectionLayer)}" download>Navigator layer: detection</a><a href="${escapeHtml(input.links.preventionLayer)}" download>Navigator layer: prevention</a><a href="${escapeHtml(input.links.bundle)}" download>Result bundle (STIX 2.1)</a></p>`
    : '';
  const warnings = input.warnings.length > 0 ? `<section><h2>Warnings</h2><ul>${input.warnings.slice(0, 50).map((w) => `<li class="warn">${escapeHtml(w)}</li>`).join('')}</ul></section>` : '';
  const tested = input.techniques.filter((t) => t.tested).length;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(`Coverage: ${input.coverageName}`)}</title><style>${STYLE}</style></head>
<body><header><h1>${escapeHtml(input.coverageName)}</h1>
<p>${escapeHtml(input.coveredName ? `Covers ${input.coveredName} · ` : '')}${input.techniques.length} technique(s), ${tested} tested · assessed by ${escapeHtml(input.backend)} at ${escapeHtml(input.assessedAt)}</p></header>
<main>
<section><h2>Scores</h2><div class="gauges">${gauge('DETECTION', score('DETECTION'))}${gauge('PREVENTION', score('PREVENTION'))}</div>${input.trendSvg ? `<div class="trend">${input.trendSvg}</div>` : ''}${links}</section>
<section><h2>Detection by tactic</h2>${heatStrip(input.techniques)}</section>
<section><h2>Gaps to close first</h2>${gaps}</section>
<section><h2>Techniques</h2><table><thead><tr><th>ID</th><th>Name</th><th>Detection</th><th>Prevention</th><th>Why</th></tr></thead><tbody>
${rows}
</tbody></table></section>
${warnings}
<p class="muted">${escapeHtml(input.coverageId)}</p>
</main></body></html>
`;
}

/** The page's input from an assessment (the daemon and `assess --out-html` alike). */
export function reportInputOf(request: CoverageRequest, result: AssessmentResult, gapsShown = 20): ReportInput {
  const assessed = new Map(result.techniques.map((t) => [t.techniqueId.toUpperCase(), t]));
  const techniques: ReportTechnique[] = request.techniques.map((ref) => {
    const t = assessed.get(ref.techniqueId.toUpperCase());
    return {
      id: ref.techniqueId,
      ...(ref.name || t?.name ? { name: (ref.name ?? t?.name) as string } : {}),
      tactics: ref.tactics ?? [],
      tested: t?.tested === true,
      ...(t?.tested && typeof t.detection === 'number' ? { detection: t.detection } : {}),
      ...(t?.tested && typeof t.prevention === 'number' ? { prevention: t.prevention } : {}),
      explanation: (t && techniqueExplanation(t)) ?? 'Not assessed.',
    };
  });
  const gaps: ReportGap[] = result.gaps.slice(0, gapsShown).map((g) => {
    const { dimension, action } = gapAction(g, assessed.get(g.techniqueId.toUpperCase()));
    const current = dimension === 'detection' ? g.detection : g.prevention;
    return { techniqueId: g.techniqueId, ...(g.name ? { name: g.name } : {}), dimension, ...(current !== undefined ? { current } : {}), action, priority: g.priority };
  });
  return {
    coverageId: request.coverageId,
    coverageName: request.coverageName,
    ...(request.coveredName ? { coveredName: request.coveredName } : {}),
    backend: result.backend,
    assessedAt: result.runAt,
    overall: result.overall,
    techniques,
    gaps,
    warnings: result.warnings,
  };
}
