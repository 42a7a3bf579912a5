import { execSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithBroker, PROJECT_DIR, TS_REGISTER } from '../support/env';
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

/** Unacked counts and consumers of our queue, when rabbitmqctl is at hand (post-mortem only). */
function brokerView(connectorId: string): string {
  try {
    return execSync(`rabbitmqctl -q list_queues name messages_ready messages_unacknowledged consumers | grep ${connectorId}; rabbitmqctl -q list_consumers | grep ${connectorId}`, { timeout: 20000 }).toString();
  } catch (err) {
    return `rabbitmqctl unavailable: ${(err as Error).message}`;
  }
}

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

  interface Spawned {
    child: ChildProcess;
    output: () => string;
    /** Resolves when the child's log shows `pattern` (the log is the signal, no polling). */
    logged: (pattern: RegExp, timeoutMs?: number) => Promise<void>;
    exited: Promise<NodeJS.Signals | number | null>;
  }

  function spawnDaemon(): Spawned {
    const child = spawn(process.execPath, ['-r', TS_REGISTER, join(PROJECT_DIR, 'src/cli/index.ts'), 'run'], {
      cwd,
      env: {
        PATH: process.env.PATH ?? '',
        TS_NODE_PROJECT: join(PROJECT_DIR, 'tsconfig.json'),
        OPENCTI_URL: h.fake.url,
        OPENCTI_TOKEN: h.fake.token,
        CONNECTOR_ID: h.connectorId,
        HISTORY_ENABLED: 'false',
        CONNECTOR_LOG_LEVEL: 'info',
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
    const listeners = new Set<() => void>();
    const onData = (c: Buffer): void => {
      chunks.push(c.toString());
      for (const l of [...listeners]) l();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
    const logged = (pattern: RegExp, timeoutMs = 60000): Promise<void> =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (!pattern.test(chunks.join(''))) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`the daemon did not log ${pattern} within ${timeoutMs} ms:\n${chunks.join('').slice(-3000)}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    return { child, output: () => chunks.join(''), logged, exited };
  }

  it('loses no message and pushes no stored result twice across a SIGKILL and a restart', async () => {
    const coverages: FakeCoverage[] = Array.from({ length: N }, (_, i) => h.reportCoverage(['T1059.001', `T${1100 + i}`]).coverage);
    // Slow pushes keep several jobs in the middle of their work when the process dies.
    h.fake.fail({ kind: 'slow', delayMs: 150, times: Infinity, operations: ['StixBundlePush'] });

    const first = spawnDaemon();
    // Consuming, not merely registering: the fake records RegisterConnector before it has declared
    // the listen queue, and a message published before that is unroutable (dropped by the broker).
    await first.logged(/"msg":"daemon started"/);
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
    await h.fake.until(() => allClosedOk(h, workIds), 60000, 'all works after the restart').catch(async (err: Error) => {
      const open = workIds.map((id) => h.fake.state.works.get(id)).filter((w) => !w?.processedCalls.some((p) => !p.inError));
      // Both daemons' logs, for the post-mortem (var/ is gitignored).
      mkdirSync(join(PROJECT_DIR, 'var'), { recursive: true });
      writeFileSync(join(PROJECT_DIR, 'var', 'kill-debug.log'), `FIRST\n${first.output()}\nSECOND\n${second.output()}\nOPEN ${JSON.stringify(open)}\nDEPTH ${await h.queueDepth(`listen_${h.connectorId}`)}\n${brokerView(h.connectorId)}`);
      throw new Error(`${err.message}: ${open.length} work(s) not closed ok (${open.filter((w) => w?.received).length} received), e.g. ${JSON.stringify(open[0])}; registrations ${h.fake.callsOf('RegisterConnector').length}\n${second.output().slice(-3000)}`);
    });
    const recoveryMs = Date.now() - restartedAt;
    // The platform re-triggers every coverage our writes changed: let those echo runs end too.
    await h.fake.settle(300, 60000);
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
    // A redelivered copy reads the work's expectations instead of adding them again: every work completes.
    expect(stalled).toBe(0);
  }, 150000);
});
