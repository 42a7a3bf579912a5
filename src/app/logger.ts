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

export interface LoggerOptions {
  /**
   * Secret values (tokens, passwords) replaced by [Redacted] wherever they appear in a line, also
   * inside messages: path redaction cannot catch a token that a platform error or a library echoes
   * in free text (added by RELIABILITY; test/unit/security/secrets-in-logs.test.ts).
   */
  secrets?: ReadonlyArray<string | undefined>;
}

/** Shorter values are not scrubbed: they would mangle ordinary words (and are not real secrets). */
const MIN_SCRUBBED_SECRET = 4;

/** Each secret in the forms it can take in a JSON log line: raw, JSON-escaped, URL-encoded. */
function secretForms(secrets: ReadonlyArray<string | undefined>): string[] {
  const forms = new Set<string>();
  for (const s of secrets) {
    if (typeof s !== 'string' || s.length < MIN_SCRUBBED_SECRET) continue;
    forms.add(s);
    forms.add(JSON.stringify(s).slice(1, -1));
    forms.add(encodeURIComponent(s));
  }
  // Longest first, so a secret containing another is replaced whole.
  return [...forms].sort((a, b) => b.length - a.length);
}

/** The one root logger; built in main.ts (or the CLI) and passed down, never imported as a singleton. */
export function createLogger(level: string, destination?: DestinationStream, options: LoggerOptions = {}): Logger {
  const forms = secretForms(options.secrets ?? []);
  return pino(
    {
      level,
      base: { name: 'coverage-connector' },
      redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      ...(forms.length > 0 ? { hooks: { streamWrite: (line: string) => forms.reduce((out, f) => out.split(f).join('[Redacted]'), line) } } : {}),
    },
    destination as DestinationStream,
  );
}

export type { Logger };
