import type { GraphQLClient } from '../adapters/opencti/graphql-client';
import { SCHEDULE_ASK_ENRICHMENT, SCHEDULE_COVERAGE, SCHEDULE_COVERAGES } from '../adapters/opencti/documents';
import type { CoverageScheduleInput } from '../domain/schedule/schedule-types';
import type { CoveragePage, CoverageSource, RunReport, RunTrigger } from '../domain/schedule/schedule-ports';
import type { EnrichmentMessage } from '../../schemas/message';

/**
 * The scheduler's ports over the OpenCTI GraphQL API (documents in src/adapters/opencti/documents.ts,
 * "Scheduler" block). What the platform stores is everything the schedule needs:
 *   created_at            → anchor of `duration` (the creation fires the first enrichment)
 *   coverage_last_result  → last run (the run time the worker wrote)
 *   periodicity, duration → as edited by users, re-read at every reconciliation and before every run
 *   jobs (works) of this connector on the coverage → a run started and not finished yet
 */

interface WorkNode {
  id: string;
  timestamp: string;
  status?: string;
  connector?: { id: string } | null;
}

interface CoverageNode {
  id: string;
  standard_id: string;
  name: string;
  created_at: string;
  periodicity: string | null;
  duration: string | null;
  auto_enrichment_disable: boolean | null;
  coverage_last_result: string | null;
  jobs?: (WorkNode | null)[] | null;
}

interface ListAnswer {
  securityCoverages: {
    pageInfo: { endCursor: string; hasNextPage: boolean; globalCount?: number };
    edges: { node: CoverageNode }[];
  } | null;
}

const dateOrUndefined = (s: string | null | undefined): Date | undefined => {
  if (!s) return undefined;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? undefined : d;
};

/** Start of the latest work of `connectorId` among the coverage's works. */
function lastWorkOf(jobs: CoverageNode['jobs'], connectorId: string): Date | undefined {
  let best: Date | undefined;
  for (const w of jobs ?? []) {
    if (!w || w.connector?.id !== connectorId) continue;
    const t = dateOrUndefined(w.timestamp);
    if (t && (!best || t.getTime() > best.getTime())) best = t;
  }
  return best;
}

export function coverageInputOf(node: CoverageNode, connectorId: string): CoverageScheduleInput {
  return {
    id: node.id,
    standardId: node.standard_id,
    name: node.name,
    createdAt: dateOrUndefined(node.created_at) ?? new Date(0),
    periodicity: node.periodicity,
    duration: node.duration,
    lastResultAt: dateOrUndefined(node.coverage_last_result),
    manual: node.auto_enrichment_disable === true,
    lastTriggeredAt: node.jobs ? lastWorkOf(node.jobs, connectorId) : undefined,
  };
}

export interface PlatformScheduleOptions {
  gql: Pick<GraphQLClient, 'request'>;
  connectorId: string;
  /** Coverages per page (default 100). */
  pageSize?: number;
  /** Also read each coverage's works while listing (for `schedule list`; default false). */
  withJobs?: boolean;
}

export function createPlatformCoverageSource(options: PlatformScheduleOptions): CoverageSource & { total?: number } {
  const { gql, connectorId } = options;
  const pageSize = options.pageSize ?? 100;
  const source: CoverageSource & { total?: number } = {
    async listPage(after): Promise<CoveragePage> {
      const data = await gql.request<ListAnswer>(SCHEDULE_COVERAGES, { first: pageSize, after: after ?? null, withJobs: options.withJobs === true });
      const conn = data.securityCoverages;
      if (!conn) return { items: [] };
      source.total = conn.pageInfo.globalCount;
      const items = conn.edges.map((e) => coverageInputOf(e.node, connectorId));
      // An empty page ends the scan even if the platform says there is more (never loop forever).
      const next = conn.pageInfo.hasNextPage && items.length > 0 ? conn.pageInfo.endCursor : undefined;
      return next ? { items, next } : { items };
    },
    async get(id) {
      const data = await gql.request<{ securityCoverage: CoverageNode | null }>(SCHEDULE_COVERAGE, { id });
      if (!data.securityCoverage) return undefined;
      const input = coverageInputOf(data.securityCoverage, connectorId);
      return input;
    },
  };
  return source;
}

/** Asks the platform for the enrichment, exactly as the "re-trigger" button does: a work shows the run. */
export function createAskEnrichmentTrigger(options: Pick<PlatformScheduleOptions, 'gql' | 'connectorId'>): RunTrigger {
  return {
    async trigger(coverage) {
      const data = await options.gql.request<{ stixCoreObjectEdit: { askEnrichment: { id: string } | null } | null }>(SCHEDULE_ASK_ENRICHMENT, {
        id: coverage.id,
        connectorId: options.connectorId,
      });
      const workId = data.stixCoreObjectEdit?.askEnrichment?.id;
      return workId ? { workId } : {};
    },
  };
}

const OPENCTI_EXTENSION = 'extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba';

/**
 * What the worker tells the scheduler after an enrichment: built from the message it processed and
 * the run time it wrote as last_result.
 */
export function runReportOf(message: EnrichmentMessage, ranAt: Date): RunReport {
  const entity = message.event.stix_entity as Record<string, unknown>;
  const ext = ((entity.extensions as Record<string, unknown> | undefined)?.[OPENCTI_EXTENSION] ?? {}) as Record<string, unknown>;
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const created = dateOrUndefined(str(ext.created_at));
  return {
    standardId: message.event.entity_id,
    ...(str(ext.id) ? { id: str(ext.id) } : {}),
    ...(str(entity.name) ? { name: str(entity.name) } : {}),
    ranAt,
    periodicity: str(entity.periodicity) ?? null,
    duration: str(entity.duration) ?? null,
    ...(created ? { createdAt: created } : {}),
    ...(typeof entity.auto_enrichment_disable === 'boolean' ? { manual: entity.auto_enrichment_disable } : {}),
  };
}
