import { EnrichmentMessageSchema } from '../../../schemas/message';
import { deadLetterHeaders, priorFailures } from '../../../src/adapters/amqp/dead-letter';
import { toQueuedMessage } from '../../../src/adapters/amqp/dlq-admin';
import { daemonUrlOf, manualEnrichmentMessage, selectCoverages } from '../../../src/app/operator/operator';
import { parseConfig } from '../../../src/app/config';

const COVERAGE = 'security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30';
const bundle = JSON.stringify({
  id: '6b2d5a0e-0000-4000-8000-000000000000',
  type: 'bundle',
  spec_version: '2.1',
  objects: [
    { id: COVERAGE, type: 'security-coverage', spec_version: '2.1', name: 'Cov', covered_ref: 'report--1' },
    { id: 'report--1', type: 'report', spec_version: '2.1', name: 'R' },
  ],
});

describe('manual re-trigger message', () => {
  it('has the platform manual shape (§3.3) and passes the worker message schema', () => {
    const body = manualEnrichmentMessage('work_1', COVERAGE, bundle);
    expect(body.internal).toEqual({ work_id: 'work_1', applicant_id: null, draft_id: null, trigger: 'update', mode: 'manual' });
    const parsed = EnrichmentMessageSchema.parse(body);
    expect(parsed.event.entity_id).toBe(COVERAGE);
    expect(parsed.event.entity_type).toBe('Security-Coverage');
    expect(parsed.event.stix_entity).toMatchObject({ id: COVERAGE, type: 'security-coverage', covered_ref: 'report--1' });
    expect(parsed.event.stix_objects?.map((o) => o.id)).toEqual([COVERAGE, 'report--1']);
  });

  it('refuses a bundle without the coverage', () => {
    expect(() => manualEnrichmentMessage('w', COVERAGE, JSON.stringify({ objects: [{ id: 'report--1', type: 'report' }] }))).toThrow('does not contain the coverage');
  });
});

describe('coverage selection', () => {
  const nodes = [
    { id: 'a', standard_id: 'security-coverage--a', name: 'A', coverage_valid_to: '2026-01-01T00:00:00Z', objectCovered: { id: 'r1', standard_id: 'report--1' } },
    { id: 'b', standard_id: 'security-coverage--b', name: 'B', coverage_valid_to: '2026-12-01T00:00:00Z', objectCovered: { id: 'r2', standard_id: 'report--2' } },
    { id: 'c', standard_id: 'security-coverage--c', name: 'C', coverage_valid_to: null, objectCovered: { id: 'i1', standard_id: 'intrusion-set--1' } },
  ];
  /** Pages of one coverage each, like a platform capping the page size at 1. */
  const gql = {
    calls: 0,
    async request<T>(_doc: string, vars?: Record<string, unknown>): Promise<T> {
      gql.calls += 1;
      const start = vars?.after ? Number(vars.after) + 1 : 0;
      const node = nodes[start];
      return { securityCoverages: { pageInfo: { endCursor: String(start), hasNextPage: start + 1 < nodes.length }, edges: node ? [{ node }] : [] } } as T;
    },
  };
  const now = new Date('2026-06-01T00:00:00Z');

  it('--stale picks only coverages whose valid_to has passed', async () => {
    expect((await selectCoverages(gql, { stale: true }, now)).map((c) => c.id)).toEqual(['a']);
  });

  it('--all picks every coverage, across pages', async () => {
    gql.calls = 0;
    expect((await selectCoverages(gql, { all: true }, now)).map((c) => c.id)).toEqual(['a', 'b', 'c']);
    expect(gql.calls).toBe(3);
  });

  it('--container matches the covered entity by internal or standard id', async () => {
    expect((await selectCoverages(gql, { container: 'intrusion-set--1' }, now)).map((c) => c.id)).toEqual(['c']);
    expect((await selectCoverages(gql, { container: 'r2' }, now)).map((c) => c.id)).toEqual(['b']);
  });

  it('explicit ids need no listing and are not repeated by a filter', async () => {
    gql.calls = 0;
    expect((await selectCoverages(gql, { ids: ['x'] }, now)).map((c) => c.id)).toEqual(['x']);
    expect(gql.calls).toBe(0);
    expect((await selectCoverages(gql, { ids: ['a'], stale: true }, now)).map((c) => c.id)).toEqual(['a']);
  });
});

describe('dead-letter headers read back', () => {
  const info = {
    code: 'ASSESSMENT_FAILED',
    reason: 'no attack pattern',
    attempts: 3,
    firstFailure: new Date('2026-02-01T10:00:00.000Z'),
    lastFailure: new Date('2026-02-01T10:05:00.000Z'),
    originalQueue: 'listen_x',
    workId: 'work_1',
    coverageId: COVERAGE,
  };

  it('parses every header the dead-letter publisher writes', () => {
    const m = toQueuedMessage({ content: Buffer.from('{}'), properties: { headers: deadLetterHeaders({}, info), messageId: 'm-1' } as never });
    expect(m).toMatchObject({
      id: 'm-1',
      code: 'ASSESSMENT_FAILED',
      reason: 'no attack pattern',
      attempts: 3,
      firstFailure: '2026-02-01T10:00:00.000Z',
      lastFailure: '2026-02-01T10:05:00.000Z',
      originalQueue: 'listen_x',
      workId: 'work_1',
      coverageId: COVERAGE,
      replays: 0,
      bytes: 2,
    });
  });

  it('gives a message without messageId a stable id from its body, distinct for distinct bodies', () => {
    const a1 = toQueuedMessage({ content: Buffer.from('{"a":1}'), properties: { headers: {} } as never });
    const a2 = toQueuedMessage({ content: Buffer.from('{"a":1}'), properties: { headers: {} } as never });
    const b = toQueuedMessage({ content: Buffer.from('{"a":2}'), properties: { headers: {} } as never });
    expect(a1.id).toMatch(/^sha-[0-9a-f]{12}$/);
    expect(a1.id).toBe(a2.id);
    expect(b.id).not.toBe(a1.id);
  });

  it('priorFailures gives the worker the attempts and first failure to continue from', () => {
    expect(priorFailures(deadLetterHeaders({}, info))).toEqual({ attempts: 3, firstFailure: info.firstFailure });
    expect(priorFailures({})).toEqual({ attempts: 0 });
    expect(priorFailures(undefined)).toEqual({ attempts: 0 });
    expect(priorFailures({ 'x-attempts': 'garbage', 'x-first-failure': 'not a date' })).toEqual({ attempts: 0 });
  });
});

describe('daemon URL', () => {
  it('uses the loopback address when the daemon listens on every interface', () => {
    expect(daemonUrlOf(parseConfig({ http: { port: 9464 } }))).toBe('http://127.0.0.1:9464');
    expect(daemonUrlOf(parseConfig({ http: { host: 'connector.local', port: 9000 } }))).toBe('http://connector.local:9000');
  });
});
