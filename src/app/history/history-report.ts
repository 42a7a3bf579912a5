import { relativeTime, utcMinute as minute } from '../time-text';
import { causeText, changesSummary } from '../../domain/history/describe';
import type { CoverageSummary, HistoryRun, HistoryStore } from '../../domain/history/history-ports';
import type { OpenRegression } from '../../domain/history/history-types';
import { renderTrendSvg, type TrendPoint } from '../../domain/history/trend-svg';

/**
 * What `coverage-connector history` shows (docs/history.md): a coverage's runs, newest first, with
 * relative dates, scores and what each run changed, its open regressions, and optionally one
 * technique's scores per run and the trend as an SVG file.
 */

export interface TechniqueAtRun {
  id: string;
  detection?: number;
  prevention?: number;
  /** The technique was not in the container at that run. */
  absent?: boolean;
}

export interface CoverageHistoryReport {
  store: string;
  coverageId: string;
  coverageInternalId?: string;
  coverageName?: string;
  open: OpenRegression[];
  /** The regression mark OpenCTI carries for this coverage, as last written by the connector. */
  markedInOpenCti: boolean;
  runs: Array<HistoryRun & { technique?: TechniqueAtRun }>;
}

export async function coverageHistory(store: HistoryStore, coverage: string, options: { limit?: number; technique?: string } = {}): Promise<CoverageHistoryReport | undefined> {
  const runs = await store.runs(coverage, options.limit ? { limit: options.limit } : {});
  if (runs.length === 0) return undefined;
  const coverageId = runs[0].coverageId;
  const state = await store.state(coverageId);
  const report: CoverageHistoryReport = {
    store: store.description,
    coverageId,
    ...(runs.find((r) => r.coverageInternalId)?.coverageInternalId ? { coverageInternalId: runs.find((r) => r.coverageInternalId)!.coverageInternalId } : {}),
    ...(runs[0].coverageName ? { coverageName: runs[0].coverageName } : {}),
    open: state?.open ?? [],
    markedInOpenCti: !!state?.markedNote,
    runs,
  };
  if (options.technique) {
    const id = options.technique.trim().toUpperCase();
    // Scores only (not the evidence), once per distinct snapshot: runs that changed nothing share one.
    const scores = await store.techniqueScores(coverageId, runs.map((r) => r.snapshotHash));
    report.runs = runs.map((run) => {
      const pair = scores.get(run.snapshotHash)?.[id];
      return { ...run, technique: pair ? { id, ...(pair[0] !== null ? { detection: pair[0] } : {}), ...(pair[1] !== null ? { prevention: pair[1] } : {}) } : { id, absent: true } };
    });
  }
  return report;
}

const cell = (v: number | undefined): string => (v === undefined ? '-' : String(v));

function columns(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)];
}

export function formatCoverageHistory(report: CoverageHistoryReport, now: Date): string {
  const out = [
    `Coverage: ${report.coverageName ? `${report.coverageName} ` : ''}(${report.coverageId}${report.coverageInternalId ? `, ${report.coverageInternalId}` : ''})`,
    `History:  ${report.runs.length} run(s) shown, store ${report.store}`,
  ];
  if (report.open.length === 0) out.push('Regressions: none open');
  else {
    out.push(`Regressions open (${report.open.length})${report.markedInOpenCti ? ', marked in OpenCTI' : ''}:`);
    for (const r of report.open) {
      out.push(`  ${r.techniqueId ?? 'coverage'} ${r.score} ${r.from} → ${r.to ?? 'not measured'} since ${minute(r.since)} (${relativeTime(r.since, now)}): ${causeText(r.causes, 3, r.techniqueId)}`);
    }
  }
  out.push('');
  const technique = report.runs.find((r) => r.technique)?.technique?.id;
  const head = ['WHEN', 'RUN AT (UTC)', 'OUTCOME', 'DETECTION', 'PREVENTION', 'TESTED', ...(technique ? [`${technique} DET`, `${technique} PREV`] : []), 'WHAT CHANGED'];
  const rows = report.runs.map((r) => [
    relativeTime(r.runAt, now),
    minute(r.runAt),
    r.outcome,
    cell(r.detection),
    cell(r.prevention),
    `${r.tested}/${r.techniques}`,
    ...(technique ? (r.technique?.absent ? ['absent', 'absent'] : [cell(r.technique?.detection), cell(r.technique?.prevention)]) : []),
    changesSummary(r.changes),
  ]);
  out.push(...columns(head, rows));
  return `${out.join('\n')}\n`;
}

export function formatCoverageList(coverages: CoverageSummary[], store: string, now: Date): string {
  if (coverages.length === 0) return `no run recorded yet in ${store}\n`;
  const rows = coverages.map((c) => [
    c.coverageId,
    c.coverageName ?? '-',
    String(c.runs),
    relativeTime(c.lastRunAt, now),
    cell(c.detection),
    cell(c.prevention),
    c.openRegressions > 0 ? String(c.openRegressions) : '-',
  ]);
  return `${columns(['COVERAGE', 'NAME', 'RUNS', 'LAST RUN', 'DETECTION', 'PREVENTION', 'REGRESSIONS'], rows).join('\n')}\n${coverages.length} coverage(s) in ${store}\n`;
}

/** The runs as trend points (oldest first), for renderTrendSvg. */
export function trendPoints(runs: HistoryRun[]): TrendPoint[] {
  return [...runs].reverse().map((r) => ({
    at: r.runAt,
    ...(r.detection !== undefined ? { detection: r.detection } : {}),
    ...(r.prevention !== undefined ? { prevention: r.prevention } : {}),
    ...(r.changes.regressions.length > 0 ? { regression: true } : {}),
    ...(r.changes.recoveries.length > 0 ? { recovery: true } : {}),
  }));
}

export const coverageTrendSvg = (report: CoverageHistoryReport): string =>
  renderTrendSvg(trendPoints(report.runs), { title: `${report.coverageName ?? report.coverageId}: score trend` });

/** For the report page (src/app/report/coverage-report.ts `trend`): the SVG of the last `runs` runs, undefined without history. */
export function trendProvider(store: HistoryStore, runs = 90): (coverageId: string) => Promise<string | undefined> {
  return async (coverageId) => {
    const report = await coverageHistory(store, coverageId, { limit: runs });
    return report ? coverageTrendSvg(report) : undefined;
  };
}
