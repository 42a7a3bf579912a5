import type { TechniqueAssessment } from '../../domain/assessment/assessment-types';
import type { AssessRun, ContainerSummary } from './assess';

/**
 * What `assess` prints: the container assessed (and the others in the bundle), one line per
 * technique with its weakest point, the overall scores, the top gaps, then one `warning:` per
 * problem — every line within `width` columns (long text wraps, table cells are cut with "…").
 * `--explain` adds every reason, rule and control under each technique; `--json` prints
 * `assessJson` instead.
 */

export interface ReportOptions {
  /** Columns to fit (default 100; 0 = no limit). */
  width?: number;
  /** true: every technique's reasons; a list: only these techniques'. */
  explain?: boolean | string[];
}

export const DEFAULT_WIDTH = 100;
const GAP_ROWS = 10;
const UNLIMITED = Number.MAX_SAFE_INTEGER;

const pad = (text: string, width: number): string => (text.length >= width ? text : text + ' '.repeat(width - text.length));
const padLeft = (text: string, width: number): string => (text.length >= width ? text : ' '.repeat(width - text.length) + text);

/** `text` cut to `width` columns, the cut marked with "…". */
export function fit(text: string, width: number): string {
  if (width <= 0 || text.length <= width) return text;
  return width === 1 ? '…' : `${text.slice(0, width - 1)}…`;
}

/**
 * Word-wrapped lines of at most `width` columns; lines after the first start with `indent`. Words
 * longer than a line (paths, ids) are split rather than left overflowing.
 */
export function wrap(text: string, width: number, indent = ''): string[] {
  if (width <= 0 || text.length <= width) return [text];
  const lead = /^ */.exec(text)?.[0] ?? '';
  const lines: string[] = [];
  let line = '';
  const prefix = (): string => (lines.length === 0 ? lead : indent);
  const room = (): number => Math.max(1, width - prefix().length);
  const flush = (): void => {
    lines.push(prefix() + line);
    line = '';
  };
  for (const word of text.slice(lead.length).split(' ')) {
    if (!word) continue;
    if (line && line.length + 1 + word.length > room()) flush();
    let rest = word;
    // A word longer than a whole line (a path, an id) is split.
    while (!line && rest.length > room()) {
      line = rest.slice(0, room());
      rest = rest.slice(line.length);
      flush();
    }
    if (rest) line = line ? `${line} ${rest}` : rest;
  }
  if (line || lines.length === 0) flush();
  return lines;
}

interface Column {
  header: string;
  /** Cells are cut to this many columns (the last column takes what is left of the line). */
  max?: number;
  right?: boolean;
}

/** Header, rule and rows; each cell cut to its column, the last one to the room left in `width`. */
function table(columns: Column[], rows: string[][], width: number, indent = ''): string[] {
  const last = columns.length - 1;
  const widths = columns.map((c, i) => Math.min(c.max ?? UNLIMITED, Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length))));
  const lastRoom = Math.max(8, width - indent.length - widths.slice(0, last).reduce((sum, w) => sum + w + 2, 0));
  const line = (cells: string[]): string =>
    indent +
    cells
      .map((cell, i) => {
        if (i === last) return columns[i].right ? padLeft(fit(cell, widths[i]), widths[i]) : fit(cell, lastRoom);
        const cut = fit(cell, widths[i]);
        return columns[i].right ? padLeft(cut, widths[i]) : pad(cut, widths[i]);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), line(widths.map((w, i) => '-'.repeat(i === last ? Math.min(lastRoom, Math.max(w, 3)) : w))), ...rows.map(line)];
}

const scoreCell = (v: number | undefined): string => (v === undefined ? '-' : String(v));

const PARTS = [
  { key: 'dataSource', label: 'data source' },
  { key: 'ruleQuality', label: 'rule quality' },
  { key: 'validation', label: 'validation' },
  { key: 'enrichment', label: 'enrichment' },
] as const;

/**
 * The one reason worth reading first: the lowest-scoring part (detection parts out of 25, prevention
 * out of 100), as the engine explained it; nothing when every part is full.
 */
export function mainReason(t: TechniqueAssessment): string {
  if (!t.tested) return t.why[0] ?? 'not tested';
  const candidates: Array<{ ratio: number; prefix: string }> = [];
  if (t.detectionParts) for (const p of PARTS) candidates.push({ ratio: t.detectionParts[p.key] / 25, prefix: p.label });
  if (t.prevention !== undefined) candidates.push({ ratio: t.prevention / 100, prefix: 'prevention' });
  candidates.sort((a, b) => a.ratio - b.ratio);
  if (candidates.length > 0 && candidates[0].ratio >= 1) return '';
  for (const c of candidates) {
    if (c.ratio !== candidates[0].ratio) break;
    const line = t.why.find((l) => l.startsWith(`${c.prefix} `));
    if (line) return line;
  }
  // e.g. no enabled rule at all: the engine says so on its own line, after the sum.
  return t.why.find((l) => !/^detection \d+ =/.test(l) && !l.startsWith('not counted')) ?? t.why[0] ?? '';
}

const containerLabel = (c: ContainerSummary): string => `${c.name ?? c.id} (${c.type}, ${c.techniques} technique${c.techniques === 1 ? '' : 's'})`;

function header(run: AssessRun, width: number): string[] {
  const { request, result, container } = run;
  const out: string[] = [];
  const label = (name: string, text: string): string[] => wrap(`${pad(name, 10)} ${text}`, width, ' '.repeat(11));
  out.push(...label('Container:', containerLabel(container)));
  if (container.name) out.push(...label('', container.id));
  const defaultName = `Coverage of ${request.coveredName ?? request.coveredRef}`;
  out.push(...label('Coverage:', request.coverageName === defaultName ? request.coverageId : `${request.coverageName} ${request.coverageId}`));
  out.push(...label('Run:', `${result.runAt}, backend ${result.backend}`));
  if (run.otherContainers.length > 0) {
    out.push(`Also in this bundle (assess one with --container <id>):`);
    for (const c of run.otherContainers) {
      const line = `  ${c.id}  ${containerLabel(c)}`;
      out.push(...(line.length <= width ? [line] : [`  ${c.id}`, ...wrap(`    ${containerLabel(c)}`, width, '    ')]));
    }
  }
  return out;
}

function explanation(run: AssessRun, t: TechniqueAssessment, width: number): string[] {
  const lines = [...t.why];
  for (const id of t.rules) {
    const rules = run.rulesById.get(id);
    if (!rules) lines.push(`rule ${id}`);
    else for (const r of rules) lines.push(`rule "${r.title}" (${r.format}, ${r.maturity}${r.enabled ? '' : ', disabled'}): ${r.path}`);
  }
  for (const id of t.controls) {
    const c = run.controlsById.get(id);
    lines.push(c ? `control "${c.name}" (${c.id}, ${c.mode})` : `control ${id}`);
  }
  return lines.flatMap((l) => wrap(`    ${l}`, width, '      '));
}

function wanted(explain: ReportOptions['explain'], id: string): boolean {
  if (explain === true) return true;
  return Array.isArray(explain) && explain.some((e) => e.toUpperCase() === id.toUpperCase());
}

function techniqueTable(run: AssessRun, width: number, explain: ReportOptions['explain']): string[] {
  const techniques = run.result.techniques;
  const longestName = Math.max(4, ...techniques.map((t) => (t.name ?? '').length));
  // The name column gives way first to the reason column on narrow screens.
  const nameMax = Math.min(longestName, Math.max(14, Math.floor((width - 27) / 3)));
  const columns: Column[] = [{ header: 'TECHNIQUE' }, { header: 'NAME', max: nameMax }, { header: 'DET', right: true }, { header: 'PREV', right: true }, { header: 'WEAKEST POINT' }];
  const rows = techniques.map((t) => [t.techniqueId, t.name ?? '', scoreCell(t.tested ? t.detection : undefined), scoreCell(t.tested ? t.prevention : undefined), mainReason(t)]);
  const [head, rule, ...body] = table(columns, rows, width);
  const out = [head, rule];
  techniques.forEach((t, i) => {
    out.push(body[i]);
    if (wanted(explain, t.techniqueId)) out.push(...explanation(run, t, width));
  });
  return out;
}

/** What the scores are relative to: the platforms, the ATT&CK version, what ranked the gaps. */
function scopeLines(run: AssessRun, width: number): string[] {
  const { request, result } = run;
  const out: string[] = [];
  const notApplicable = result.techniques.filter((t) => t.notApplicable).length;
  if (request.platformsAffinity?.length) {
    out.push(...wrap(`Platforms:          ${request.platformsAffinity.join(', ')}${notApplicable > 0 ? ` (${notApplicable} technique(s) not applicable: ATT&CK lists none of these platforms for them)` : ''}`, width, '  '));
  }
  if (result.attackVersion) out.push(`ATT&CK:             ${result.attackVersion}`);
  if (run.prevalence) out.push(...wrap(`Gaps ranked by:     ${run.prevalence.label} (${run.prevalence.uses} technique uses)`, width, '  '));
  return out;
}

function gapLines(run: AssessRun, width: number): string[] {
  const { result } = run;
  const tested = result.techniques.filter((t) => t.tested).length;
  const untested = result.techniques.length - tested;
  if (tested === 0) return ['Top gaps: none ranked: no technique was tested, so this run says nothing about coverage'];
  const out = [fit(`Top gaps (priority = prevalence × impact × feasibility × exposure, ${result.gaps.length} in all):`, width)];
  if (result.gaps.length === 0) {
    out.push(`  none among the ${tested} tested technique(s): each scores at least 50${untested > 0 ? `; ${untested} not tested` : ''}`);
    return out;
  }
  const shown = result.gaps.slice(0, GAP_ROWS);
  const rows = shown.map((g, i) => [
    String(i + 1),
    g.techniqueId,
    g.name ?? '',
    String(g.priority),
    `${g.prevalence}×${g.impact}×${g.feasibility}${g.exposure !== undefined ? `×${g.exposure}` : ''}`,
    scoreCell(g.detection),
    scoreCell(g.prevention),
  ]);
  const columns: Column[] = [
    { header: '#', right: true },
    { header: 'TECHNIQUE' },
    { header: 'NAME', max: Math.max(14, width - 62) },
    { header: 'PRIORITY', right: true },
    { header: 'P×I×F×E' },
    { header: 'DET', right: true },
    { header: 'PREV', right: true },
  ];
  const [head, rule, ...lines] = table(columns, rows, width, '  ');
  out.push(head, rule);
  // What to do goes under its row, whole: it is the point of the list.
  lines.forEach((line, i) => {
    const g = shown[i];
    const todo = g.dimension && g.action ? `${g.dimension}: ${g.action}` : g.missingDataSources.length ? `collect ${g.missingDataSources.join(', ')}` : '';
    // With intelligence, each gap's prevalence has its own story (how many adversaries use it).
    const ranked = run.prevalence && g.prevalenceSource ? `prevalence ${g.prevalence}: ${g.prevalenceSource}` : '';
    const extra = [g.covers?.length ? `also closes ${g.covers.join(', ')}` : '', ranked].filter(Boolean).join('; ');
    out.push(line, ...(todo ? wrap(`      → ${todo}`, width, '        ') : []), ...(extra ? wrap(`        (${extra})`, width, '         ') : []));
  });
  return out;
}

export function formatAssessReport(run: AssessRun, options: ReportOptions = {}): string {
  const width = options.width === 0 ? UNLIMITED : Math.max(40, options.width ?? DEFAULT_WIDTH);
  const { request, result } = run;
  const out: string[] = [...header(run, width), ''];
  out.push(...techniqueTable(run, width, options.explain));
  if (!options.explain) out.push(fit('(--explain: every reason, rule and control; --explain T1059,T1105: those only; --json: all)', width));
  out.push('');

  const overall = (name: string): string => {
    const s = result.overall.find((o) => o.name === name);
    return s ? `${s.score}/100` : 'not measured';
  };
  const tested = result.techniques.filter((t) => t.tested).length;
  out.push(`Overall DETECTION:  ${overall('DETECTION')}`);
  out.push(`Overall PREVENTION: ${overall('PREVENTION')}`);
  out.push(
    ...wrap(`Techniques tested:  ${tested} of ${result.techniques.length}${request.unmatched.length ? ` (${request.unmatched.length} attack pattern(s) without an ATT&CK id)` : ''}`, width, '  '),
  );
  out.push(...scopeLines(run, width));
  out.push('');
  out.push(...gapLines(run, width));

  if (run.written.length > 0) {
    out.push('');
    for (const file of run.written) out.push(...wrap(`wrote ${file}`, width, '  '));
  }
  const warnings = warningLines(run);
  if (warnings.length > 0) out.push('', ...warnings.flatMap((w) => wrap(w, width, '  ')));
  return `${out.join('\n')}\n`;
}

/** One line per problem: load issues with their path, then engine notes and result warnings. */
export function warningLines(run: AssessRun): string[] {
  return [
    ...run.issues.map((i) => `warning: ${i.path}: ${i.reason}`),
    ...run.notes.map((n) => `warning: ${n}`),
    ...run.result.warnings.map((w) => `warning: ${w}`),
  ];
}

/** Machine output of `assess --json`: rules and controls named (title, format, path), not ids only. */
export function assessJson(run: AssessRun): unknown {
  const techniques = run.result.techniques.map((t) => ({
    ...t,
    rules: t.rules.flatMap((id) => {
      const found = run.rulesById.get(id);
      if (!found) return [{ id }];
      return found.map((r) => ({ id: r.id, title: r.title, format: r.format, path: r.path, maturity: r.maturity, enabled: r.enabled, ...(r.severity ? { severity: r.severity } : {}) }));
    }),
    controls: t.controls.map((id) => {
      const c = run.controlsById.get(id);
      return c ? { id: c.id, name: c.name, mode: c.mode, ...(c.validated ? { validated: c.validated } : {}) } : { id };
    }),
  }));
  return {
    container: run.container,
    other_containers: run.otherContainers,
    coverage: { id: run.request.coverageId, name: run.request.coverageName, covered_ref: run.request.coveredRef },
    run_at: run.result.runAt,
    backend: run.result.backend,
    ...(run.result.attackVersion ? { attack_version: run.result.attackVersion } : {}),
    ...(run.request.platformsAffinity?.length ? { platforms: run.request.platformsAffinity } : {}),
    ...(run.prevalence ? { prevalence: { source: run.prevalence.label, uses: run.prevalence.uses, window_days: run.prevalence.windowDays } } : {}),
    overall: run.result.overall,
    techniques,
    unmatched: run.request.unmatched,
    gaps: run.result.gaps,
    warnings: run.result.warnings,
    notes: run.notes,
    issues: run.issues,
    written: run.written,
  };
}
