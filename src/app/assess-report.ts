import type { AssessRun } from './assess';

/**
 * What `assess` prints: a technique table with the reasons, the two overall scores, the top gaps,
 * then one `warning: <path>: <reason>` line per problem. `--json` prints `assessJson` instead.
 */

const GAP_ROWS = 10;

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function table(header: string[], rows: string[][], lastFree = true): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (lastFree && i === header.length - 1 ? 0 : (r[i] ?? '').length))));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : pad(c, widths[i]))).join('  ').trimEnd();
  return [line(header), line(widths.map((w, i) => '-'.repeat(i === widths.length - 1 ? Math.max(w, 3) : w))), ...rows.map(line)];
}

const score = (v: number | undefined, tested: boolean): string => (!tested ? 'not tested' : v === undefined ? '—' : String(v));
const truncate = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function formatAssessReport(run: AssessRun): string {
  const { request, result } = run;
  const out: string[] = [];
  out.push(`Coverage: ${request.coverageName} (${request.coverageId})`);
  out.push(`Covered:  ${request.coveredName ? `${request.coveredName} ` : ''}(${request.coveredRef})`);
  out.push(`Run:      ${result.runAt}, backend ${result.backend}`);
  out.push('');

  // The reasons go in the last column: first line on the technique's row, the rest below it.
  const rows: string[][] = [];
  for (const t of result.techniques) {
    const [first, ...rest] = t.why.length > 0 ? t.why : [''];
    rows.push([t.techniqueId, truncate(t.name ?? '', 36), score(t.detection, t.tested), score(t.prevention, t.tested), first]);
    for (const line of rest) rows.push(['', '', '', '', `  ${line}`]);
  }
  out.push(...table(['TECHNIQUE', 'NAME', 'DETECTION', 'PREVENTION', 'WHY'], rows));
  out.push('');

  const overall = (name: string): string => {
    const s = result.overall.find((o) => o.name === name);
    return s ? `${s.score}/100` : 'not measured';
  };
  const tested = result.techniques.filter((t) => t.tested).length;
  out.push(`Overall DETECTION:  ${overall('DETECTION')}`);
  out.push(`Overall PREVENTION: ${overall('PREVENTION')}`);
  out.push(`Techniques tested:  ${tested} of ${result.techniques.length}${request.unmatched.length ? ` (${request.unmatched.length} attack pattern(s) without an ATT&CK id)` : ''}`);
  out.push('');

  const gaps = result.gaps.slice(0, GAP_ROWS);
  out.push(`Top gaps (priority = prevalence × impact × feasibility, ${result.gaps.length} in all):`);
  if (gaps.length === 0) out.push('  none: every tested technique scores at least 50');
  else {
    const gapRows = gaps.map((g, i) => [
      String(i + 1),
      g.techniqueId,
      truncate(g.name ?? '', 32),
      String(g.priority),
      `${g.prevalence}×${g.impact}×${g.feasibility}`,
      g.detection === undefined ? '—' : String(g.detection),
      g.prevention === undefined ? '—' : String(g.prevention),
      g.missingDataSources.length ? g.missingDataSources.join(', ') : '—',
    ]);
    out.push(...table(['#', 'TECHNIQUE', 'NAME', 'PRIORITY', 'P×I×F', 'DET', 'PREV', 'MISSING DATA SOURCES'], gapRows).map((l) => `  ${l}`));
  }

  if (run.written.length > 0) {
    out.push('');
    for (const file of run.written) out.push(`wrote ${file}`);
  }
  const warnings = warningLines(run);
  if (warnings.length > 0) out.push('', ...warnings);
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

/** Machine output of `assess --json`. */
export function assessJson(run: AssessRun): unknown {
  return {
    coverage: { id: run.request.coverageId, name: run.request.coverageName, covered_ref: run.request.coveredRef },
    run_at: run.result.runAt,
    backend: run.result.backend,
    overall: run.result.overall,
    techniques: run.result.techniques,
    unmatched: run.request.unmatched,
    gaps: run.result.gaps,
    warnings: run.result.warnings,
    notes: run.notes,
    issues: run.issues,
    written: run.written,
  };
}
