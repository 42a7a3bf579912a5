/**
 * What a suite reports: one figure per id, with named metrics (numbers, or null when a part could not
 * be measured: then `status` says why). run.ts renders them as a table, JSON and RESULTS.md, and
 * judges the targets that compare two figures of the same run (ratios to floors).
 */

export type FigureId = 'inventory' | 'assess' | 'enrichment' | 'memory' | 'scheduler' | 'scheduler_1m';

export const FIGURE_IDS: FigureId[] = ['inventory', 'assess', 'enrichment', 'memory', 'scheduler', 'scheduler_1m'];

export interface Figure {
  id: FigureId;
  what: string;
  target: string;
  /** The figure's values: `headline` names the main one; others are context (units in the key names). */
  metrics: Record<string, number | null>;
  headline: string;
  /** true/false when a target applies and was evaluated; null when measured-only or missing. */
  met: boolean | null;
  status: 'ok' | 'missing' | 'error';
  /** Why a figure is missing, or what it measured exactly. */
  note?: string;
}

export const WHAT: Record<FigureId, { what: string; target: string }> = {
  inventory: {
    what: 'load a SigmaHQ + Elastic + Splunk sized rule tree (6,321 files) cold, warm from the parsed-rule cache, and after one file changed',
    target: 'cold load ≤ 1.5 × parse floor (same run); warm start ≤ 0.5 s',
  },
  assess: { what: 'assess a 600-technique container against ~6,000 rules (index built)', target: '≤ 20 ms' },
  enrichment: {
    what: "connector CPU per message (its run and the run its coverage write re-triggers) and platform calls of the run that writes (50 attack patterns, 3,000 rules) against a stand-in platform in its own process",
    target: 'CPU ≤ 3 × JSON floor (same run); platform calls = protocol minimum (2 with one push)',
  },
  memory: { what: 'connector heap growth over processed enrichments (after warm-up)', target: '≤ 10 % growth' },
  scheduler: { what: 'scheduler with 100,000 coverages: start, reconcile, ticks, state saves, restart from the state file', target: 'event loop never blocked > 50 ms; RSS ≤ 200 MB' },
  scheduler_1m: { what: 'scheduler with 1,000,000 coverages (feasibility)', target: 'measured' },
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

/**
 * The figures `--json` puts first, flat, on the one line it prints: the issue's headline numbers,
 * taken from the figures' metrics.
 */
export const SUMMARY_KEYS: Array<[key: string, from: FigureId, metric: string]> = [
  ['inventory_load_s', 'inventory', 'load_s'],
  ['inventory_parse_floor_s', 'inventory', 'parse_floor_s'],
  ['inventory_load_ratio', 'inventory', 'load_to_floor'],
  ['inventory_warm_s', 'inventory', 'warm_s'],
  ['inventory_reload_s', 'inventory', 'reload_one_file_s'],
  ['enrichment_cpu_ms', 'enrichment', 'cpu_ms'],
  ['json_floor_ms', 'enrichment', 'json_floor_ms'],
  ['enrichment_cpu_ratio', 'enrichment', 'cpu_to_json_floor'],
  ['transport_floor_ms', 'enrichment', 'transport_floor_ms'],
  ['enrichment_cpu_to_transport_floor', 'enrichment', 'cpu_to_transport_floor'],
  ['platform_calls_per_enrichment', 'enrichment', 'platform_calls'],
  ['scheduler_max_block_ms', 'scheduler', 'max_block_ms'],
  ['scheduler_rss_mb', 'scheduler', 'rss_mb'],
  ['assess_600x6000_ms', 'assess', 'p50_ms'],
];
