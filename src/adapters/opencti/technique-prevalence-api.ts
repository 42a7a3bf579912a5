import type { TechniqueUse } from '../../domain/gaps/prevalence';
import type { GraphQLClient, RequestOptions } from './graphql-client';

/**
 * The platform's own intelligence for ranking gaps: which techniques the intrusion sets and campaigns
 * of THIS OpenCTI use (`uses` relationships), and which techniques its reports contain. Read in pages,
 * with a page limit per kind so one refresh makes a bounded number of calls; the caller caches the result
 * (src/app/prevalence-source.ts) and the domain turns it into 0-10 values (src/domain/gaps/prevalence.ts).
 *
 * Every document calls one Query field once (the platform's alias rule allows two) and is validated
 * against the 6.9.17 and 7.260817.0 schemas by test/unit/graphql-contract.test.ts (documents.ts lists them).
 */

const PAGE_INFO = 'pageInfo { endCursor hasNextPage }';

export const PREVALENCE_DOCUMENTS = {
  /** `uses` from intrusion sets / campaigns (all, or only `$fromId`) to attack patterns, oldest first. */
  TechniqueUses: /* GraphQL */ `
    query TechniqueUses($fromTypes: [String], $fromId: [String], $first: Int, $after: ID) {
      stixCoreRelationships(
        relationship_type: ["uses"]
        fromTypes: $fromTypes
        fromId: $fromId
        toTypes: ["Attack-Pattern"]
        first: $first
        after: $after
        orderBy: created_at
        orderMode: asc
      ) {
        ${PAGE_INFO}
        edges { node { id fromId fromType created modified to { ... on AttackPattern { x_mitre_id } } } }
      }
    }`,
  /** Intrusion sets and campaigns that `targets` an identity (the organisation or its sector). */
  TargetingAdversaries: /* GraphQL */ `
    query TargetingAdversaries($toId: [String], $first: Int, $after: ID) {
      stixCoreRelationships(
        relationship_type: ["targets"]
        toId: $toId
        fromTypes: ["Intrusion-Set", "Campaign"]
        first: $first
        after: $after
      ) {
        ${PAGE_INFO}
        edges { node { id fromId } }
      }
    }`,
  /** Reports, newest first, with the attack patterns they contain. */
  ReportTechniques: /* GraphQL */ `
    query ReportTechniques($first: Int, $after: ID, $perReport: Int) {
      reports(first: $first, after: $after, orderBy: published, orderMode: desc) {
        ${PAGE_INFO}
        edges {
          node {
            id
            published
            objects(first: $perReport, types: ["Attack-Pattern"]) { edges { node { ... on AttackPattern { x_mitre_id } } } }
          }
        }
      }
    }`,
} as const;

interface PageInfo {
  endCursor?: string | null;
  hasNextPage: boolean;
}
interface Connection<N> {
  pageInfo: PageInfo;
  edges: Array<{ node: N } | null> | null;
}
interface UseNode {
  id: string;
  fromId: string;
  fromType: string;
  created?: string | null;
  modified?: string | null;
  to?: { x_mitre_id?: string | null } | null;
}
interface ReportNode {
  id: string;
  published?: string | null;
  objects?: Connection<{ x_mitre_id?: string | null } | null> | null;
}

export interface PrevalenceReadOptions {
  /** Only the intrusion sets and campaigns targeting this identity (standard or internal id). */
  identity?: string;
  /** Count reports too (default true). */
  reports?: boolean;
  /** Pages read per kind (uses, reports): the bound on calls per refresh. */
  maxPages: number;
  /** Relationships per page (default 500); reports per page (default 100). */
  pageSize?: number;
  reportPageSize?: number;
  /** Attack patterns read per report (default 500). */
  perReport?: number;
  request?: RequestOptions;
}

export interface PrevalenceRead {
  uses: TechniqueUse[];
  /** Calls made. */
  calls: number;
  /** A page limit stopped a reading before its end. */
  truncated: boolean;
  /** The identity focus matched no adversary, so every one was counted. */
  focusUnmatched?: boolean;
}

const KINDS: Record<string, TechniqueUse['kind']> = { 'Intrusion-Set': 'intrusion-set', Campaign: 'campaign' };

export interface TechniquePrevalenceApi {
  read(options: PrevalenceReadOptions): Promise<PrevalenceRead>;
}

export function createTechniquePrevalenceApi(gql: GraphQLClient): TechniquePrevalenceApi {
  return {
    async read(options) {
      let calls = 0;
      let truncated = false;
      /** Every page of one query, up to maxPages; says when it stopped early. */
      async function pages<N>(document: string, variables: Record<string, unknown>, pick: (data: unknown) => Connection<N> | null | undefined): Promise<N[]> {
        const out: N[] = [];
        let after: string | null = null;
        for (let page = 0; ; page++) {
          if (page >= options.maxPages) {
            truncated = true;
            break;
          }
          calls += 1;
          const connection = pick(await gql.request<unknown>(document, { ...variables, after }, options.request));
          if (!connection) break;
          for (const edge of connection.edges ?? []) if (edge?.node) out.push(edge.node);
          const next = connection.pageInfo.endCursor;
          if (!connection.pageInfo.hasNextPage || !next || next === after) break;
          after = next;
        }
        return out;
      }
      const first = options.pageSize ?? 500;
      const relationships = (data: unknown) => (data as { stixCoreRelationships?: Connection<UseNode> | null }).stixCoreRelationships;

      let fromId: string[] | undefined;
      let focusUnmatched = false;
      if (options.identity) {
        const targeting = await pages(PREVALENCE_DOCUMENTS.TargetingAdversaries, { toId: [options.identity], first }, (data) => (data as { stixCoreRelationships?: Connection<{ fromId: string }> | null }).stixCoreRelationships);
        fromId = [...new Set(targeting.map((t) => t.fromId))];
        // No adversary targets it (yet): ranking by nobody would make every gap equal.
        if (fromId.length === 0) {
          focusUnmatched = true;
          fromId = undefined;
        }
      }
      const useNodes = await pages<UseNode>(
        PREVALENCE_DOCUMENTS.TechniqueUses,
        { fromTypes: ['Intrusion-Set', 'Campaign'], fromId: fromId ?? null, first },
        relationships,
      );
      const uses: TechniqueUse[] = [];
      for (const n of useNodes) {
        const kind = KINDS[n.fromType];
        const techniqueId = n.to?.x_mitre_id;
        if (!kind || !techniqueId) continue;
        const date = n.modified ?? n.created ?? undefined;
        uses.push({ techniqueId, user: n.fromId, kind, ...(date ? { date } : {}) });
      }
      // Reports are not tied to an adversary: with a focus identity only the adversaries count.
      if (options.reports !== false && !fromId) {
        const reports = await pages<ReportNode>(
          PREVALENCE_DOCUMENTS.ReportTechniques,
          { first: options.reportPageSize ?? 100, perReport: options.perReport ?? 500 },
          (data) => (data as { reports?: Connection<ReportNode> | null }).reports,
        );
        for (const r of reports) {
          for (const edge of r.objects?.edges ?? []) {
            const techniqueId = edge?.node?.x_mitre_id;
            if (techniqueId) uses.push({ techniqueId, user: r.id, kind: 'report', ...(r.published ? { date: r.published } : {}) });
          }
        }
      }
      return { uses, calls, truncated, ...(focusUnmatched ? { focusUnmatched } : {}) };
    },
  };
}
