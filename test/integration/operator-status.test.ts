import { registerStatusCommand } from '../../src/cli/status-command';
import { AMQP_URL, describeWithBroker } from '../support/env';
import { createHarness, type Harness } from '../support/fake-opencti/harness';
import { unusedPort } from '../support/ports';
import { envFor, registerConnector, runCli } from './operator-helpers';

describeWithBroker('status', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(() => h.close());

  const status = (env: Record<string, string> = {}, ...args: string[]) => runCli(registerStatusCommand, ['status', ...args], envFor(h.fake, h.connectorId, env));

  it('reports a stopped broker as down instead of failing', async () => {
    await registerConnector(h.fake, h.connectorId);
    const port = await unusedPort();
    const r = await status({ MQ_URL: `amqp://guest:guest@127.0.0.1:${port}` });
    expect(r.error).toBeUndefined();
    expect(r.out).toMatch(new RegExp(`broker\\s+DOWN\\s+amqp://guest:\\*\\*\\*@127\\.0\\.0\\.1:${port}\\s+\\(broker unreachable`));
    expect(r.out).toMatch(/registered\s+yes \(active: yes/);
    expect(r.out).toMatch(/platform\s+up/);
    expect(r.out).toMatch(new RegExp(`listen queue\\s+listen_${h.connectorId}: unknown`));
    expect(r.out).toMatch(/in-flight jobs\s+unknown \(daemon HTTP not reachable\)/);
    expect(r.exitCode).toBe(2);
  });

  it('reports an unreachable platform as down and still shows the broker side', async () => {
    const port = await unusedPort();
    const r = await status({ OPENCTI_URL: `http://127.0.0.1:${port}`, MQ_URL: AMQP_URL, OPENCTI_TIMEOUT_MS: '1000' });
    expect(r.error).toBeUndefined();
    expect(r.out).toMatch(/registered\s+unknown \(platform not reachable\)/);
    expect(r.out).toMatch(/platform\s+DOWN\s+http:\/\/127\.0\.0\.1:\d+\s+\(OperatorConnector: OpenCTI unreachable/);
    expect(r.out).toMatch(/broker\s+up/);
    expect(r.out).toMatch(new RegExp(`listen queue\\s+listen_${h.connectorId}: missing`));
    expect(r.exitCode).toBe(2);
  });

  it('shows queue depths and what the running daemon reports on /status', async () => {
    const daemon = await h.start({ config: { http: { enabled: true, host: '127.0.0.1', port: 0 } } });
    const { coverage } = h.reportCoverage(['T1059']);
    const workId = await h.fake.publishEnrichment(h.connectorId, coverage);
    await h.fake.until(() => h.fake.state.works.get(workId)?.status === 'complete', 15000, 'the enrichment to complete');
    // The work completes when the platform imported the push; the worker acks right after toProcessed.
    await h.fake.until(() => h.fake.callsOf('WorkToProcessed').length > 0, 15000, 'toProcessed');

    const r = await status({}, '--daemon-url', `http://127.0.0.1:${daemon.httpPort as number}`, '--json');
    expect(r.error).toBeUndefined();
    const report = JSON.parse(r.out) as Record<string, any>;
    expect(report.connector).toMatchObject({ id: h.connectorId, registered: true, active: true });
    expect(report.platform.reachable).toBe(true);
    expect(report.broker.reachable).toBe(true);
    expect(report.queues.deadLetter).toEqual({ name: h.dlq, depth: 0 });
    expect(report.queues.listen.name).toBe(`listen_${h.connectorId}`);
    expect(report.daemon.reachable).toBe(true);
    expect(report.daemon.status).toMatchObject({ connector_id: h.connectorId, registered: true, broker_connected: true, scheduler: { enabled: false, leader: false } });
    expect(typeof report.daemon.status.in_flight).toBe('number');
    expect(r.exitCode).toBeUndefined();
  });
});
