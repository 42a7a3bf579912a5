import type { ConsumeMessage } from 'amqplib';
import { EnrichmentMessageSchema } from '../../schemas/message';
import { RETRIGGER_WORK_NAME } from '../../src/app/operator/operator';
import { registerRetriggerCommand } from '../../src/cli/retrigger-command';
import { describeWithBroker } from '../support/env';
import { createHarness, type Harness } from '../support/fake-opencti/harness';
import { envFor, registerConnector, runCli } from './operator-helpers';

/** `retrigger` places exactly the expected messages on the listen queue (real broker, fake platform). */
describeWithBroker('retrigger', () => {
  let h: Harness;
  let listen: string;

  beforeEach(async () => {
    h = await createHarness();
    await registerConnector(h.fake, h.connectorId);
    listen = h.fake.topo.listenQueue(h.connectorId);
  });
  afterEach(() => h.close());

  const run = (...args: string[]) => runCli(registerRetriggerCommand, ['retrigger', ...args], envFor(h.fake, h.connectorId));
  const parse = (m: ConsumeMessage) => EnrichmentMessageSchema.parse(JSON.parse(m.content.toString('utf8')));

  it('queues one manual-update message per named coverage, each in a work added for it', async () => {
    const a = h.reportCoverage(['T1059', 'T1003']).coverage;
    const b = h.reportCoverage(['T1566']).coverage;
    const result = await run(a.standardId, b.internalId);
    expect(result.error).toBeUndefined();
    expect(result.out).toContain(`queued 2 of 2 coverage(s) on ${listen}`);

    const messages = await h.takeMessages(listen, 2);
    expect(await h.queueDepth(listen)).toBe(0);
    const parsed = messages.map(parse);
    expect(parsed.map((p) => p.event.entity_id)).toEqual([a.standardId, b.standardId]);
    for (const [i, p] of parsed.entries()) {
      expect(p.internal).toMatchObject({ trigger: 'update', mode: 'manual', applicant_id: null, draft_id: null });
      const work = h.fake.state.works.get(p.internal.work_id as string);
      expect(work).toMatchObject({ connectorId: h.connectorId, name: RETRIGGER_WORK_NAME, status: 'progress' });
      expect(messages[i].properties.deliveryMode).toBe(2);
      expect(messages[i].properties.messageId).toMatch(/^[0-9a-f-]{36}$/);
      expect(p.event.stix_objects?.some((o) => o.type === 'attack-pattern')).toBe(true);
    }
    expect(h.fake.callsOf('WorkAdd')).toHaveLength(2);
  });

  it('--stale queues only coverages whose valid_to has passed', async () => {
    const past = h.reportCoverage(['T1059'], { validTo: new Date(Date.now() - 3600_000).toISOString() }).coverage;
    h.reportCoverage(['T1003'], { validTo: new Date(Date.now() + 3600_000).toISOString() });
    h.reportCoverage(['T1566']);
    const result = await run('--stale');
    expect(result.out).toContain('queued 1 of 1');
    const [m] = await h.takeMessages(listen, 1);
    expect(parse(m).event.entity_id).toBe(past.standardId);
    expect(await h.queueDepth(listen)).toBe(0);
  });

  it('--container queues the coverage of that report', async () => {
    h.reportCoverage(['T1059']);
    const { report, coverage } = h.reportCoverage(['T1003']);
    await run('--container', report.standardId);
    const [m] = await h.takeMessages(listen, 1);
    expect(parse(m).event.entity_id).toBe(coverage.standardId);
    expect(await h.queueDepth(listen)).toBe(0);
  });

  it('--all refuses without --yes and queues nothing, then queues every coverage with it', async () => {
    for (const t of ['T1059', 'T1003', 'T1566']) h.reportCoverage([t]);
    const refused = await run('--all');
    expect(refused.error?.message).toBe('--all would re-run 3 coverage(s); add --yes to confirm');
    expect(await h.queueDepth(listen)).toBe(0);
    expect(h.fake.callsOf('WorkAdd')).toHaveLength(0);

    const result = await run('--all', '--yes');
    expect(result.out).toContain('queued 3 of 3');
    // Not a terminal: plain progress lines on the progress stream, results on stdout.
    expect(result.progress.trim().split('\n').map((l) => l.replace(/ security-coverage--.*/, ''))).toEqual(['retrigger: 1/3', 'retrigger: 2/3', 'retrigger: 3/3']);
    const messages = await h.takeMessages(listen, 3);
    expect(new Set(messages.map((m) => parse(m).event.entity_id)).size).toBe(3);
    expect(await h.queueDepth(listen)).toBe(0);
  });

  it('--via-platform asks the platform, which creates its own work and publishes the message', async () => {
    const { coverage } = h.reportCoverage(['T1059']);
    const result = await run('--via-platform', coverage.standardId);
    expect(result.out).toContain('through the platform (askEnrichment)');
    expect(h.fake.callsOf('ScheduleAskEnrichment')).toHaveLength(1);
    expect(h.fake.callsOf('WorkAdd')).toHaveLength(0);
    const [m] = await h.takeMessages(listen, 1);
    const p = parse(m);
    expect(p.internal).toMatchObject({ mode: 'manual', trigger: 'update' });
    expect(h.fake.state.works.get(p.internal.work_id as string)?.entityId).toBe(coverage.standardId);
  });

  it('reports an unknown coverage as failed, exit code 1, and queues nothing for it', async () => {
    const { coverage } = h.reportCoverage(['T1059']);
    const result = await run(coverage.standardId, 'security-coverage--00000000-0000-4000-8000-000000000000');
    expect(result.out).toContain('failed  security-coverage--00000000-0000-4000-8000-000000000000: no coverage');
    expect(result.out).toContain('queued 1 of 2 coverage(s)');
    expect(result.exitCode).toBe(1);
    await h.takeMessages(listen, 1);
    expect(await h.queueDepth(listen)).toBe(0);
  });
});
