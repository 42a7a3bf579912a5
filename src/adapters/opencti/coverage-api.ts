import type { ScoreEntry } from '../../domain/coverage/coverage-types';
import type { StoredHasCovered, StoredNote } from '../../domain/coverage/write-plan';
import { OPENCTI_MITRE_EXTENSION_ID, type StixBundle, type StixObject } from '../../domain/stix/stix-types';
import {
  CONTAINER_ATTACK_PATTERNS,
  COVERAGE_RELATIONSHIPS,
  COVERAGE_STATE,
  RELATED_ATTACK_PATTERNS,
  RELATIONSHIP_DELETE,
  STIX_BUNDLE_PUSH,
  STIX_BUNDLE_PUSH_RECEIVED,
} from './documents';
import type { GraphQLClient, RequestOptions } from './graphql-client';
import { PlatformRejectedError } from '../../errors';

/** Reads a coverage and its content (protocol §5.5, §3.4) and pushes results (§6.2). */

export interface CoverageState {
  /** Internal id (what the platform's UI links with). */
  id: string;
  standardId: string;
  name: string;
  autoEnrichmentDisable: boolean;
  /** Scores stored on the coverage (undefined when it has none). */
  coverage?: ScoreEntry[];
  periodicity?: string;
  duration?: string;
  /** Stored `valid_to` of the last result (ISO), when the platform has one. */
  validTo?: string;
  externalUri?: string;
  /** Notes attached to the coverage (the connector's summary note among them). */
  notes: StoredNote[];
  covered?: { id: string; standardId: string; entityType: string };
  /** Every has-covered of the coverage, ours and other writers' (read with it). */
  hasCovered: StoredHasCovered[];
}

export interface CoverageApi {
  /** null when the platform does not know the coverage (deleted since the message was sent). One call unless it has more has-covered than a page. */
  getCoverage(id: string, options?: RequestOptions): Promise<CoverageState | null>;
  /** Every has-covered of the coverage, ours and other writers'. */
  listHasCovered(id: string, options?: RequestOptions): Promise<StoredHasCovered[]>;
  /** Deletes one relationship by internal id (ours only: the write plan decides). */
  deleteRelationship(id: string, options?: RequestOptions): Promise<void>;
  /** Attack patterns of the covered entity as STIX objects, fetched page by page. */
  listAttackPatterns(covered: { id: string; entityType: string }, options?: RequestOptions): Promise<StixObject[]>;
  /** With `receivedMessage` (and a work): marks the work received first, in the same call. */
  pushBundle(connectorId: string, bundle: StixBundle, workId: string | null, options?: RequestOptions, receivedMessage?: string): Promise<void>;
}

/** Entity types whose content is `objects` (the others only have relationships). */
const CONTAINER_TYPES = new Set(['report', 'grouping', 'case-incident', 'case-rfi', 'case-rft', 'note', 'opinion', 'observed-data']);

interface PageInfo {
  endCursor: string;
  hasNextPage: boolean;
}
interface AttackPatternNode {
  id?: string;
  standard_id?: string;
  entity_type?: string;
  name?: string;
  x_mitre_id?: string | null;
  killChainPhases?: Array<{ kill_chain_name: string; phase_name: string }> | null;
}
interface CoverageAnswer {
  securityCoverage: {
    id: string;
    standard_id: string;
    name: string;
    periodicity: string | null;
    duration: string | null;
    auto_enrichment_disable: boolean | null;
    coverage_valid_to?: string | null;
    external_uri?: string | null;
    notes?: { edges: Array<{ node: { id: string; standard_id: string; x_opencti_stix_ids?: string[] | null; attribute_abstract?: string | null; content: string } }> } | null;
    coverage_information: { coverage_name: string; coverage_score: number }[] | null;
    objectCovered: { id: string; standard_id: string; entity_type: string } | null;
    stixCoreRelationships?: HasCoveredPage | null;
  } | null;
}
interface HasCoveredNode {
  id: string;
  standard_id: string;
  x_opencti_stix_ids?: string[] | null;
  description?: string | null;
  coverage_information: { coverage_name: string; coverage_score: number }[] | null;
  to: { standard_id?: string } | null;
}
interface HasCoveredPage {
  pageInfo: PageInfo;
  edges: { node: HasCoveredNode }[];
}
interface RelationshipsAnswer {
  securityCoverage: { stixCoreRelationships: HasCoveredPage | null } | null;
}
interface ContainerAnswer {
  container: { objects: { pageInfo: PageInfo; edges: ({ node: AttackPatternNode } | null)[] | null } | null } | null;
}
interface RelatedAnswer {
  stixCoreRelationships: { pageInfo: PageInfo; edges: { node: { to: AttackPatternNode | null } }[] } | null;
}

const toHasCovered = (nodes: HasCoveredNode[]): StoredHasCovered[] =>
  nodes
    .filter((n) => n.to?.standard_id)
    .map((n) => ({
      id: n.id,
      standardId: n.standard_id,
      stixIds: n.x_opencti_stix_ids ?? [],
      targetId: n.to?.standard_id as string,
      scores: toScores(n.coverage_information),
      ...(n.description ? { description: n.description } : {}),
    }));

const toScores = (list: { coverage_name: string; coverage_score: number }[] | null | undefined): ScoreEntry[] =>
  (list ?? []).map((c) => ({ name: c.coverage_name, score: c.coverage_score }));

/** GraphQL attack pattern → the STIX shape the platform emits (MITRE extension + external reference). */
export function attackPatternToStix(node: AttackPatternNode): StixObject | undefined {
  if (!node.standard_id) return undefined;
  const mitreId = node.x_mitre_id ?? undefined;
  const phases = node.killChainPhases ?? [];
  return {
    type: 'attack-pattern',
    id: node.standard_id,
    spec_version: '2.1',
    name: node.name,
    ...(phases.length > 0 ? { kill_chain_phases: phases.map((p) => ({ kill_chain_name: p.kill_chain_name, phase_name: p.phase_name })) } : {}),
    ...(mitreId
      ? {
          x_mitre_id: mitreId,
          external_references: [{ source_name: 'mitre-attack', external_id: mitreId }],
          extensions: { [OPENCTI_MITRE_EXTENSION_ID]: { extension_type: 'property-extension', id: mitreId } },
        }
      : {}),
  };
}

export interface CoverageApiOptions {
  gql: GraphQLClient;
  /** Page size of paginated reads (small in tests to exercise paging). */
  pageSize?: number;
  /** Safety stop for a runaway cursor. */
  maxPages?: number;
}

export function createCoverageApi({ gql, pageSize = 500, maxPages = 1000 }: CoverageApiOptions): CoverageApi {
  /** Pages from `first` on (a page already read with something else), or from the start. */
  async function paginate<N>(
    fetchPage: (after: string | null) => Promise<{ pageInfo: PageInfo; nodes: N[] } | null>,
    first?: { pageInfo: PageInfo; nodes: N[] },
  ): Promise<N[]> {
    const out: N[] = [];
    let after: string | null = null;
    let result = first ?? (await fetchPage(after));
    for (let page = 0; page < maxPages && result; page++) {
      out.push(...result.nodes);
      if (!result.pageInfo.hasNextPage || !result.pageInfo.endCursor || result.pageInfo.endCursor === after) break;
      after = result.pageInfo.endCursor;
      result = await fetchPage(after);
    }
    return out;
  }

  const hasCoveredPage = (id: string, options?: RequestOptions) => async (after: string | null) => {
    const data = await gql.request<RelationshipsAnswer>(COVERAGE_RELATIONSHIPS, { id, first: pageSize, after }, options);
    const conn = data.securityCoverage?.stixCoreRelationships;
    return conn ? { pageInfo: conn.pageInfo, nodes: conn.edges.map((e) => e.node) } : null;
  };

  return {
    async getCoverage(id, options) {
      const data = await gql.request<CoverageAnswer>(COVERAGE_STATE, { id, first: pageSize }, options);
      const c = data.securityCoverage;
      if (!c) return null;
      const firstPage = c.stixCoreRelationships;
      const hasCovered = toHasCovered(
        firstPage ? await paginate(hasCoveredPage(c.standard_id, options), { pageInfo: firstPage.pageInfo, nodes: firstPage.edges.map((e) => e.node) }) : [],
      );
      return {
        id: c.id,
        standardId: c.standard_id,
        name: c.name,
        autoEnrichmentDisable: c.auto_enrichment_disable === true,
        ...(c.coverage_information ? { coverage: toScores(c.coverage_information) } : {}),
        ...(c.periodicity ? { periodicity: c.periodicity } : {}),
        ...(c.duration ? { duration: c.duration } : {}),
        ...(c.coverage_valid_to ? { validTo: c.coverage_valid_to } : {}),
        ...(c.external_uri ? { externalUri: c.external_uri } : {}),
        notes: (c.notes?.edges ?? []).map(({ node: n }) => ({
          id: n.id,
          standardId: n.standard_id,
          stixIds: n.x_opencti_stix_ids ?? [],
          ...(n.attribute_abstract ? { abstract: n.attribute_abstract } : {}),
          content: n.content,
        })),
        ...(c.objectCovered
          ? { covered: { id: c.objectCovered.id, standardId: c.objectCovered.standard_id, entityType: c.objectCovered.entity_type } }
          : {}),
        hasCovered,
      };
    },

    async listHasCovered(id, options) {
      return toHasCovered(await paginate(hasCoveredPage(id, options)));
    },

    async deleteRelationship(id, options) {
      await gql.request(RELATIONSHIP_DELETE, { id }, options);
    },

    async listAttackPatterns(covered, options) {
      const nodes: AttackPatternNode[] = [];
      if (CONTAINER_TYPES.has(covered.entityType.toLowerCase())) {
        nodes.push(
          ...(await paginate(async (after) => {
            const data = await gql.request<ContainerAnswer>(CONTAINER_ATTACK_PATTERNS, { id: covered.id, first: pageSize, after }, options);
            const conn = data.container?.objects;
            return conn ? { pageInfo: conn.pageInfo, nodes: (conn.edges ?? []).flatMap((e) => (e?.node ? [e.node] : [])) } : null;
          })),
        );
      }
      nodes.push(
        ...(await paginate(async (after) => {
          const data = await gql.request<RelatedAnswer>(RELATED_ATTACK_PATTERNS, { fromId: [covered.id], first: pageSize, after }, options);
          const conn = data.stixCoreRelationships;
          return conn ? { pageInfo: conn.pageInfo, nodes: conn.edges.flatMap((e) => (e.node.to ? [e.node.to] : [])) } : null;
        })),
      );
      const byId = new Map<string, StixObject>();
      for (const n of nodes) {
        const stix = attackPatternToStix(n);
        if (stix && !byId.has(stix.id)) byId.set(stix.id, stix);
      }
      return [...byId.values()];
    },

    async pushBundle(connectorId, bundle, workId, options, receivedMessage) {
      const carried = receivedMessage !== undefined && workId !== null;
      const data = await gql.request<{ stixBundlePush: boolean | null }>(
        carried ? STIX_BUNDLE_PUSH_RECEIVED : STIX_BUNDLE_PUSH,
        carried ? { connectorId, bundle: JSON.stringify(bundle), work_id: workId, workId, message: receivedMessage } : { connectorId, bundle: JSON.stringify(bundle), work_id: workId },
        options,
      );
      if (data.stixBundlePush !== true) throw new PlatformRejectedError(`stixBundlePush returned ${String(data.stixBundlePush)}`);
    },
  };
}
