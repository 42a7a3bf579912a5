import pino, { type Logger, type DestinationStream } from 'pino';
import { createRedactor, redactError, redactText } from '../redact';

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

export interface LoggerOptions {
  /**
   * Secret values (tokens, passwords) replaced by [Redacted] wherever they appear in a line, also
   * inside messages: path redaction cannot catch a token that a platform error or a library echoes
   * in free text (test/unit/security/secrets-in-logs.test.ts). Echoed `Authorization` credentials
   * (`Bearer <x>`) are scrubbed even when the secret is not listed.
   */
  secrets?: ReadonlyArray<string | undefined>;
}

/** The one root logger; built in main.ts (or the CLI) and passed down, never imported as a singleton. */
export function createLogger(level: string, destination?: DestinationStream, options: LoggerOptions = {}): Logger {
  const redact = createRedactor(options.secrets ?? []);
  return pino(
    {
      level,
      base: { name: 'coverage-connector' },
      redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: { streamWrite: redact },
    },
    destination as DestinationStream,
  );
}

export interface ProcessGuards {
  /** Removes the handlers (idempotent). */
  remove(): void;
}

/**
 * Routes uncaught exceptions and unhandled rejections through `log` (so through its scrubbing) instead
 * of Node's default printer, which writes the raw message and stack to stderr. An uncaught exception
 * leaves the process in an unknown state: `onFatal` is called (the daemon closes and exits 1).
 * Installed by the daemon only when it built its own logger (the `run` command), never in tests.
 */
export function installProcessGuards(log: Logger, secrets: ReadonlyArray<string | undefined>, onFatal: (err: unknown) => void): ProcessGuards {
  const scrub = (err: unknown): unknown => (err instanceof Error ? redactError(err, secrets) : redactText(String(err), secrets));
  const onException = (err: unknown): void => {
    log.fatal({ err: scrub(err) }, 'uncaught exception; stopping');
    onFatal(err);
  };
  const onRejection = (reason: unknown): void => {
    // A forgotten promise somewhere: logged, the daemon keeps running (its own paths settle every message).
    log.error({ err: scrub(reason) }, 'unhandled promise rejection');
  };
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  let removed = false;
  return {
    remove() {
      if (removed) return;
      removed = true;
      process.off('uncaughtException', onException);
      process.off('unhandledRejection', onRejection);
    },
  };
}

export type { Logger };
