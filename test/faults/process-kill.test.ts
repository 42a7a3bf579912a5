import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithBroker, PROJECT_DIR } from '../support/env';
import { createHarness, type Harness } from '../support/fake-opencti/harness';
import type { FakeCoverage } from '../support/fake-opencti/state';
import { recordFigures } from './fault-results';
import { allClosedOk, closedCount, tally } from './fault-support';

/**
 * The daemon process SIGKILLed with jobs in flight, then started again: the real CLI
 * (`coverage-connector run`) in a child process, configured by env against the fake platform of this
 * test process. Nothing acked is lost (the broker redelivers what the dead process held), and a
 * result already stored is not pushed again.
 */

const N = 60;
const CONCURRENCY = 4;
const KILL_AFTER = 15;

describeWithBroker('fault: daemon process killed with jobs in flight', () => {
  let h: Harness;
  let cwd: string;
  const children: ChildProcess[] = [];
  beforeEach(async () => {
    h = await createHarness();
    cwd = mkdtempSync(join(tmpdir(), 'coverage-kill-')); // no stray ./config.yml
  });
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await h.close();
    rmSync(cwd, { recursive: true, force: true });
  });

  function spawnDaemon(): { child: ChildProcess; output: () => string; exited: Promise<NodeJS.Signals | number | null> } {
    const child = spawn(process.execPath, ['-r', require.resolve('ts-node/register/transpile-only'), join(PROJECT_DIR, 'src/cli/index.ts'), 'run'], {
      cwd,
      env: {
        PATH: process.env.PATH ?? '',
        TS_NODE_PROJECT: join(PROJECT_DIR, 'tsconfig.json'),
        OPENCTI_URL: h.fake.url,
        OPENCTI_TOKEN: h.fake.token,
        CONNECTOR_ID: h.connectorId,
        CONNECTOR_LOG_LEVEL: process.env.KILL_LOG_LEVEL ?? 'warn',
        COVERAGE_RULES_DIRS: join(PROJECT_DIR, 'config/examples/rules'),
        WORKER_CONCURRENCY: String(CONCURRENCY),
        WORKER_PREFETCH: '10',
        WORKER_BACKOFF_BASE_MS: '50',
        WORKER_BACKOFF_MAX_MS: '500',
        HTTP_ENABLED: 'false',
        SCHEDULER_ENABLED: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const chunks: string[] = [];
    child.stdout?.on('data', (c: Buffer) => chunks.push(c.toString()));
    child.stderr?.on('data', (c: Buffer) => chunks.push(c.toString()));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
    return { child, output: () => chunks.join(''), exited };
  }

  it('loses no message and pushes no stored result twice across a SIGKILL and a restart', async () => {
    const coverages: FakeCoverage[] = Array.from({ length: N }, (_, i) => h.reportCoverage(['T1059.001', `T${1100 + i}`]).coverage);
    // Slow pushes keep several jobs in the middle of their work when the process dies.
    h.fake.fail({ kind: 'slow', delayMs: 150, times: Infinity, operations: ['StixBundlePush'] });

    const first = spawnDaemon();
    await h.fake.until(() => h.fake.callsOf('RegisterConnector').length >= 1, 60000, `the first daemon to register\n${first.output()}`);
    const workIds = await Promise.all(coverages.map((c) => h.fake.publishEnrichment(h.connectorId, c)));
    await h.fake.until(() => closedCount(h, workIds) >= KILL_AFTER, 60000, `${KILL_AFTER} works\n${first.output()}`);
    const pushesBefore = h.fake.state.pushes.length;
    // In flight = received by the platform's work API but not closed yet.
    const inFlight = workIds.filter((id) => {
      const w = h.fake.state.works.get(id);
      return w?.received && w.processedCalls.length === 0;
    }).length;
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const closedAtKill = closedCount(h, workIds);
    h.fake.clearFailures();

    const restartedAt = Date.now();
    const second = spawnDaemon();
    await h.fake.until(() => allClosedOk(h, workIds), 30000, 'all works after the restart').catch(async (err: Error) => {
      const open = workIds.map((id) => h.fake.state.works.get(id)).filter((w) => !w?.processedCalls.some((p) => !p.inError));
      require('node:fs').writeFileSync(join(PROJECT_DIR, 'var', 'kill-debug.log'), `FIRST\n${first.output()}\nSECOND\n${second.output()}\nOPEN ${JSON.stringify(open)}\nDEPTH ${await h.queueDepth(`listen_${h.connectorId}`)}`);
      throw new Error(`${err.message}: ${open.length} work(s) not closed ok (${open.filter((w) => w?.received).length} received), e.g. ${JSON.stringify(open[0])}; registrations ${h.fake.callsOf('RegisterConnector').length}\n${second.output().slice(-3000)}`);
    });
    const recoveryMs = Date.now() - restartedAt;
    second.child.kill('SIGTERM');
    await second.exited;

    const t = tally(h, coverages, workIds);
    const stalled = workIds.filter((id) => h.fake.state.works.get(id)?.status !== 'complete').length;
    recordFigures('process_kill', {
      messages: N,
      closed_at_kill: closedAtKill,
      in_flight_at_kill: inFlight,
      pushes_before_kill: pushesBefore,
      restart_to_all_done_ms: recoveryMs,
      results_stored: t.withResult,
      lost: t.lost,
      pushed_twice: t.pushedTwice,
      redelivered: t.redelivered,
      duplicates_suppressed: t.duplicatesSuppressed,
      works_not_complete: stalled,
    });
    expect(inFlight).toBeGreaterThan(0);
    expect(t.lost).toBe(0);
    expect(t.withResult).toBe(N);
    expect(t.inError).toBe(0);
    // Only a job killed in the middle of its push can push its coverage again (upsert by
    // deterministic id); a result already stored before the kill is never pushed twice.
    expect(t.pushedTwice).toBeLessThanOrEqual(inFlight);
    expect(await h.queueDepth(`listen_${h.connectorId}`)).toBe(0);
    expect(await h.queueDepth(h.dlq)).toBe(0);
  }, 150000);
});
