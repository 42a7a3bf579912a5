import type { Config } from '../../schemas/config';
import type { GraphQLClientOptions } from '../adapters/opencti/graphql-client';

/** GraphQL client settings from the configuration: the daemon, the scheduler CLI and the operator commands share them. */
export function platformClientOptionsOf(config: Readonly<Config>): GraphQLClientOptions {
  return {
    url: config.opencti.url as string,
    token: config.opencti.token as string,
    timeoutMs: config.opencti.timeout_ms,
    sslVerify: config.opencti.ssl_verify,
    ...(config.opencti.ca_file ? { caFile: config.opencti.ca_file } : {}),
  };
}
