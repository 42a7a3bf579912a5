import { createQueueAdmin, MissingQueueError } from '../../../src/adapters/amqp/dlq-admin';
import { deadLetterQueueMissing, registerDlqCommand } from '../../../src/cli/dlq-command';
import { registerStatusCommand } from '../../../src/cli/status-command';
import { createOpenCtiClient } from '../../../src/adapters/opencti';
import { envFor, runCli } from '../../integration/operator-helpers';
import { AMQP_URL, describeWithBroker } from '../../support/env';
import { createHarness, type Harness } from '../../support/fake-opencti/harness';

/**
 * Before the daemon's first start the dead-letter queue does not exist. Every command says so in
 * the same words (no raw amqplib 404, no "missing", no "would delete 0"). Real broker, fake platform.
 */

describeWithBroker('dlq and status before any dead letter', () => {
  let h: Harness;
  let state: string;
  beforeAll(async () => {
    h = await createHarness();
    // Registered (the platform declares the listen queue) but the daemon never started. The
    // stand-in platform's first answer can take seconds on a loaded machine.
    const client = createOpenCtiClient({ url: h.fake.url, token: h.fake.token, timeoutMs: 30000 });
    try {
      await client.connector.register({ id: h.connectorId, name: 'Coverage test', scope: ['security-coverage'], auto: true, autoUpdate: true });
    } finally {
      client.close();
    }
    state = deadLetterQueueMissing(h.dlq);
  });
  afterAll(() => h.close());

  const cli = (register: typeof registerDlqCommand, ...args: string[]) => runCli(register, args, envFor(h.fake, h.connectorId, { OPENCTI_TIMEOUT_MS: '30000' }));

  it('the queue admin reports a missing queue as MissingQueueError, not a broker failure', async () => {
    const admin = createQueueAdmin({ url: AMQP_URL });
    try {
      expect(await admin.depth(h.dlq)).toBeNull();
      await expect(admin.peek(h.dlq)).rejects.toBeInstanceOf(MissingQueueError);
      await expect(admin.purge(h.dlq)).rejects.toMatchObject({ name: 'MissingQueueError', queue: h.dlq });
      await expect(admin.move(h.dlq, `listen_${h.connectorId}`, () => true)).rejects.toBeInstanceOf(MissingQueueError);
    } finally {
      await admin.close();
    }
  });

  it('dlq list: one line stating it, exit 0; --json: an empty list', async () => {
    const list = await cli(registerDlqCommand, 'dlq', 'list');
    expect(list.error).toBeUndefined();
    expect(list.out).toBe(`${state}\n`);
    expect(list.exitCode ?? 0).toBe(0);
    const json = await cli(registerDlqCommand, 'dlq', 'list', '--json');
    expect(JSON.parse(json.out)).toEqual([]);
  });

  it('dlq show / replay <id>: not found, in the same words, exit 1', async () => {
    const show = await cli(registerDlqCommand, 'dlq', 'show', 'sha-0123456789ab');
    expect(show.error).toBeUndefined();
    expect(show.out).toBe(`no dead letter matches sha-0123456789ab: ${state}\n`);
    expect(show.exitCode).toBe(1);
    const replay = await cli(registerDlqCommand, 'dlq', 'replay', 'sha-0123456789ab');
    expect(replay.error).toBeUndefined();
    expect(replay.out).toBe(`nothing to replay: ${state}\n`);
    expect(replay.exitCode).toBe(1);
  });

  it('dlq purge, with or without --yes: nothing to purge, in the same words', async () => {
    for (const args of [['dlq', 'purge'], ['dlq', 'purge', '--yes']]) {
      const purge = await cli(registerDlqCommand, ...args);
      expect(purge.error).toBeUndefined();
      expect(purge.out).toBe(`nothing to purge: ${state}\n`);
    }
  });

  it('status: the same words on the dead-letter queue line', async () => {
    const status = await cli(registerStatusCommand, 'status');
    expect(status.out).toContain(`dead-letter queue ${state}\n`);
  });
});
