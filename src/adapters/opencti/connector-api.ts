import { PING_CONNECTOR, REGISTER_CONNECTOR } from './documents';
import type { GraphQLClient } from './graphql-client';

/** Registration and liveness (protocol §5.1/§5.2). */

export interface BrokerConnection {
  host: string;
  vhost: string;
  use_ssl: boolean;
  port: number;
  user: string;
  pass: string;
}

export interface ConnectorQueues {
  connection: BrokerConnection;
  listen: string;
  listen_routing: string;
  listen_exchange: string;
  push: string;
  push_routing: string;
  push_exchange: string;
  dead_letter_routing: string;
}

export interface Registration {
  id: string;
  connectorState: string | null;
  config: ConnectorQueues;
  /** The calling user: its identity and max confidence apply to every write (§5.1). */
  connectorUserId: string | null;
}

export interface RegisterOptions {
  id: string;
  name: string;
  scope: string[];
  auto: boolean;
  autoUpdate: boolean;
}

export interface PingResult {
  /** `""` after an operator's "reset state" (§5.2): adopt it. */
  connectorState: string | null;
}

export interface ConnectorApi {
  register(options: RegisterOptions): Promise<Registration>;
  ping(id: string, state: string | null): Promise<PingResult>;
}

interface RegisterAnswer {
  registerConnector: {
    id: string;
    connector_state: string | null;
    config: ConnectorQueues;
    connector_user_id: string | null;
  } | null;
}

interface PingAnswer {
  pingConnector: { id: string; connector_state: string | null } | null;
}

/** True when a ping failed because the platform no longer knows the connector (deleted): register again. */
export function isConnectorGone(err: unknown): boolean {
  return err instanceof Error && /no connector found/i.test(err.message);
}

export function createConnectorApi({ gql }: { gql: GraphQLClient }): ConnectorApi {
  return {
    async register(options) {
      const data = await gql.request<RegisterAnswer>(REGISTER_CONNECTOR, {
        input: {
          id: options.id,
          name: options.name,
          type: 'INTERNAL_ENRICHMENT',
          scope: options.scope,
          auto: options.auto,
          auto_update: options.autoUpdate,
          // stix_bundle: the message carries the container content (§3.4, pitfall P7).
          enrichment_resolution: 'stix_bundle',
          only_contextual: false,
          playbook_compatible: false,
          listen_callback_uri: null,
        },
      });
      const r = data.registerConnector;
      if (!r?.config) throw new Error(`registerConnector returned no configuration for ${options.id}`);
      return { id: r.id, connectorState: r.connector_state, config: r.config, connectorUserId: r.connector_user_id };
    },
    async ping(id, state) {
      const data = await gql.request<PingAnswer>(PING_CONNECTOR, {
        id,
        state,
        connectorInfo: {
          run_and_terminate: false,
          buffering: false,
          queue_threshold: 500,
          queue_messages_size: 0,
          next_run_datetime: null,
          last_run_datetime: null,
        },
      });
      if (!data.pingConnector) throw new Error(`No connector found with the specified ID ${id}`);
      return { connectorState: data.pingConnector.connector_state };
    },
  };
}
