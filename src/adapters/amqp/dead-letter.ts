import type { Broker, DeliveryInfo } from './broker';

/**
 * Our own dead-letter queue (`<listen>.dlq`, config `mq.dead_letter_queue`): the platform's listen
 * queue has no DLX and must not be redeclared, so a message we give up on is re-published here, body
 * and messageId unchanged, with headers saying why (model: rascal `SubscriberError.forward`).
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
