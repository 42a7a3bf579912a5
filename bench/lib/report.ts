import type { Figure } from './figures';
import type { Machine } from './machine';

/** Renders the figures: console table, markdown (RESULTS.md, README) and the JSON document. */

export interface BenchReport {
  /** How the run was started. */
  command: string;
  /** Headline numbers, flat (figures.ts SUMMARY_KEYS). */
  summary: Record<string, number | null>;
  mode: 'quick' | 'full';
  seed: number;
  startedAt: string;
  durationSeconds: number;
  machine: Machine;
  figures: Figure[];
}

const fmt = (v: number | null | undefined): string => (v === null || v === undefined || Number.isNaN(v) ? '—' : String(v));

/** "12.3 msgs_per_s (messages 5000, …)" — the headline first, then the other metrics. */
export function valueText(f: Figure): string {
  if (f.status !== 'ok') return `${f.status.toUpperCase()}: ${f.note ?? ''}`;
  const head = `${f.headline} ${fmt(f.metrics[f.headline])}`;
  const rest = Object.entries(f.metrics)
    .filter(([k]) => k !== f.headline)
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join(', ');
  return rest ? `${head} (${rest})` : head;
}

const verdict = (f: Figure): string => (f.status !== 'ok' ? f.status : f.met === null ? 'measured' : f.met ? 'met' : 'MISSED');

export function consoleTable(report: BenchReport): string {
  const rows = report.figures.map((f) => [f.id, f.what, valueText(f), f.target, verdict(f)]);
  const header = ['id', 'what', 'figures', 'target', 'result'];
  const widths = header.map((h, i) => Math.min(i === 2 ? 90 : 70, Math.max(h.length, ...rows.map((r) => r[i].length))));
  const line = (cells: string[]): string => cells.map((c, i) => (c.length > widths[i] ? `${c.slice(0, widths[i] - 1)}…` : c.padEnd(widths[i]))).join(' | ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

export function machineLine(m: Machine): string {
  return `${m.nproc} × ${m.cpu}, ${m.memoryGb} GB RAM, Node ${m.node}, ${m.broker}, amqplib ${m.amqplib}, ${m.os}, load average ${m.loadAvg1} at start`;
}

export function markdownTable(report: BenchReport): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  return [
    '| id | what | measured | target | result |',
    '|---|---|---|---|---|',
    ...report.figures.map((f) => `| ${f.id} | ${esc(f.what)} | ${esc(valueText(f))} | ${esc(f.target)} | ${verdict(f)} |`),
  ].join('\n');
}
