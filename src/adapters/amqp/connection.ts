import { readFileSync } from 'node:fs';
import { connect, type ChannelModel } from 'amqplib';
import { ConfigError } from '../../errors';

/**
 * The one way this connector opens an AMQP connection: the daemon's broker (which adds amqplib's
 * recovery), the scheduler's leader lock and the operator's queue admin all take their TLS trust and
 * connect timeout from here, so MQ_SSL_VERIFY / MQ_CA_FILE mean the same thing for each.
 */

export interface AmqpConnectionOptions {
  url: string;
  /** false: the broker's certificate is not verified (MQ_SSL_VERIFY=false, an explicit opt-out). */
  sslVerify?: boolean;
  /** PEM file of an extra CA (MQ_CA_FILE); read at each connect, so a renewed CA is picked up on reconnect. */
  caFile?: string;
  /** Socket connect timeout (default 10 s). */
  timeoutMs?: number;
  /** AMQP heartbeat the connection asks for (seconds); the broker's default when absent. */
  heartbeatSeconds?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** The socket and tuning options of amqplib.connect for these settings. */
export function amqpConnectOptions(options: Omit<AmqpConnectionOptions, 'url'>): Record<string, unknown> {
  let ca: Buffer[] | undefined;
  if (options.caFile) {
    try {
      ca = [readFileSync(options.caFile)];
    } catch (err) {
      throw new ConfigError(`MQ_CA_FILE (mq.ca_file): cannot read ${options.caFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
  }
  return {
    ...(options.sslVerify === false ? { rejectUnauthorized: false } : {}),
    ...(ca ? { ca } : {}),
    timeout: options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    ...(options.heartbeatSeconds !== undefined ? { heartbeat: options.heartbeatSeconds } : {}),
  };
}

/** A plain connection (no automatic recovery: the caller decides what a loss means). */
export function connectAmqp(options: AmqpConnectionOptions): Promise<ChannelModel> {
  return connect(options.url, amqpConnectOptions(options));
}
