import { EventEmitter, once } from 'node:events';
import { noopObserver, type JobObserver } from '../../src/app/job-observer';
import { REPLAY_WORK_NAME } from '../../src/app/operator/operator';
import { registerDlqCommand } from '../../src/cli/dlq-command';
import { PlatformUnavailableError } from '../../src/errors';
import { describeWithBroker } from '../support/env';
import { times } from '../support/events';
import { createHarness, fakeAssessor, type Harness } from '../support/fake-opencti/harness';
import { envFor, runCli } from './operator-helpers';

/** Dead letters made by the real daemon, read and replayed with the CLI (real broker, fake platform). */

interface Row {
  id: string;
  coverageId?: string;
  code?: string;
  reason?: string;
  attempts: number;
  firstFailure?: string;
  lastFailure?: string;
  replays: number;
}

/** Emits 'deadLettered' and 'succeeded' as the worker reports them. */
function signals(): { events: EventEmitter; observer: JobObserver } {
  const events = new EventEmitter();
  return {
    events,
    observer: { ...noopObserver, deadLettered: (code) => events.emit('deadLettered', code), succeeded: (outcome) => events.emit('succeeded', outcome) },
  };
}

describeWithBroker('dead-letter queue tooling', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(() => h.close());

  const dlq = (...args: string[]) => runCli(registerDlqCommand, ['dlq', ...args], envFor(h.fake, h.connectorId));
  const list = async (): Promise<Row[]> => {
    const r = await dlq('list', '--json');
    expect(r.error).toBeUndefined();
    return JSON.parse(r.out) as Row[];
  };

  it('round-trips a dead letter through replay with its reason and attempt count preserved', async () => {
    const { events, observer } = signals();
    const assessor = fakeAssessor({
      onAssess: () => {
        throw new PlatformUnavailableError('OpenAEV answered 503');
      },
    });
    await h.start({ assessor, daemon: { observer } });
    const { coverage } = h.reportCoverage(['T1059']);
    const firstDead = once(events, 'deadLettered');
    await h.fake.publishEnrichment(h.connectorId, coverage);
    await firstDead;

    const [first] = await list();
    expect(first).toMatchObject({ coverageId: coverage.standardId, code: 'PLATFORM_UNAVAILABLE', attempts: 3, replays: 0 });
    expect(first.reason).toContain('OpenAEV answered 503');
    expect(await h.queueDepth(h.dlq)).toBe(1); // listing leaves it in place

    const shown = await dlq('show', first.id);
    expect(shown.out).toContain('error code:     PLATFORM_UNAVAILABLE');
    expect(shown.out).toContain(`coverage:       ${coverage.standardId}`);
    expect(shown.out).toContain('"mode": "auto"');

    // Replayed while the backend still fails: back in the DLQ, counting on from 3.
    const secondDead = once(events, 'deadLettered');
    const replay = await dlq('replay', first.id);
    expect(replay.out).toContain(`replayed 1 dead letter(s) to ${h.fake.topo.listenQueue(h.connectorId)}; 0 left in ${h.dlq}`);
    await secondDead;
    const [again] = await list();
    expect(again).toMatchObject({ id: first.id, coverageId: coverage.standardId, code: 'PLATFORM_UNAVAILABLE', attempts: 6, firstFailure: first.firstFailure, replays: 1 });
    expect(again.reason).toContain('OpenAEV answered 503');
    // The replay ran in a fresh work (the first one was closed in error), itself closed in error now.
    const replayWork = [...h.fake.state.works.values()].find((w) => w.name === REPLAY_WORK_NAME);
    expect(replayWork?.processedCalls).toEqual([expect.objectContaining({ inError: true })]);
    expect(Date.parse(again.lastFailure as string)).toBeGreaterThanOrEqual(Date.parse(first.lastFailure as string));

    // Backend fixed: the replay succeeds and the dead-letter queue empties.
    assessor.set({ onAssess: () => undefined });
    const done = once(events, 'succeeded');
    expect((await dlq('replay', '--all')).out).toContain('replayed 1 dead letter(s)');
    expect(await done).toEqual(['pushed']);
    expect(await h.queueDepth(h.dlq)).toBe(0);
    expect(h.fake.state.coverage(coverage.standardId)?.coverage).toEqual([
      { coverage_name: 'DETECTION', coverage_score: 60 },
      { coverage_name: 'PREVENTION', coverage_score: 40 },
    ]);
  });

  it('lists and shows without losing or reordering; a replayed message that fails again goes to the back with one more attempt', async () => {
    const { events, observer } = signals();
    await h.start({ daemon: { observer } });
    const dead = times(events, 'deadLettered', 3);
    for (const n of [1, 2, 3]) await h.fake.publishRaw(h.connectorId, `not json ${n}`);
    await dead;

    const before = await list();
    expect(before).toHaveLength(3);
    expect(new Set(before.map((r) => r.id)).size).toBe(3);
    expect(before.every((r) => r.code === 'MESSAGE_INVALID' && r.attempts === 1)).toBe(true);
    expect((await list()).map((r) => r.id)).toEqual(before.map((r) => r.id));
    expect((await dlq('show', before[1].id)).out).toContain(`id:             ${before[1].id}`);
    expect((await list()).map((r) => r.id)).toEqual(before.map((r) => r.id));
    expect(await h.queueDepth(h.dlq)).toBe(3);

    const deadAgain = once(events, 'deadLettered');
    const replay = await dlq('replay', before[1].id);
    expect(replay.out).toContain('replayed 1 dead letter(s)');
    expect(replay.out).toContain('2 left in');
    await deadAgain;
    const after = await list();
    expect(after.map((r) => r.id)).toEqual([before[0].id, before[2].id, before[1].id]);
    expect(after[2]).toMatchObject({ attempts: 2, replays: 1, code: 'MESSAGE_INVALID', firstFailure: before[1].firstFailure });
  });

  it('reports ids it could not find and leaves the queue alone', async () => {
    const { events, observer } = signals();
    await h.start({ daemon: { observer } });
    const dead = once(events, 'deadLettered');
    await h.fake.publishRaw(h.connectorId, 'not json');
    await dead;
    const r = await dlq('replay', 'sha-000000000000');
    expect(r.out).toContain('replayed 0 dead letter(s)');
    expect(r.out).toContain('not found: sha-000000000000');
    expect(r.exitCode).toBe(1);
    expect(await h.queueDepth(h.dlq)).toBe(1);
  });

  it('purges only with --yes', async () => {
    const { events, observer } = signals();
    await h.start({ daemon: { observer } });
    const dead = times(events, 'deadLettered', 2);
    await h.fake.publishRaw(h.connectorId, 'not json a');
    await h.fake.publishRaw(h.connectorId, 'not json b');
    await dead;
    const refused = await dlq('purge');
    expect(refused.error?.message).toBe(`purge would delete 2 dead letter(s) from ${h.dlq}; add --yes to confirm`);
    expect(await h.queueDepth(h.dlq)).toBe(2);
    expect((await dlq('purge', '--yes')).out).toBe(`purged 2 dead letter(s) from ${h.dlq}\n`);
    expect(await h.queueDepth(h.dlq)).toBe(0);
  });
});
