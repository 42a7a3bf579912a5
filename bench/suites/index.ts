import type { Figure, FigureId, SuiteOptions } from '../lib/figures';

/**
 * The suites, each run in its own process by bench/child.ts; modules load lazily (a missing one fails
 * only its suite). `fullOnly` suites are skipped by --quick.
 */
export const SUITES: Record<string, { ids: FigureId[]; fullOnly?: boolean; run: (o: SuiteOptions) => Promise<Figure[]> }> = {
  inventory: { ids: ['inventory'], run: async (o) => (await import('./inventory')).runInventory(o) },
  assess: { ids: ['assess'], run: async (o) => (await import('./assess')).runAssess(o) },
  enrichment: { ids: ['enrichment', 'memory'], run: async (o) => (await import('./enrichment')).runEnrichment(o) },
  scheduler: { ids: ['scheduler'], run: async (o) => (await import('./scheduler')).runScheduler(o) },
  scheduler_1m: { ids: ['scheduler_1m'], fullOnly: true, run: async (o) => (await import('./scheduler')).runScheduler1M(o) },
};
