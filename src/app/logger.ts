import pino, { type Logger, type DestinationStream } from 'pino';

/** Paths pino replaces with [Redacted] wherever they appear in a log line. */
export const REDACT_PATHS = [
  'opencti.token',
  'mq.pass',
  'config.opencti.token',
  'config.mq.pass',
  'token',
  'password',
  'pass',
  'apiKey',
  'api_key',
  '*.token',
  '*.pass',
  '*.password',
  '*.authorization',
  '*.Authorization',
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
];

/** The one root logger; built in main.ts (or the CLI) and passed down, never imported as a singleton. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { name: 'coverage-connector' },
      redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

export type { Logger };
