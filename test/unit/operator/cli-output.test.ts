import { PassThrough } from 'node:stream';
import { toQueuedMessage } from '../../../src/adapters/amqp/dlq-admin';
import type { StatusReport } from '../../../src/app/operator/operator';
import { formatDeadLetter, formatDeadLetterTable } from '../../../src/cli/dlq-command';
import { formatDiff, scoreDiff } from '../../../src/cli/assess-live';
import { createProgress, plainStep } from '../../../src/cli/progress';
import { formatStatus, somethingDown } from '../../../src/cli/status-command';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  return { stream, text: () => chunks.join('') };
}

describe('progress output', () => {
  it('prints plain lines off a terminal: every item for small totals', () => {
    const out = capture();
    const p = createProgress({ label: 'replay', total: 3, stream: out.stream, tty: false });
    p.tick('a');
    p.tick('b');
    p.tick('c');
    p.stop();
    expect(out.text()).toBe('replay: 1/3 a\nreplay: 2/3 b\nreplay: 3/3 c\n');
  });

  it('prints about twenty lines for a big total, always the last one', () => {
    const out = capture();
    const p = createProgress({ label: 'retrigger', total: 1000, stream: out.stream, tty: false });
    for (let i = 0; i < 1000; i++) p.tick();
    p.stop();
    const lines = out.text().trim().split('\n');
    expect(plainStep(1000)).toBe(50);
    expect(lines).toHaveLength(20);
    expect(lines[lines.length - 1]).toBe('retrigger: 1000/1000');
  });

  it('draws a bar on a terminal', () => {
    const out = capture();
    const tty = Object.assign(out.stream, { isTTY: true, columns: 100, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
    const p = createProgress({ label: 'replay', total: 5, stream: tty });
    for (let i = 0; i < 5; i++) p.tick();
    p.stop();
    expect(out.text()).toContain('replay [');
    expect(out.text()).toContain('5/5 100%');
    expect(out.text()).not.toContain('replay: 5/5');
  });

  it('says where it stopped when interrupted between steps', () => {
    const out = capture();
    const p = createProgress({ label: 'replay', total: 100, stream: out.stream, tty: false });
    for (let i = 0; i < 7; i++) p.tick();
    p.stop();
    p.stop();
    expect(out.text()).toBe('replay: 5/100\nreplay: 7/100\n');
  });
});

describe('status output', () => {
  const down: StatusReport = {
    connector: { id: 'c1', registered: true, active: true },
    platform: { url: 'http://opencti:8080', reachable: true },
    broker: { url: 'amqp://guest:***@127.0.0.1:1/%2F', reachable: false, error: 'connect ECONNREFUSED 127.0.0.1:1' },
    queues: { listen: { name: 'listen_c1' }, deadLetter: { name: 'listen_c1.dlq' } },
    daemon: { url: 'http://127.0.0.1:9464', reachable: false, error: 'fetch failed' },
  };

  it('reports a stopped broker as DOWN with the reason, and daemon figures as unknown', () => {
    const text = formatStatus(down);
    expect(text).toMatch(/broker\s+DOWN\s+amqp:\/\/guest:\*\*\*@127\.0\.0\.1:1\/%2F\s+\(connect ECONNREFUSED/);
    expect(text).toMatch(/listen queue\s+listen_c1: unknown/);
    expect(text).toMatch(/in-flight jobs\s+unknown \(daemon HTTP not reachable\)/);
    expect(text).toMatch(/scheduler leader\s+unknown \(daemon HTTP not reachable\)/);
    expect(text).toMatch(/last success\s+unknown \(daemon HTTP not reachable\)/);
    expect(somethingDown(down)).toBe(true);
  });

  it('shows depths and daemon figures when everything answers', () => {
    const up: StatusReport = {
      ...down,
      broker: { url: 'amqp://x', reachable: true },
      queues: { listen: { name: 'listen_c1', depth: 4 }, deadLetter: { name: 'listen_c1.dlq', depth: null } },
      daemon: { url: 'http://127.0.0.1:9464', reachable: true, status: { in_flight: 2, scheduler: { enabled: true, leader: false }, last_success: '2026-01-01T00:00:00.000Z' } },
    };
    const text = formatStatus(up, new Date('2026-01-01T03:00:00.000Z'));
    expect(text).toMatch(/listen queue\s+listen_c1: 4/);
    // Before the daemon's first start: the same words as `dlq list` (deadLetterQueueMissing).
    expect(text).toMatch(/dead-letter queue listen_c1\.dlq does not exist yet: no dead letter so far \(the daemon creates it when it first starts\)/);
    expect(text).toMatch(/in-flight jobs\s+2/);
    expect(text).toMatch(/scheduler leader\s+no/);
    expect(text).toMatch(/last success\s+2026-01-01 00:00Z \(3 hours ago\)$/m);
    expect(somethingDown(up)).toBe(false);
  });
});

describe('dead-letter output', () => {
  const body = Buffer.from(JSON.stringify({ internal: { work_id: 'w' }, event: { entity_id: 'security-coverage--1', stix_objects: 'x'.repeat(5000) } }));
  const m = toQueuedMessage({
    content: body,
    properties: { headers: { 'x-error-code': 'MESSAGE_INVALID', 'x-error-reason': 'bad\nformat', 'x-attempts': 1, 'x-coverage-id': 'security-coverage--1' } } as never,
  });

  it('lists one row per dead letter with code, attempts and a one-line reason', () => {
    const text = formatDeadLetterTable([m]);
    const [head, row, total] = text.trim().split('\n');
    expect(head).toMatch(/^ID\s+COVERAGE\s+CODE\s+ATTEMPTS\s+FIRST FAILURE\s+LAST FAILURE\s+REASON$/);
    expect(row).toContain('MESSAGE_INVALID');
    expect(row).toContain('bad format');
    expect(total).toBe('1 dead letter(s)');
    expect(formatDeadLetterTable([])).toBe('the dead-letter queue is empty\n');
  });

  it('shows failure times relative to now in the table and with the minute in `show`', () => {
    const failed = { ...m, firstFailure: '2026-02-01T10:00:00.000Z', lastFailure: '2026-02-01T11:30:00.000Z' };
    const now = new Date('2026-02-01T12:00:00.000Z');
    expect(formatDeadLetterTable([failed], now).split('\n')[1]).toMatch(/\s2 hours ago\s+30 minutes ago\s/);
    expect(formatDeadLetter(failed, false, now)).toContain('last failure:   2026-02-01 11:30Z (30 minutes ago)');
  });

  it('shows the body with stix_objects elided unless --full', () => {
    expect(formatDeadLetter(m, false)).toContain('<5000 characters; --full shows them>');
    expect(formatDeadLetter(m, true)).toContain('x'.repeat(5000));
  });
});

describe('dry-run score diff', () => {
  const scores = (d: number, p: number) => [
    { name: 'DETECTION', score: d },
    { name: 'PREVENTION', score: p },
  ];
  const bundle = {
    type: 'bundle' as const,
    id: 'bundle--1',
    objects: [
      { type: 'security-coverage', id: 'security-coverage--1', coverage: scores(50, 20) },
      { type: 'relationship', id: 'relationship--a', relationship_type: 'has-covered', target_ref: 'attack-pattern--a', coverage: scores(50, 20) },
    ],
  };

  it('lists changed coverage scores, new and gone has-covered, and nothing that stays equal', () => {
    const changes = scoreDiff(scores(40, 20), [{ id: 'r1', standardId: 'relationship--b', stixIds: [], targetId: 'attack-pattern--b', scores: scores(10, 0) }], bundle as never);
    expect(changes).toEqual([
      { target: 'coverage', before: scores(40, 20), after: scores(50, 20) },
      { target: 'attack-pattern--a', before: null, after: scores(50, 20) },
      { target: 'attack-pattern--b', before: scores(10, 0), after: null },
    ]);
    expect(scoreDiff(scores(50, 20), [{ id: 'r2', standardId: 'relationship--a', stixIds: [], targetId: 'attack-pattern--a', scores: scores(50, 20) }], bundle as never)).toEqual([]);
    expect(formatDiff(changes, new Map([['attack-pattern--a', 'T1059 Command and Scripting Interpreter']]))).toBe(
      '3 change(s) the daemon would push:\n' +
        '  coverage: DETECTION 40, PREVENTION 20 -> DETECTION 50, PREVENTION 20\n' +
        '  T1059 Command and Scripting Interpreter: (none) -> DETECTION 50, PREVENTION 20\n' +
        '  attack-pattern--b: DETECTION 10, PREVENTION 0 -> (none)\n',
    );
  });
});
