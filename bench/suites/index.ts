import type { Figure, FigureId, SuiteOptions } from '../lib/figures';

/** The suites, each run in its own process by bench/child.ts; modules load lazily (a missing one fails only its suite). */
export const SUITES: Record<string, { ids: FigureId[]; run: (o: SuiteOptions) => Promise<Figure[]> }> = {
  amqp: { ids: ['B1'], run: async (o) => (await import('./b1-amqp-ceiling')).runB1(o) },
  pipeline: { ids: ['B2', 'B3', 'B7'], run: async (o) => (await import('./pipeline')).runPipeline(o) },
  assess: { ids: ['B4'], run: async (o) => (await import('./b4-assess')).runB4(o) },
  load: { ids: ['B5'], run: async (o) => (await import('./b5-load')).runB5(o) },
  scheduler: { ids: ['B6'], run: async (o) => (await import('./b6-scheduler')).runB6(o) },
};
