import type { BrokerConnection } from '../opencti/connector-api';

/** Local overrides of the broker address the platform returns (protocol §4, pitfall P10; pycti MQ_*). */
export interface BrokerOverrides {
  url?: string;
  host?: string;
  port?: number;
  vhost?: string;
  use_ssl?: boolean;
  user?: string;
  pass?: string;
}

/**
 * `amqp[s]://<user>:<pass>@<host>:<port>/<url-encoded vhost>` from the registration's
 * `config.connection`, each part overridable; a full `url` override wins over everything.
 */
export function brokerUrl(connection: BrokerConnection | undefined, overrides: BrokerOverrides = {}): string {
  if (overrides.url) return overrides.url;
  const host = overrides.host ?? connection?.host;
  if (!host) throw new Error('no broker host: the platform returned none and MQ_HOST is not set');
  const ssl = overrides.use_ssl ?? connection?.use_ssl ?? false;
  const port = overrides.port ?? connection?.port ?? (ssl ? 5671 : 5672);
  const vhost = overrides.vhost ?? connection?.vhost ?? '/';
  const user = overrides.user ?? connection?.user ?? 'guest';
  const pass = overrides.pass ?? connection?.pass ?? 'guest';
  const auth = `${encodeURIComponent(user)}:${encodeURIComponent(pass)}`;
  return `${ssl ? 'amqps' : 'amqp'}://${auth}@${host}:${port}/${encodeURIComponent(vhost)}`;
}

/** The same URL with the password hidden, for logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
