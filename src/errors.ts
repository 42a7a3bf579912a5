/**
 * Error catalogue. Every error the connector raises on purpose is a ConnectorError with a stable
 * `code`; `retryable` decides the path once (see src/app/outcome.ts). The README lists every code
 * (a test enforces it).
 */
export class ConnectorError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryable: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad configuration: stops startup. The message names the variable. */
export class ConfigError extends ConnectorError {
  constructor(message: string, options?: ErrorOptions) {
    super('CONFIG_INVALID', message, false, options);
  }
}

/** A message that can never be processed (bad JSON, wrong types, unknown entity): dead-lettered at once. */
export class InvalidMessageError extends ConnectorError {
  constructor(message: string, options?: ErrorOptions) {
    super('MESSAGE_INVALID', message, false, options);
  }
}

/** The request is well-formed but cannot be assessed (no attack patterns, too many techniques…). */
export class AssessmentError extends ConnectorError {
  constructor(message: string, code: Extract<ErrorCode, 'ASSESSMENT_FAILED' | 'NO_ATTACK_PATTERNS'> = 'ASSESSMENT_FAILED', options?: ErrorOptions) {
    super(code, message, false, options);
  }
}

/** The platform (or a backend) is unreachable, slow or answered 5xx: retried with backoff. */
export class PlatformUnavailableError extends ConnectorError {
  constructor(message: string, options?: ErrorOptions) {
    super('PLATFORM_UNAVAILABLE', message, true, options);
  }
}

/**
 * The platform cannot be talked to because of a setting, not an outage: the URL answers something that
 * is not the GraphQL API (an HTML page, a wrong path), or its TLS certificate is not trusted. `setting`
 * names the variable to fix. Retried like an outage while running (a proxy may serve a page for a
 * moment); at startup it stops the daemon as a configuration error naming the variable.
 */
export class PlatformSettingError extends PlatformUnavailableError {
  constructor(
    readonly setting: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The platform rejected the token (HTTP 401, AUTH_REQUIRED): a platform-wide condition, not the
 * message's fault. The circuit breaker opens and nothing is dead-lettered for it; at startup it stops.
 */
export class PlatformAuthError extends ConnectorError {
  constructor(message: string, options?: ErrorOptions) {
    super('PLATFORM_AUTH', message, false, options);
  }
}

/** The connector user lacks a permission for this request (HTTP 403, FORBIDDEN_ACCESS): dead-lettered. */
export class PlatformForbiddenError extends ConnectorError {
  constructor(message: string, options?: ErrorOptions) {
    super('PLATFORM_FORBIDDEN', message, false, options);
  }
}

/** Not sent: the platform circuit breaker is open (outage or rejected token). Requeued, no attempt spent. */
export class PlatformCircuitOpenError extends ConnectorError {
  constructor(message: string, options?: ErrorOptions) {
    super('PLATFORM_CIRCUIT_OPEN', message, true, options);
  }
}

/** A job ran past WORKER_JOB_TIMEOUT_MS: aborted and retried like a transient failure. */
export class JobTimeoutError extends ConnectorError {
  constructor(message: string, options?: ErrorOptions) {
    super('JOB_TIMEOUT', message, true, options);
  }
}

/** The platform answered, but with an error for this request (GraphQL error, invalid bundle). */
export class PlatformRejectedError extends ConnectorError {
  constructor(message: string, options?: ErrorOptions) {
    super('PLATFORM_REJECTED', message, false, options);
  }
}

/** Broker channel or connection trouble: retried. */
export class BrokerError extends ConnectorError {
  constructor(message: string, options?: ErrorOptions) {
    super('BROKER_UNAVAILABLE', message, true, options);
  }
}

/** A simulation backend (OpenAEV, SIEM) failed; `retryable` as the backend decides. */
export class BackendError extends ConnectorError {
  constructor(code: BackendErrorCode, message: string, retryable: boolean, options?: ErrorOptions) {
    super(code, message, retryable, options);
  }
}

/** An input is over a configured limit (message size, techniques per container, rule file size). */
export class LimitExceededError extends ConnectorError {
  constructor(message: string, options?: ErrorOptions) {
    super('LIMIT_EXCEEDED', message, false, options);
  }
}

/** SIGTERM/SIGINT arrived before the daemon was up (waiting for the platform or the broker): it stops, exit 1. */
export class StartupCancelledError extends ConnectorError {
  constructor(message: string, options?: ErrorOptions) {
    super('STARTUP_CANCELLED', message, false, options);
  }
}

/** Every code above, for docs and the README check. Add new codes here. */
export const ERROR_CODES = [
  'CONFIG_INVALID',
  'MESSAGE_INVALID',
  'ASSESSMENT_FAILED',
  'NO_ATTACK_PATTERNS',
  'PLATFORM_UNAVAILABLE',
  'PLATFORM_AUTH',
  'PLATFORM_FORBIDDEN',
  'PLATFORM_CIRCUIT_OPEN',
  'PLATFORM_REJECTED',
  'JOB_TIMEOUT',
  'STARTUP_CANCELLED',
  'BROKER_UNAVAILABLE',
  'LIMIT_EXCEEDED',
  // Anything that is not a ConnectorError (a bug, a library failure): retried, then dead-lettered.
  'UNEXPECTED',
  // Simulation backends (BackendError): *_UNREACHABLE is retried, the others are not.
  'OPENAEV_UNREACHABLE',
  'OPENAEV_AUTH',
  'OPENAEV_REJECTED',
  'SIEM_UNREACHABLE',
  'SIEM_AUTH',
  'SIEM_QUERY_FAILED',
  'EXECUTION_LOG_INVALID',
] as const;

/** A code of the catalogue; a code that is not in ERROR_CODES does not compile. */
export type ErrorCode = (typeof ERROR_CODES)[number];
export type BackendErrorCode = Extract<ErrorCode, `OPENAEV_${string}` | `SIEM_${string}` | 'EXECUTION_LOG_INVALID'>;

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && KNOWN_CODES.has(value);
}

export interface ClassifiedError {
  code: ErrorCode;
  retryable: boolean;
  reason: string;
}

/**
 * The one classifier: what a failure is called (logs, metrics, dead-letter headers, scheduler reports)
 * and whether waiting can heal it. Matches on `code` / `retryable` rather than `instanceof` only
 * (bullmq `shouldRetryJob`), so an error from another copy of this module decides the same way. Anything
 * else (a bug, a library's own code such as ECONNRESET) is UNEXPECTED and retryable: it may be a
 * transient socket reset inside a library; bounded retries, then the dead-letter queue.
 */
export function classifyError(err: unknown): ClassifiedError {
  const reason = errorMessageOf(err);
  if (err && typeof err === 'object') {
    const { code, retryable } = err as { code?: unknown; retryable?: unknown };
    // A catalogue code without its decision (a hand-made error) is retried like an unknown failure.
    if (isErrorCode(code)) return { code, retryable: typeof retryable === 'boolean' ? retryable : true, reason };
  }
  return { code: 'UNEXPECTED', retryable: true, reason };
}

export function errorCodeOf(err: unknown): ErrorCode {
  return classifyError(err).code;
}

export function errorMessageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
