/**
 * Secret scrubbing for free text: log lines, error messages, the fatal-exit line. Path-based log
 * redaction cannot catch a token that a platform error or a library echoes inside a message, so every
 * text that may leave the process goes through here. Used by the logger and by the adapters that hold
 * a secret (the GraphQL client scrubs its own token from every error it builds).
 */

export const REDACTED = '[Redacted]';

/** Shorter values are not scrubbed: they would mangle ordinary words (and are not real secrets). */
export const MIN_SCRUBBED_SECRET = 4;

/**
 * Credentials in an `Authorization` header echoed as text, whatever the secret: `Bearer <x>`,
 * `Basic <x>`, `ApiKey <x>`. Catches tokens we were not told about (a header dump of another client).
 */
const AUTH_SCHEME = /\b(Bearer|Basic|ApiKey)(\s+|%20|\\u0020)([A-Za-z0-9\-._~+/=:%]{4,})/gi;

/** Each secret in the forms it can take in a JSON log line or a URL: raw, JSON-escaped, URL-encoded. */
export function secretForms(secrets: ReadonlyArray<string | undefined | null>): string[] {
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

/** A scrubber for a fixed set of secrets (forms computed once). */
export function createRedactor(secrets: ReadonlyArray<string | undefined | null>): (text: string) => string {
  const forms = secretForms(secrets);
  return (text) => {
    let out = text;
    for (const f of forms) if (out.includes(f)) out = out.split(f).join(REDACTED);
    return out.replace(AUTH_SCHEME, (_m, scheme: string, space: string) => `${scheme}${space}${REDACTED}`);
  };
}

/** `text` with every secret and every echoed Authorization credential replaced by [Redacted]. */
export function redactText(text: string, secrets: ReadonlyArray<string | undefined | null> = []): string {
  return createRedactor(secrets)(text);
}

/**
 * The same error with its message (and its cause's messages) scrubbed, so whoever prints it — a log
 * line, the CLI's fatal-exit line, Node's uncaught-exception printer — cannot print a secret.
 * Scrubs in place (the class and `code` stay, so decisions on the error are unchanged).
 */
export function redactError<T>(err: T, secrets: ReadonlyArray<string | undefined | null>): T {
  const redact = createRedactor(secrets);
  const seen = new Set<unknown>();
  let current: unknown = err;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    try {
      current.message = redact(current.message);
      if (typeof current.stack === 'string') current.stack = redact(current.stack);
    } catch {
      /* frozen error: leave it; the logger scrubs its line anyway */
    }
    current = (current as { cause?: unknown }).cause;
  }
  return err;
}
