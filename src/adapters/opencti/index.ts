import { createConnectorApi, type ConnectorApi } from './connector-api';
import { createCoverageApi, type CoverageApi } from './coverage-api';
import { createGraphQLClient, type GraphQLClient, type GraphQLClientOptions } from './graphql-client';
import { createWorkApi, type WorkApi } from './work-api';

export type { ConnectorApi, CoverageApi, GraphQLClient, WorkApi };
export { isConnectorGone } from './connector-api';
export type { Registration, ConnectorQueues, BrokerConnection } from './connector-api';
export type { CoverageState } from './coverage-api';
export { createPlatformProbe } from './platform-probe';

/** Everything the daemon needs from the platform, over one GraphQL client. No I/O until called. */
export interface OpenCtiClient {
  gql: GraphQLClient;
  connector: ConnectorApi;
  work: WorkApi;
  coverage: CoverageApi;
  close(): void;
}

export function createOpenCtiClient(options: GraphQLClientOptions & { pageSize?: number }): OpenCtiClient {
  const gql = createGraphQLClient(options);
  return {
    gql,
    connector: createConnectorApi({ gql }),
    work: createWorkApi({ gql }),
    coverage: createCoverageApi({ gql, ...(options.pageSize ? { pageSize: options.pageSize } : {}) }),
    close: () => gql.close(),
  };
}
