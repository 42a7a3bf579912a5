import { PassThrough } from 'node:stream';
import { toQueuedMessage } from '../../../src/adapters/amqp/dlq-admin';
import type { StatusReport } from '../../../src/app/operator';
import { formatDeadLetter, formatDeadLetterTable } from '../../../src/cli/dlq-command';
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
    const text = formatStatus(up);
    expect(text).toMatch(/listen queue\s+listen_c1: 4/);
    expect(text).toMatch(/dead-letter queue\s+listen_c1\.dlq: missing/);
    expect(text).toMatch(/in-flight jobs\s+2/);
    expect(text).toMatch(/scheduler leader\s+no/);
    expect(text).toMatch(/last success\s+2026-01-01T00:00:00.000Z/);
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

  it('shows the body with stix_objects elided unless --full', () => {
    expect(formatDeadLetter(m, false)).toContain('<5000 characters; --full shows them>');
    expect(formatDeadLetter(m, true)).toContain('x'.repeat(5000));
  });
});
