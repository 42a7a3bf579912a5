import { graphql, type GraphQLSchema } from 'graphql';
import type { CoverageScheduleInput } from '../../../src/domain/schedule/schedule-types';
import type { CoveragePage, CoverageSource, RunTrigger } from '../../../src/domain/schedule/schedule-ports';

/**
 * The platform as the scheduler sees it (part of the fake OpenCTI): coverages with
 * created_at / periodicity / duration / coverage_last_result, the works ("jobs") enrichment requests
 * create, paginated listing and `askEnrichment`. Usable three ways:
 *   - directly as the scheduler's ports (`source`, `trigger`) in unit and broker tests;
 *   - as GraphQL root resolvers (`rootValue`) for the real documents, executed against the OpenCTI
 *     schema (test/unit/schedule/scheduler-platform.test.ts);
 *   - `onAsk` lets a test (or the HTTP fake) publish the enrichment message like the platform does.
 * Every call is counted so tests can assert what a tick costs.
 */

export interface SchedCoverage {
  id: string;
  standardId: string;
  name: string;
  createdAt: Date;
  periodicity?: string | null;
  duration?: string | null;
  lastResultAt?: Date | null;
  manual?: boolean;
}

export interface SchedWork {
  id: string;
  connectorId: string;
  coverageId: string;
  timestamp: Date;
  status: 'wait' | 'progress' | 'complete';
}

export interface SchedulePlatformOptions {
  connectorId: string;
  /** Platform clock (the fake clock of the test). */
  now: () => Date;
  pageSize?: number;
}

export interface SchedulePlatform {
  coverages: Map<string, SchedCoverage>;
  works: SchedWork[];
  calls: { listPage: number; get: number; ask: number };
  add(c: Partial<SchedCoverage> & { createdAt: Date }): SchedCoverage;
  /** The worker finished the run of `workId`: last_result = ranAt, work complete. */
  complete(workId: string, ranAt?: Date): SchedCoverage;
  /** Runs asked for a coverage (scheduled runs = works created by askEnrichment). */
  asksFor(standardId: string): SchedWork[];
  source: CoverageSource;
  trigger: RunTrigger;
  onAsk?: (work: SchedWork, coverage: SchedCoverage) => void | Promise<void>;
  /** Root resolvers for ScheduleCoverages / ScheduleCoverage / ScheduleAskEnrichment. */
  rootValue: Record<string, unknown>;
}

let seq = 0;
const nextId = (): string => {
  seq += 1;
  return `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`;
};

export function createSchedulePlatform(options: SchedulePlatformOptions): SchedulePlatform {
  const pageSize = options.pageSize ?? 2;
  const coverages = new Map<string, SchedCoverage>();
  const works: SchedWork[] = [];
  const calls = { listPage: 0, get: 0, ask: 0 };

  const find = (id: string): SchedCoverage | undefined => coverages.get(id) ?? [...coverages.values()].find((c) => c.id === id);
  const worksOf = (c: SchedCoverage): SchedWork[] => works.filter((w) => w.coverageId === c.standardId).sort((a, b) => b.timestamp.getTime() - a.timestamp.getTime());
  const lastWork = (c: SchedCoverage): Date | undefined =>
    worksOf(c).find((w) => w.connectorId === options.connectorId)?.timestamp;
  const toInput = (c: SchedCoverage, withJobs: boolean): CoverageScheduleInput => ({
    id: c.id,
    standardId: c.standardId,
    name: c.name,
    createdAt: c.createdAt,
    periodicity: c.periodicity,
    duration: c.duration,
    lastResultAt: c.lastResultAt ?? undefined,
    manual: c.manual === true,
    lastTriggeredAt: withJobs ? lastWork(c) : undefined,
  });
  const ordered = (): SchedCoverage[] => [...coverages.values()].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));

  const platform: SchedulePlatform = {
    coverages,
    works,
    calls,
    add(c) {
      const id = c.id ?? nextId();
      const cov: SchedCoverage = {
        id,
        standardId: c.standardId ?? `security-coverage--${id}`,
        name: c.name ?? `Coverage ${id.slice(-4)}`,
        createdAt: c.createdAt,
        periodicity: c.periodicity === undefined ? 'P1D' : c.periodicity,
        duration: c.duration === undefined ? 'P30D' : c.duration,
        lastResultAt: c.lastResultAt ?? null,
        manual: c.manual ?? false,
      };
      coverages.set(cov.standardId, cov);
      return cov;
    },
    complete(workId, ranAt = options.now()) {
      const work = works.find((w) => w.id === workId);
      if (!work) throw new Error(`no work ${workId}`);
      work.status = 'complete';
      const cov = coverages.get(work.coverageId) as SchedCoverage;
      cov.lastResultAt = ranAt;
      return cov;
    },
    asksFor: (standardId) => works.filter((w) => w.coverageId === standardId),
    source: {
      async listPage(after): Promise<CoveragePage> {
        calls.listPage += 1;
        const all = ordered();
        const start = after ? Number(after) : 0;
        const items = all.slice(start, start + pageSize).map((c) => toInput(c, false));
        const end = start + items.length;
        return end < all.length ? { items, next: String(end) } : { items };
      },
      async get(id) {
        calls.get += 1;
        const c = find(id);
        return c ? toInput(c, true) : undefined;
      },
    },
    trigger: {
      async trigger(coverage) {
        calls.ask += 1;
        const c = find(coverage.id);
        if (!c) throw new Error(`unknown coverage ${coverage.id}`);
        const work: SchedWork = { id: `work_${options.connectorId}_${nextId()}`, connectorId: options.connectorId, coverageId: c.standardId, timestamp: options.now(), status: 'wait' };
        works.push(work);
        await platform.onAsk?.(work, c);
        return { workId: work.id };
      },
    },
    rootValue: {},
  };

  const node = (c: SchedCoverage) => ({
    id: c.id,
    standard_id: c.standardId,
    name: c.name,
    created_at: c.createdAt.toISOString(),
    periodicity: c.periodicity ?? null,
    duration: c.duration ?? null,
    auto_enrichment_disable: c.manual === true,
    coverage_last_result: c.lastResultAt ? c.lastResultAt.toISOString() : null,
    jobs: ({ first }: { first?: number }) =>
      worksOf(c)
        .slice(0, first ?? 10)
        .map((w) => ({ id: w.id, timestamp: w.timestamp.toISOString(), status: w.status, connector: { id: w.connectorId } })),
  });
  platform.rootValue = {
    securityCoverages: ({ first, after }: { first?: number; after?: string | null }) => {
      calls.listPage += 1;
      const all = ordered();
      const size = Math.min(first ?? pageSize, pageSize);
      const start = after ? Number(after) : 0;
      const slice = all.slice(start, start + size);
      const end = start + slice.length;
      return {
        pageInfo: { startCursor: String(start), endCursor: String(end), hasNextPage: end < all.length, hasPreviousPage: start > 0, globalCount: all.length },
        edges: slice.map((c, i) => ({ cursor: String(start + i + 1), node: node(c) })),
      };
    },
    securityCoverage: ({ id }: { id: string }) => {
      calls.get += 1;
      const c = find(id);
      return c ? node(c) : null;
    },
    stixCoreObjectEdit: ({ id }: { id: string }) => ({
      askEnrichment: async ({ connectorId }: { connectorId: string }) => {
        const c = find(id);
        if (!c) throw new Error(`Element ${id} not found`);
        const { workId } = await platform.trigger.trigger(toInput(c, false));
        const w = works.find((x) => x.id === workId) as SchedWork;
        w.connectorId = connectorId;
        return { id: w.id, name: 'Manual enrichment', timestamp: w.timestamp.toISOString(), status: w.status };
      },
    }),
  };
  return platform;
}

/**
 * A GraphQL client executing documents in-process against `schema` (the real OpenCTI schema from
 * ../shared) with the schedule platform's resolvers: documents and mappings are checked for real,
 * without HTTP.
 */
export function inProcessGraphQL(schema: GraphQLSchema, rootValue: Record<string, unknown>): { request<T>(document: string, variables?: Record<string, unknown>): Promise<T> } {
  return {
    request: async <T>(document: string, variables: Record<string, unknown> = {}): Promise<T> => {
      const result = await graphql({ schema, source: document, rootValue, variableValues: variables });
      if (result.errors?.length) throw new Error(result.errors.map((e) => e.message).join('; '));
      return result.data as T;
    },
  };
}
