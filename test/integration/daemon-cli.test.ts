import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { v4 as uuidv4 } from 'uuid';
import { AMQP_URL, describeWithBroker, PROJECT_DIR, TS_REGISTER } from '../support/env';
import { startFakeOpenCti, type FakeOpenCti } from '../support/fake-opencti/server';

/** `coverage-connector run` as a real process: configured by env only, processes a request, stops cleanly on SIGTERM. */

describeWithBroker('coverage-connector run (process)', () => {
  let fake: FakeOpenCti;
  let child: ChildProcess | undefined;
  const connectorId = uuidv4();

  beforeEach(async () => {
    fake = await startFakeOpenCti({ amqpUrl: AMQP_URL });
  });
  afterEach(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    const amqp = await import('amqplib');
    const conn = await amqp.connect(AMQP_URL);
    const ch = await conn.createChannel();
    await ch.deleteQueue(`listen_${connectorId}.dlq`).catch(() => undefined);
    await conn.close();
    await fake.close();
  });

  it('processes an enrichment and exits 0 on SIGTERM', async () => {
    const examples = join(PROJECT_DIR, 'config', 'examples');
    child = spawn(process.execPath, ['-r', TS_REGISTER, join(PROJECT_DIR, 'src', 'cli', 'index.ts'), 'run'], {
      cwd: PROJECT_DIR,
      env: {
        PATH: process.env.PATH,
        OPENCTI_URL: fake.url,
        OPENCTI_TOKEN: fake.token,
        CONNECTOR_ID: connectorId,
        HISTORY_ENABLED: 'false',
        CONNECTOR_LOG_LEVEL: 'info',
        COVERAGE_RULES_DIRS: join(examples, 'rules'),
        COVERAGE_CONTROLS_FILE: join(examples, 'controls.yml'),
        HTTP_ENABLED: 'false',
        SCHEDULER_ENABLED: 'false',
        CONFIG_FILE: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child?.on('exit', (code) => resolve(code)));

    await fake.until(() => fake.state.connectors.get(connectorId), 30000, 'the connector to register');
    const pattern = fake.state.addEntity('Attack-Pattern', 'Command and Scripting Interpreter', { xMitreId: 'T1059' });
    const report = fake.state.addEntity('Report', 'r', { objectIds: [pattern.standardId] });
    const coverage = fake.state.addCoverage(report.standardId);
    // The consumer starts right after registration; a message published before is simply waiting in the queue.
    const workId = await fake.publishEnrichment(connectorId, coverage);
    const work = await fake.until(() => {
      const w = fake.state.works.get(workId);
      return w && w.processedCalls.length > 0 ? w : undefined;
    }, 30000, 'the work');
    expect(work.processedCalls[0].inError).toBe(false);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('stopped');
  }, 60000);
});
