import amqp, { type ChannelModel, type ConsumeMessage } from 'amqplib';
import { v4 as uuidv4 } from 'uuid';
import type { ConfigInput } from '../../../schemas/config';
import { parseConfig } from '../../../src/app/config';
import { createLogger } from '../../../src/app/logger';
import { startDaemon, type Daemon, type DaemonOptions } from '../../../src/app/main';
import type { AssessmentResult, Assessor } from '../../../src/domain/assessment/assessment-types';
import type { CoverageRequest } from '../../../src/domain/coverage/coverage-types';
import { AMQP_URL } from '../env';
import { startFakeOpenCti, type FakeOpenCti } from './server';
import type { FakeCoverage, FakeEntity } from './state';
import type { FakePlatformVersion } from './platform-rules';

/** Fake OpenCTI + real broker + daemon, wired per test, with uuid-suffixed names, torn down after. */

export interface FakeAssessorOptions {
  detection?: number;
  prevention?: number;
  /** Called on every assessment (e.g. to block or throw). */
  onAssess?: (request: CoverageRequest) => Promise<void> | void;
}

/** A tiny assessor for tests where the engine is irrelevant: every technique gets the same scores. */
export function fakeAssessor(options: FakeAssessorOptions = {}): Assessor & { calls: CoverageRequest[]; set(o: FakeAssessorOptions): void } {
  let current = { detection: 60, prevention: 40, ...options };
  const calls: CoverageRequest[] = [];
  return {
    name: 'fake',
    calls,
    set(o) {
      current = { ...current, ...o };
    },
    async assess(request, ctx): Promise<AssessmentResult> {
      calls.push(request);
      await current.onAssess?.(request);
      return {
        backend: 'fake',
        runAt: ctx.now.toISOString(),
        techniques: request.techniques.map((t) => ({
          techniqueId: t.techniqueId,
          ...(t.stixId ? { stixId: t.stixId } : {}),
          ...(t.name ? { name: t.name } : {}),
          tested: true,
          detection: current.detection,
          prevention: current.prevention,
          why: ['fake'],
          rules: [],
          controls: [],
          source: 'fake',
        })),
        overall: [
          { name: 'DETECTION', score: current.detection },
          { name: 'PREVENTION', score: current.prevention },
        ],
        gaps: [],
        warnings: [],
      };
    },
  };
}

export interface Harness {
  fake: FakeOpenCti;
  connectorId: string;
  daemon?: Daemon;
  dlq: string;
  /** `assessor: null` runs the configured assessor (real evidence + embedded engine); default: fakeAssessor(). */
  start(options?: { config?: ConfigInput; assessor?: Assessor | null; daemon?: Partial<DaemonOptions> }): Promise<Daemon>;
  /** Report with N attack patterns T1000+i and a coverage over it. */
  reportCoverage(techniques: string[], coverageExtra?: Partial<FakeCoverage>): { report: FakeEntity; patterns: FakeEntity[]; coverage: FakeCoverage };
  /** Waits for `count` messages on a queue through a separate channel (consumed and acked). */
  takeMessages(queue: string, count: number, timeoutMs?: number): Promise<ConsumeMessage[]>;
  queueDepth(queue: string): Promise<number>;
  close(): Promise<void>;
}

export function baseConfig(fake: FakeOpenCti, connectorId: string, extra: ConfigInput = {}): ConfigInput {
  const e = extra as Record<string, Record<string, unknown> | undefined>;
  return {
    ...extra,
    opencti: { url: fake.url, token: fake.token, timeout_ms: 5000, ...e.opencti },
    // No automatic enrichments unless a test asks: most suites drive the messages themselves.
    connector: { id: connectorId, name: 'Coverage test', log_level: 'warn', ping_interval_seconds: 5, auto: false, auto_update: false, ...e.connector },
    worker: { concurrency: 4, prefetch: 10, max_attempts: 3, backoff_base_ms: 20, backoff_max_ms: 100, shutdown_grace_ms: 3000, ...e.worker },
    http: { enabled: false, ...e.http },
    scheduler: { enabled: false, ...e.scheduler },
    // Score history only where a test asks for it (with its own store).
    history: { enabled: false, ...e.history },
  } as ConfigInput;
}

export async function createHarness(fakeOptions: { maxPageSize?: number; version?: FakePlatformVersion; importDelayMs?: number } = {}): Promise<Harness> {
  const fake = await startFakeOpenCti({ amqpUrl: AMQP_URL, ...fakeOptions });
  const connectorId = uuidv4();
  let admin: ChannelModel | undefined;
  const adminConn = async (): Promise<ChannelModel> => (admin ??= await amqp.connect(AMQP_URL));
  const daemons: Daemon[] = [];

  const h: Harness = {
    fake,
    connectorId,
    dlq: `listen_${connectorId}.dlq`,
    async start(options = {}) {
      const config = parseConfig(baseConfig(fake, connectorId, options.config));
      const daemon = await startDaemon({
        config,
        log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
        ...(options.assessor === null ? {} : { assessor: options.assessor ?? fakeAssessor() }),
        pageSize: 2,
        ...options.daemon,
      });
      daemons.push(daemon);
      h.daemon = daemon;
      return daemon;
    },
    reportCoverage(techniques, coverageExtra = {}) {
      const patterns = techniques.map((t) => fake.state.addEntity('Attack-Pattern', `Technique ${t}`, { xMitreId: t }));
      const report = fake.state.addEntity('Report', 'APT-X report', { objectIds: patterns.map((p) => p.standardId) });
      const coverage = fake.state.addCoverage(report.standardId, coverageExtra);
      return { report, patterns, coverage };
    },
    async takeMessages(queue, count, timeoutMs = 15000) {
      const ch = await (await adminConn()).createChannel();
      const got: ConsumeMessage[] = [];
      try {
        return await new Promise<ConsumeMessage[]>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`only ${got.length}/${count} message(s) on ${queue} after ${timeoutMs} ms`)), timeoutMs);
          void ch
            .consume(queue, (m) => {
              if (!m) return;
              got.push(m);
              ch.ack(m);
              if (got.length === count) {
                clearTimeout(timer);
                resolve(got);
              }
            })
            .catch(reject);
        });
      } finally {
        await ch.close().catch(() => undefined);
      }
    },
    async queueDepth(queue) {
      const ch = await (await adminConn()).createChannel();
      try {
        return (await ch.checkQueue(queue)).messageCount;
      } finally {
        await ch.close().catch(() => undefined);
      }
    },
    async close() {
      for (const d of daemons) await d.close().catch(() => undefined);
      try {
        const ch = await (await adminConn()).createChannel();
        await ch.deleteQueue(h.dlq).catch(() => undefined);
        await ch.close().catch(() => undefined);
      } finally {
        await admin?.close().catch(() => undefined);
        await fake.close();
      }
    },
  };
  return h;
}
