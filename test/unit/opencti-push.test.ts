import { createPushCounting, newPushProgress, pushObjects, type PushOne, type ReceivedBy } from '../../src/app/result-pusher';
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

/** A work as the platform keeps it; `countsPushes` plays master (#17265), which counts one per pushed part. */
function fakeWork(countsPushes: boolean) {
  const state = { expected: 0, events: [] as string[] };
  return {
    state,
    work: {
      expected: async () => {
        state.events.push('read');
        return state.expected;
      },
      addExpectations: async (_w: string, n: number) => {
        state.expected += n;
        state.events.push(`add ${n}`);
      },
    },
    pushOne: async (b: StixBundle) => {
      state.events.push(`push ${b.objects.map((o) => o.id).join(',')}`);
      if (countsPushes) state.expected += b.objects.length;
    },
  };
}

/** `push`, except that pushing `id` fails once with `message`. */
function failingOnce(push: (b: StixBundle) => Promise<void>, id: string, message: string): (b: StixBundle) => Promise<void> {
  let failOn: string | undefined = id;
  return async (b) => {
    if (b.objects[0].id === failOn) {
      failOn = undefined;
      throw new Error(message);
    }
    await push(b);
  };
}

describe('pushObjects (one-object bundles; expectations settled from the work itself)', () => {
  it('pushes entities, then relationships, then the coverage last, one object per bundle', async () => {
    const f = fakeWork(false);
    const n = await pushObjects(bundle.objects, { workId: 'w', work: f.work, pushOne: f.pushOne, progress: newPushProgress() });
    expect(n).toBe(4);
    expect(f.state.events).toEqual(['read', 'push identity--p', 'push relationship--a', 'push relationship--b', 'push security-coverage--c', 'read', 'add 4']);
  });

  it('reads the work once, after pushing, when it knows the work held nothing of ours before (first delivery)', async () => {
    const f = fakeWork(true);
    const progress = { ...newPushProgress(), baseline: 0 };
    await pushObjects(bundle.objects, { workId: 'w', work: f.work, pushOne: f.pushOne, progress });
    expect(f.state.events.filter((e) => !e.startsWith('push'))).toEqual(['read']);
    expect(f.state.expected).toBe(4);
  });

  it.each([
    ['counts (master)', true],
    ['does not count (6.9, 7.2608)', false],
  ])('remembers that the platform %s: later runs skip the read, one in checkEvery reads again', async (_name, counts) => {
    const counting = createPushCounting(3);
    const f = fakeWork(counts);
    const run = async () => {
      const before = f.state.events.length;
      const progress = { ...newPushProgress(), baseline: f.state.expected };
      await pushObjects([bundle.objects[1]], { workId: 'w', work: f.work, pushOne: f.pushOne, progress, counting });
      return f.state.events.slice(before).filter((e) => !e.startsWith('push'));
    };
    const add = counts ? [] : ['add 1'];
    expect(await run()).toEqual(['read', ...add]);
    expect(await run()).toEqual(add);
    expect(await run()).toEqual(add);
    // The third run since it learned reads again (a platform upgraded underneath is noticed).
    expect(await run()).toEqual(['read', ...add]);
    expect(f.state.expected).toBe(4);
  });

  it('carries toReceived in the first write only: the first push, or the expectations of broker pushes', async () => {
    const f = fakeWork(false);
    let receiving = false;
    const receivedBy: ReceivedBy = async (write) => {
      if (receiving) return false;
      receiving = true;
      await write('started');
      return true;
    };
    const pushOne: PushOne = Object.assign(f.pushOne, { carrying: async (b: StixBundle, m: string) => {
      f.state.events.push(`received(${m})`);
      await f.pushOne(b);
    } });
    await pushObjects(bundle.objects.slice(0, 2), { workId: 'w', work: f.work, pushOne, progress: { ...newPushProgress(), baseline: 0 }, receivedBy });
    expect(f.state.events).toEqual(['received(started)', 'push relationship--a', 'push security-coverage--c', 'read', 'add 2']);

    const broker = fakeWork(false);
    receiving = false;
    const work = { ...broker.work, addExpectations: async (w: string, n: number, m?: string) => {
      if (m) broker.state.events.push(`received(${m})`);
      await broker.work.addExpectations(w, n);
    } };
    await pushObjects(bundle.objects.slice(0, 2), { workId: 'w', work, pushOne: broker.pushOne, progress: newPushProgress(), platformMayCount: false, receivedBy });
    expect(broker.state.events).toEqual(['push relationship--a', 'push security-coverage--c', 'received(started)', 'add 2']);
  });

  it('counts broker pushes without reading the work (no platform counts them), also across a failed attempt', async () => {
    const f = fakeWork(false);
    const progress = newPushProgress();
    const flaky = failingOnce(f.pushOne, 'relationship--b', 'channel closed');
    await expect(pushObjects(bundle.objects, { workId: 'w', work: f.work, pushOne: flaky, progress, platformMayCount: false })).rejects.toThrow('channel closed');
    await pushObjects(bundle.objects, { workId: 'w', work: f.work, pushOne: flaky, progress, platformMayCount: false });
    expect(f.state.events.filter((e) => !e.startsWith('push'))).toEqual(['add 2', 'add 2']);
    expect(f.state.expected).toBe(4);
  });

  it.each([
    ['6.9 / 7.2608: the platform counts nothing, we add N', false, ['add 4']],
    ['master: the platform counted every push, we add none', true, []],
  ])('%s', async (_name, countsPushes, adds) => {
    const f = fakeWork(countsPushes);
    await pushObjects(bundle.objects, { workId: 'w', work: f.work, pushOne: f.pushOne, progress: newPushProgress() });
    expect(f.state.events.filter((e) => e.startsWith('add'))).toEqual(adds);
    expect(f.state.expected).toBe(4);
  });

  it('never pushes twice nor counts twice across retries, and counts what went through before a failure', async () => {
    const f = fakeWork(false);
    const progress = newPushProgress();
    const flaky = failingOnce(f.pushOne, 'relationship--b', 'HTTP 502');
    await expect(pushObjects(bundle.objects, { workId: 'w', work: f.work, pushOne: flaky, progress })).rejects.toThrow('HTTP 502');
    expect(f.state.expected).toBe(2);
    await pushObjects(bundle.objects, { workId: 'w', work: f.work, pushOne: flaky, progress });
    expect(f.state.events.filter((e) => e.startsWith('push'))).toHaveLength(4);
    expect(f.state.expected).toBe(4);
  });

  it('adds on top of what a redelivered work already holds (baseline read before pushing)', async () => {
    const f = fakeWork(false);
    f.state.expected = 3; // an earlier attempt in another process counted 3 objects
    await pushObjects(bundle.objects.slice(0, 2), { workId: 'w', work: f.work, pushOne: f.pushOne, progress: newPushProgress() });
    expect(f.state.expected).toBe(5);
  });

  it('pushes relationships in parallel lanes when asked, coverage still last', async () => {
    const f = fakeWork(false);
    const many = [{ type: 'security-coverage', id: 'security-coverage--c' }, ...Array.from({ length: 10 }, (_, i) => ({ type: 'relationship', id: `relationship--${i}` }))];
    await pushObjects(many, { workId: 'w', work: f.work, pushOne: f.pushOne, progress: newPushProgress(), parallelism: 4 });
    const pushes = f.state.events.filter((e) => e.startsWith('push'));
    expect(pushes).toHaveLength(11);
    expect(pushes[pushes.length - 1]).toBe('push security-coverage--c');
  });

  it('adds no expectation without a work id', async () => {
    const f = fakeWork(false);
    await pushObjects(bundle.objects, { workId: null, work: f.work, pushOne: f.pushOne, progress: newPushProgress() });
    expect(f.state.events.filter((e) => e.startsWith('add'))).toEqual([]);
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
