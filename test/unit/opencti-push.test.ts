import { newPushProgress, pushBundle, pushOrder } from '../../src/app/result-pusher';
import type { StixBundle } from '../../src/domain/stix/stix-types';
import { brokerUrl, redactUrl } from '../../src/adapters/amqp/connection-url';
import { clipReason, deadLetterHeaders } from '../../src/adapters/amqp/dead-letter';
import { pushMessageBody } from '../../src/adapters/amqp/push-publisher';

const bundle: StixBundle = {
  type: 'bundle',
  id: 'bundle--1',
  objects: [
    { type: 'relationship', id: 'relationship--a', relationship_type: 'has-covered' },
    { type: 'security-coverage', id: 'security-coverage--c' },
    { type: 'identity', id: 'identity--p' },
    { type: 'relationship', id: 'relationship--b', relationship_type: 'has-covered' },
  ],
};

describe('pushBundle (one-object bundles, expectations added once)', () => {
  it('adds N expectations once, then pushes entities before relationships, one object per bundle', async () => {
    const events: string[] = [];
    const progress = newPushProgress();
    const n = await pushBundle(bundle, {
      workId: 'w',
      progress,
      addExpectations: async (_w, count) => void events.push(`expect ${count}`),
      pushOne: async (b) => void events.push(`push ${b.objects.length}:${b.objects[0].id}`),
    });
    expect(n).toBe(4);
    expect(events).toEqual(['expect 4', 'push 1:security-coverage--c', 'push 1:identity--p', 'push 1:relationship--a', 'push 1:relationship--b']);
  });

  it('on a retry pushes only what is left and never adds expectations twice', async () => {
    const progress = newPushProgress();
    const expectations: number[] = [];
    let calls = 0;
    const failing = async (): Promise<void> => {
      calls += 1;
      if (calls === 2) throw new Error('HTTP 502');
    };
    await expect(pushBundle(bundle, { workId: 'w', progress, addExpectations: async (_w, c) => void expectations.push(c), pushOne: failing })).rejects.toThrow('502');
    const pushed: string[] = [];
    await pushBundle(bundle, { workId: 'w', progress, addExpectations: async (_w, c) => void expectations.push(c), pushOne: async (b) => void pushed.push(b.objects[0].id) });
    expect(expectations).toEqual([4]);
    expect(pushed).toEqual(['identity--p', 'relationship--a', 'relationship--b']);
    // A later bundle with one more object adds exactly one expectation.
    const bigger: StixBundle = { ...bundle, objects: [...bundle.objects, { type: 'relationship', id: 'relationship--new' }] };
    await pushBundle(bigger, { workId: 'w', progress, addExpectations: async (_w, c) => void expectations.push(c), pushOne: async () => undefined });
    expect(expectations).toEqual([4, 1]);
  });

  it('pushes relationships with bounded parallelism, only after every entity, and keeps progress when one fails', async () => {
    const rels = Array.from({ length: 12 }, (_, i) => ({ type: 'relationship', id: `relationship--${i}` }));
    const big = { type: 'bundle' as const, id: 'bundle--p', objects: [...rels, { type: 'security-coverage', id: 'security-coverage--c' }] };
    let inFlight = 0;
    let peak = 0;
    const order: string[] = [];
    const pushOne = async (b: { objects: Array<{ id: string }> }): Promise<void> => {
      const id = b.objects[0].id;
      order.push(id);
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight -= 1;
      if (id === 'relationship--5') throw new Error('502');
    };
    const progress = newPushProgress();
    await expect(pushBundle(big, { workId: 'w', progress, parallelism: 4, addExpectations: async () => undefined, pushOne })).rejects.toThrow('502');
    expect(order[0]).toBe('security-coverage--c');
    expect(peak).toBe(4);
    expect(progress.pushed.size).toBe(12); // everything but the failed relationship
    expect(progress.pushed.has('relationship--5')).toBe(false);
  });

  it('adds no expectations without a work id', async () => {
    const add = jest.fn();
    await pushBundle(bundle, { workId: null, progress: newPushProgress(), addExpectations: add, pushOne: async () => undefined });
    expect(add).not.toHaveBeenCalled();
  });

  it('orders entities before relationships, keeping the relative order', () => {
    expect(pushOrder(bundle.objects).map((o) => o.id)).toEqual(['security-coverage--c', 'identity--p', 'relationship--a', 'relationship--b']);
  });
});

describe('broker addressing', () => {
  const connection = { host: 'rabbitmq', vhost: '/', use_ssl: false, port: 5672, user: 'opencti', pass: 'p@ss/word' };

  it('builds the AMQP URI from the registration, vhost and credentials encoded', () => {
    expect(brokerUrl(connection)).toBe('amqp://opencti:p%40ss%2Fword@rabbitmq:5672/%2F');
  });

  it('lets MQ_* override each part and a full URL override everything', () => {
    expect(brokerUrl(connection, { host: 'localhost', port: 5671, use_ssl: true, vhost: 'octi', user: 'u', pass: 'p' })).toBe('amqps://u:p@localhost:5671/octi');
    expect(brokerUrl(connection, { url: 'amqp://x:y@z:1/v' })).toBe('amqp://x:y@z:1/v');
  });

  it('hides the password in logs', () => {
    expect(redactUrl('amqp://opencti:secret@rabbitmq:5672/%2F')).toBe('amqp://opencti:***@rabbitmq:5672/%2F');
  });
});

describe('dead-letter headers', () => {
  it('keep the original headers and add the failure details', () => {
    const h = deadLetterHeaders({ 'x-custom': 1 }, {
      code: 'MESSAGE_INVALID',
      reason: 'bad',
      attempts: 2,
      firstFailure: new Date('2026-02-12T10:00:00Z'),
      lastFailure: new Date('2026-02-12T10:00:05Z'),
      originalQueue: 'listen_x',
      workId: 'work_1',
    });
    expect(h).toEqual({
      'x-custom': 1,
      'x-error-code': 'MESSAGE_INVALID',
      'x-error-reason': 'bad',
      'x-attempts': 2,
      'x-first-failure': '2026-02-12T10:00:00.000Z',
      'x-last-failure': '2026-02-12T10:00:05.000Z',
      'x-original-queue': 'listen_x',
      'x-work-id': 'work_1',
    });
  });

  it('clip the reason to 1 KiB without splitting a UTF-8 character', () => {
    const long = 'é'.repeat(2000);
    const clipped = clipReason(long);
    expect(Buffer.byteLength(clipped, 'utf8')).toBeLessThanOrEqual(1024);
    expect(clipped.endsWith('…')).toBe(true);
    expect(clipped).not.toContain('\uFFFD');
    expect(clipReason('short')).toBe('short');
  });
});

describe('push message (push_mode=amqp)', () => {
  it('has the shape the platform worker reads (§6.1)', () => {
    const body = pushMessageBody(bundle, { exchange: 'e', routingKey: 'r', applicantId: 'user-1' }, { workId: 'work_1', draftId: null });
    expect(body).toMatchObject({ type: 'bundle', applicant_id: 'user-1', work_id: 'work_1', draft_id: null, entities_types: [], update: true });
    expect(JSON.parse(Buffer.from(String(body.content), 'base64').toString('utf8'))).toEqual(bundle);
  });
});
