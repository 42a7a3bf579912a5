import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bodyHash, bodyId, deadLetterHeaders, messageKey, priorFailures, readDeadLetterHeaders, type DeadLetterInfo } from '../../src/adapters/amqp/dead-letter';
import { toQueuedMessage } from '../../src/adapters/amqp/dlq-admin';
import { PROJECT_DIR } from '../support/env';

/** One codec of the dead-letter headers (written by the worker, read by the worker and the dlq commands). */
describe('dead-letter codec', () => {
  const info: DeadLetterInfo = {
    code: 'PLATFORM_REJECTED',
    reason: 'bundle refused',
    attempts: 3,
    firstFailure: new Date('2026-01-01T00:00:00Z'),
    lastFailure: new Date('2026-01-01T00:05:00Z'),
    originalQueue: 'listen_x',
    workId: 'w-1',
    coverageId: 'security-coverage--1',
    key: 'id:m-1',
  };

  it('reads back what it writes, Buffers included (AMQP hands some strings back as bytes)', () => {
    const written = deadLetterHeaders({ other: 1 }, info);
    const asBytes = Object.fromEntries(Object.entries(written).map(([k, v]) => [k, typeof v === 'string' ? Buffer.from(v) : v]));
    for (const headers of [written, asBytes]) {
      expect(readDeadLetterHeaders(headers)).toEqual({
        code: 'PLATFORM_REJECTED',
        reason: 'bundle refused',
        attempts: 3,
        firstFailure: '2026-01-01T00:00:00.000Z',
        lastFailure: '2026-01-01T00:05:00.000Z',
        originalQueue: 'listen_x',
        workId: 'w-1',
        coverageId: 'security-coverage--1',
        replays: 0,
      });
      expect(priorFailures(headers)).toEqual({ attempts: 3, firstFailure: info.firstFailure });
    }
  });

  it('names a body the same way for the worker and the dlq listing', () => {
    const body = Buffer.from('{"a":1}');
    expect(bodyId(body)).toBe(`sha-${bodyHash(body).slice(0, 12)}`);
    expect(messageKey(undefined, body)).toBe(`sha256:${bodyHash(body)}`);
    expect(messageKey('m-1', body)).toBe('id:m-1');
    expect(toQueuedMessage({ content: body, properties: { headers: {} } as never }).id).toBe(bodyId(body));
  });

  it('is the only reader: the worker imports neither the operator module nor the job it runs', () => {
    const worker = readFileSync(join(PROJECT_DIR, 'src/app/worker.ts'), 'utf8');
    expect(worker).not.toMatch(/from '\.\.\/adapters\/amqp\/dlq-admin'/);
    // Type-only imports of the job's shapes are fine; the job itself arrives as WorkerOptions.job.
    expect(worker).not.toMatch(/^import \{[^}]*\brunEnrichment\b[^}]*\} from '\.\/enrichment-job'/m);
    expect(worker).not.toMatch(/^import (?!type)[^;]*from '\.\/enrichment-job'/m);
    const admin = readFileSync(join(PROJECT_DIR, 'src/adapters/amqp/dlq-admin.ts'), 'utf8');
    expect(admin).not.toMatch(/'x-(attempts|error-code|first-failure)'/);
  });
});
