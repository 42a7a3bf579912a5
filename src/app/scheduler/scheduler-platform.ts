import type { GraphQLClient } from '../../adapters/opencti/graphql-client';
import { askEnrichment, getScheduleCoverage, listScheduleCoverages, type ScheduleCoverageNode } from '../../adapters/opencti/schedule-api';
import type { CoverageScheduleInput } from '../../domain/schedule/schedule-types';
import type { CoveragePage, CoverageSource, RunReport, RunTrigger } from '../../domain/schedule/schedule-ports';
import type { EnrichmentMessage } from '../../../schemas/message';

/**
 * The scheduler's ports over the OpenCTI GraphQL API (requests in src/adapters/opencti/schedule-api.ts). What the platform stores is everything the schedule needs:
 *   created_at            → anchor of `duration` (the creation fires the first enrichment)
 *   coverage_last_result  → last run (the run time the worker wrote)
 *   periodicity, duration → as edited by users, re-read at every reconciliation and before every run
 *   jobs (works) of this connector on the coverage → a run started and not finished yet
 */

type CoverageNode = ScheduleCoverageNode;

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
      const conn = await listScheduleCoverages(gql, { first: pageSize, after: after ?? null, withJobs: options.withJobs === true });
      if (!conn) return { items: [] };
      source.total = conn.pageInfo.globalCount;
      const items = conn.edges.map((e) => coverageInputOf(e.node, connectorId));
      // An empty page ends the scan even if the platform says there is more (never loop forever).
      const next = conn.pageInfo.hasNextPage && items.length > 0 ? conn.pageInfo.endCursor : undefined;
      return next ? { items, next } : { items };
    },
    async get(id) {
      const node = await getScheduleCoverage(gql, id);
      return node ? coverageInputOf(node, connectorId) : undefined;
    },
  };
  return source;
}

/** Asks the platform for the enrichment, exactly as the "re-trigger" button does: a work shows the run. */
export function createAskEnrichmentTrigger(options: Pick<PlatformScheduleOptions, 'gql' | 'connectorId'>): RunTrigger {
  return {
    async trigger(coverage) {
      const workId = await askEnrichment(options.gql, coverage.id, options.connectorId);
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
