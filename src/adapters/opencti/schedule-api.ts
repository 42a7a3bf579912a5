import { SCHEDULE_ASK_ENRICHMENT, SCHEDULE_COVERAGE, SCHEDULE_COVERAGES } from './documents';
import type { GraphQLClient } from './graphql-client';

/** The scheduler's and the operator's reads of coverages, and the platform's own enrichment request. */

type Gql = Pick<GraphQLClient, 'request'>;

export interface ScheduleWorkNode {
  id: string;
  timestamp: string;
  status?: string;
  connector?: { id: string } | null;
}

/** A coverage as the schedule needs it (documents.ts, ScheduleCoverageFields). */
export interface ScheduleCoverageNode {
  id: string;
  standard_id: string;
  name: string;
  created_at: string;
  periodicity: string | null;
  duration: string | null;
  auto_enrichment_disable: boolean | null;
  coverage_last_result: string | null;
  jobs?: (ScheduleWorkNode | null)[] | null;
}

export interface CoverageConnection<N> {
  pageInfo: { endCursor: string; hasNextPage: boolean; globalCount?: number };
  edges: { node: N }[];
}

/** One page of coverages, oldest first; `withJobs` also reads each one's latest works. Null: none visible. */
export async function listScheduleCoverages(
  gql: Gql,
  page: { first: number; after?: string | null; withJobs?: boolean },
): Promise<CoverageConnection<ScheduleCoverageNode> | null> {
  const data = await gql.request<{ securityCoverages: CoverageConnection<ScheduleCoverageNode> | null }>(SCHEDULE_COVERAGES, {
    first: page.first,
    after: page.after ?? null,
    withJobs: page.withJobs === true,
  });
  return data.securityCoverages;
}

/** One coverage, fresh, with its latest works; null when the platform has none with this id. */
export async function getScheduleCoverage(gql: Gql, id: string): Promise<ScheduleCoverageNode | null> {
  return (await gql.request<{ securityCoverage: ScheduleCoverageNode | null }>(SCHEDULE_COVERAGE, { id })).securityCoverage;
}

/**
 * Asks the platform for an enrichment of `coverageId` by `connectorId`, as the "re-trigger" button
 * does (it creates the work and publishes the message). The work id, or undefined when it created none.
 */
export async function askEnrichment(gql: Gql, coverageId: string, connectorId: string): Promise<string | undefined> {
  const data = await gql.request<{ stixCoreObjectEdit: { askEnrichment: { id: string } | null } | null }>(SCHEDULE_ASK_ENRICHMENT, {
    id: coverageId,
    connectorId,
  });
  return data.stixCoreObjectEdit?.askEnrichment?.id ?? undefined;
}
