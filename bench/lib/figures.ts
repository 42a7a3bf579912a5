/**
 * What a suite reports: one figure per id (B1…B7), with named metrics (numbers, or null when a part
 * could not be measured: then `status` says why). run.ts renders them as a table, JSON and RESULTS.md.
 */

export type FigureId = 'B1' | 'B2' | 'B3' | 'B4' | 'B5' | 'B6' | 'B7';

export const FIGURE_IDS: FigureId[] = ['B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7'];

export interface Figure {
  id: FigureId;
  what: string;
  target: string;
  /** The figure's values: `value` is the headline; others are context (units in the key names). */
  metrics: Record<string, number | null>;
  /** Key of the headline metric in `metrics`. */
  headline: string;
  /** true/false when a target applies and was evaluated; null when measured-only or missing. */
  met: boolean | null;
  status: 'ok' | 'missing' | 'error';
  /** Why a figure is missing, or what it measured exactly. */
  note?: string;
}

export const WHAT: Record<FigureId, { what: string; target: string }> = {
  B1: { what: 'raw amqplib consume rate, same broker and bodies (prefetch 100, manual ack)', target: 'measured (ceiling)' },
  B2: { what: 'end-to-end enrichments/s: message → 50 attack patterns → 3,000 rules → push → ack', target: '≥ 25 % of B1' },
  B3: { what: 'latency per enrichment at 50 % of B2 rate (p50 / p99)', target: 'p99 ≤ 50 ms' },
  B4: { what: 'assess a 600-technique container against ~6,000 rules (index built)', target: '≤ 20 ms' },
  B5: { what: 'load 6,000 generated Sigma + Elastic + Splunk rule files from disk', target: '≤ 3 s' },
  B6: { what: 'scheduler with 100,000 coverages: tick time and RSS', target: 'tick ≤ 200 ms, RSS ≤ 250 MB' },
  B7: { what: 'memory growth over 100,000 processed messages (after warm-up)', target: '≤ 10 % growth' },
};

export function missingFigure(id: FigureId, note: string, status: 'missing' | 'error' = 'missing'): Figure {
  return { id, ...WHAT[id], metrics: {}, headline: '', met: null, status, note };
}

export function figure(id: FigureId, headline: string, metrics: Record<string, number | null>, met: boolean | null, note?: string): Figure {
  return { id, ...WHAT[id], metrics, headline, met, status: 'ok', ...(note ? { note } : {}) };
}

/** Options every suite receives from run.ts. */
export interface SuiteOptions {
  quick: boolean;
  seed: number;
  amqpUrl: string;
  /** Directory for generated files (deleted by the suite). */
  tmpDir: string;
  /** Extra node flags for processes the suite spawns (e.g. --cpu-prof). */
  profileArgs: string[];
  /** Figures asked for (--only); a suite may skip the work of the others. */
  wanted: FigureId[];
  log: (line: string) => void;
  /** Hands a figure to the parent at once, so a later crash or time cap does not lose it. */
  report: (figure: Figure) => void;
}
