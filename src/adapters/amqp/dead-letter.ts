import { createHash } from 'node:crypto';
import type { Broker, DeliveryInfo } from './broker';

/**
 * Our own dead-letter queue (`<listen>.dlq`, config `mq.dead_letter_queue`): the platform's listen
 * queue has no DLX and must not be redeclared, so a message we give up on is re-published here, body
 * and messageId unchanged, with headers saying why (model: rascal `SubscriberError.forward`).
 * This module is the one codec of those headers: the worker writes them and reads back a replayed
 * message's attempts, the operator's dlq commands read them; and the one identity of a message body.
 */

export interface DeadLetterInfo {
  code: string;
  reason: string;
  attempts: number;
  firstFailure: Date;
  lastFailure: Date;
  originalQueue: string;
  workId?: string;
  coverageId?: string;
  /** Identity of the original message (message id or body hash), to find its dead letter again. */
  key?: string;
}

/** Header carrying DeadLetterInfo.key: how a redelivered copy finds out it was already dead-lettered. */
export const DEAD_LETTER_KEY_HEADER = 'x-dead-letter-key';

export const MAX_REASON_BYTES = 1024;

/** Cuts a reason to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function clipReason(reason: string, maxBytes = MAX_REASON_BYTES): string {
  const bytes = Buffer.from(reason, 'utf8');
  if (bytes.length <= maxBytes) return reason;
  let end = maxBytes - 3; // room for "…"
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return `${bytes.subarray(0, end).toString('utf8')}…`;
}

export function deadLetterHeaders(original: Record<string, unknown>, info: DeadLetterInfo): Record<string, unknown> {
  return {
    ...original,
    'x-error-code': info.code,
    'x-error-reason': clipReason(info.reason),
    'x-attempts': info.attempts,
    'x-first-failure': info.firstFailure.toISOString(),
    'x-last-failure': info.lastFailure.toISOString(),
    'x-original-queue': info.originalQueue,
    ...(info.workId ? { 'x-work-id': info.workId } : {}),
    ...(info.coverageId ? { 'x-coverage-id': info.coverageId } : {}),
    ...(info.key ? { [DEAD_LETTER_KEY_HEADER]: info.key } : {}),
  };
}

const str = (v: unknown): string | undefined => {
  if (typeof v === 'string' && v !== '') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return undefined;
};
const int = (v: unknown): number => {
  const n = typeof v === 'number' ? v : Number(str(v));
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
};

/** The dead-letter headers of a message as read back (AMQP may hand strings back as Buffers). */
export interface DeadLetterRecord {
  code?: string;
  reason?: string;
  /** `x-attempts` (0 when absent). */
  attempts: number;
  firstFailure?: string;
  lastFailure?: string;
  originalQueue?: string;
  workId?: string;
  coverageId?: string;
  /** How many times an operator replayed it already (`x-replays`). */
  replays: number;
}

export function readDeadLetterHeaders(headers: Record<string, unknown> | undefined): DeadLetterRecord {
  const h = headers ?? {};
  const opt = <K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> => (value ? ({ [key]: value } as Record<K, string>) : {});
  return {
    ...opt('code', str(h['x-error-code'])),
    ...opt('reason', str(h['x-error-reason'])),
    attempts: int(h['x-attempts']),
    ...opt('firstFailure', str(h['x-first-failure'])),
    ...opt('lastFailure', str(h['x-last-failure'])),
    ...opt('originalQueue', str(h['x-original-queue'])),
    ...opt('workId', str(h['x-work-id'])),
    ...opt('coverageId', str(h['x-coverage-id'])),
    replays: int(h['x-replays']),
  };
}

/**
 * What an earlier dead-lettering recorded on a message (`x-attempts`, `x-first-failure`): a replayed
 * dead letter carries them, and the worker keeps counting from there.
 */
export function priorFailures(headers: Record<string, unknown> | undefined): { attempts: number; firstFailure?: Date } {
  const { attempts, firstFailure } = readDeadLetterHeaders(headers);
  const date = firstFailure ? new Date(firstFailure) : undefined;
  return { attempts, ...(date && !Number.isNaN(date.getTime()) ? { firstFailure: date } : {}) };
}

/** SHA-256 of a body, hex: the identity of a message its publisher gave no id. */
export function bodyHash(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

/** Short form of bodyHash for listings and `dlq replay <id>`: `sha-` + 12 hex (stable across reads). */
export function bodyId(body: Buffer): string {
  return `sha-${bodyHash(body).slice(0, 12)}`;
}

/**
 * The key the worker counts attempts by and writes in DEAD_LETTER_KEY_HEADER: the message id, else the
 * full body hash (the short bodyId could collide across many messages, and a collision here would ack a
 * message as already dead-lettered).
 */
export function messageKey(messageId: string | undefined, body: Buffer): string {
  return messageId ? `id:${messageId}` : `sha256:${bodyHash(body)}`;
}

export type DeadLetterPublisher = (delivery: DeliveryInfo, info: DeadLetterInfo) => Promise<void>;

/** Publishes on the broker's confirm channel; resolves only once RabbitMQ confirmed. */
export function createDeadLetterPublisher(broker: Pick<Broker, 'publishDeadLetter'>): DeadLetterPublisher {
  return async (delivery, info) => {
    const p = delivery.properties;
    await broker.publishDeadLetter(delivery.content, {
      persistent: true,
      headers: deadLetterHeaders(delivery.headers, info),
      ...(p.messageId ? { messageId: p.messageId as string } : {}),
      ...(p.contentType ? { contentType: p.contentType as string } : {}),
      ...(p.contentEncoding ? { contentEncoding: p.contentEncoding as string } : {}),
      ...(p.timestamp ? { timestamp: p.timestamp as number } : {}),
      ...(p.correlationId ? { correlationId: p.correlationId as string } : {}),
    });
  };
}
