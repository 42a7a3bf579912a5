import type { BrokerConnection } from './connector-api';
import { OPERATOR_CONNECTOR, OPERATOR_COVERAGE_BUNDLE, OPERATOR_COVERAGES } from './documents';
import type { GraphQLClient } from './graphql-client';
import type { CoverageConnection } from './schedule-api';

/** What the operator commands (status, retrigger, dlq, assess --coverage) read from the platform. */

type Gql = Pick<GraphQLClient, 'request'>;

export interface ConnectorRegistration {
  id: string;
  active: boolean | null;
  updated_at: string | null;
  config: { connection: BrokerConnection; listen: string; listen_routing: string; listen_exchange: string } | null;
}

/** The connector's registration and queues; null when the platform does not know this id. */
export async function readConnectorRegistration(gql: Gql, id: string): Promise<ConnectorRegistration | null> {
  return (await gql.request<{ connector: ConnectorRegistration | null }>(OPERATOR_CONNECTOR, { id })).connector;
}

export interface CoverageListNode {
  id: string;
  standard_id: string;
  name: string;
  coverage_valid_to: string | null;
  auto_enrichment_disable?: boolean | null;
  objectCovered: { id: string; standard_id: string } | null;
}

/** One page of coverages with their validity end and covered entity (retrigger selections). */
export async function listCoverageRefs(gql: Gql, page: { first: number; after?: string | null }): Promise<CoverageConnection<CoverageListNode> | null> {
  const data = await gql.request<{ securityCoverages: CoverageConnection<CoverageListNode> | null }>(OPERATOR_COVERAGES, {
    first: page.first,
    after: page.after ?? null,
  });
  return data.securityCoverages;
}

export interface CoverageBundle {
  id: string;
  standard_id: string;
  name: string;
  coverage_valid_to?: string | null;
  coverage_information: { coverage_name: string; coverage_score: number }[] | null;
  /** The coverage as the platform would send it to the connector (a STIX bundle, JSON text). */
  toStixBundle: string | null;
}

/** The coverage with its STIX bundle; null when the platform has none with this id. */
export async function readCoverageBundle(gql: Gql, id: string): Promise<CoverageBundle | null> {
  return (await gql.request<{ securityCoverage: CoverageBundle | null }>(OPERATOR_COVERAGE_BUNDLE, { id })).securityCoverage;
}
