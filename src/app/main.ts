import type { DestinationStream } from 'pino';
import { platformClientOptionsOf } from './platform-options';
import type { Config } from '../../schemas/config';
import { createBroker, type Broker } from '../adapters/amqp/broker';
import { brokerUrl, redactUrl } from '../adapters/amqp/connection-url';
import { createDeadLetterPublisher } from '../adapters/amqp/dead-letter';
import { createAmqpBundlePublisher } from '../adapters/amqp/push-publisher';
import { createOpenCtiClient, isConnectorGone, type OpenCtiClient, type Registration } from '../adapters/opencti';
import { createPlatformProbe } from '../adapters/opencti';
import type { PlatformProfile } from '../domain/platform/platform-profile';
import type { Assessor } from '../domain/assessment/assessment-types';
import type { EvidenceSet } from '../domain/evidence/evidence-types';
import type { StixBundle } from '../domain/stix/stix-types';
import { probePlatform } from '../adapters/opencti/graphql-client';
import { ConfigError, ConnectorError, PlatformSettingError, StartupCancelledError, errorMessageOf } from '../errors';
import { redactError } from '../redact';
import { createAssessor } from './assessors';
import { embeddedFactoryOf, logEvidenceIssues, startLiveEvidence } from './embedded-setup';
import { configuredPrevalenceSource, type PrevalenceSource } from './prevalence-source';
import type { PrevalenceTable } from '../domain/gaps/prevalence';
import { assertDaemonConfig, loadConfig, secretValues } from './config';
import { runEnrichment, type JobDeps } from './enrichment-job';
import { createSettledRuns } from './settled-runs';
import { createPushCounting } from './result-pusher';
import { noopObserver, type JobObserver } from './job-observer';
import { createLogger, installProcessGuards, type Logger } from './logger';
import { createPlatformBreaker, registerBreakerMetrics, type PlatformBreaker } from './platform-breaker';
import type { RetryPolicy } from './outcome';
import { backoffDelay, sleep } from '../retry';
import { createWorker, type Worker } from './worker';
import { createHttpServer, daemonReadiness, daemonStatus, type DaemonLiveState } from './http-server';
import { createCoverageReportService } from './report/coverage-report';
import { startDaemonHistory } from './history/history-setup';
import { trendProvider } from './history/history-report';
import { combineObservers, createMetrics } from './metrics';
import { assertSchedulerConfig, startScheduling, type Scheduling } from './scheduler/scheduler-setup';

/**
 * The ONE composition root of the daemon: config → logger → evidence → assessor → OpenCTI client →
 * register → broker → worker → ping loop. Everything is built here and passed down; `close()` undoes
 * it in reverse, runs every step even if one fails, and is idempotent.
 */

/** Coverages whose last no-change run is remembered (under 1 KB each). */
const SETTLED_RUNS_KEPT = 20_000;

export interface DaemonOptions {
  /** Already-parsed configuration; default: loadConfig({ env, file }). */
  config?: Readonly<Config>;
  env?: NodeJS.ProcessEnv;
  configFile?: string;
  log?: Logger;
  logDestination?: DestinationStream;
  observer?: JobObserver;
  /** Replaces the configured assessor (tests, custom backends). */
  assessor?: Assessor;
  /** Replaces loading the evidence from the configured files. */
  evidence?: EvidenceSet;
  clock?: () => Date;
  /** Page size of paginated GraphQL reads (the platform also caps it). */
  pageSize?: number;
  /** Cancels a startup that is still waiting for the platform or the broker. */
  signal?: AbortSignal;
  /**
   * Route uncaught exceptions and unhandled rejections through the (scrubbing) logger; an uncaught
   * exception closes the daemon and exits 1. Default: on when the daemon builds its own logger (the
   * `run` command), off when a logger or destination is handed in (tests, embedding).
   */
  processGuards?: boolean;
}

export interface Daemon {
  readonly config: Readonly<Config>;
  readonly log: Logger;
  readonly registration: Registration;
  readonly worker: Worker;
  readonly broker: Broker;
  readonly opencti: OpenCtiClient;
  /** What the platform is, probed at start (docs/compatibility.md). */
  readonly platform: PlatformProfile;
  /** The platform circuit breaker (docs/reliability.md). */
  readonly breaker: PlatformBreaker;
  /** Opaque connector state sent with every ping; "" after an operator reset (adopted from the platform). */
  connectorState: string | null;
  /** One ping now (re-registers when the platform no longer knows the connector). */
  pingNow(): Promise<void>;
  close(): Promise<void>;
  /** Port of the HTTP endpoint (/healthz /readyz /status /metrics); undefined when HTTP_ENABLED=false. */
  readonly httpPort?: number;
}

function retryPolicyOf(config: Config): RetryPolicy {
  return { maxAttempts: config.worker.max_attempts, backoffBaseMs: config.worker.backoff_base_ms, backoffMaxMs: config.worker.backoff_max_ms };
}

const wait = (ms: number, signal?: AbortSignal): Promise<void> =>
  sleep(ms, signal).catch((err: unknown) => {
    throw new StartupCancelledError('startup cancelled (signal received while waiting for OpenCTI)', { cause: err });
  });

/** `work`, or a StartupCancelledError as soon as `signal` fires (the work is left to finish on its own). */
function untilCancelled<T>(work: Promise<T>, signal: AbortSignal | undefined, stage: string): Promise<T> {
  if (!signal) return work;
  let onAbort: (() => void) | undefined;
  const cancelled = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(new StartupCancelledError(`startup cancelled (signal received ${stage})`));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  work.catch(() => undefined);
  return Promise.race([work, cancelled]).finally(() => signal.removeEventListener('abort', onAbort as () => void));
}

/** Registers, waiting out platform outages (transient errors only; a bad token fails at once). */
async function registerWithRetry(opencti: OpenCtiClient, config: Config, log: Logger, signal?: AbortSignal): Promise<Registration> {
  const policy = retryPolicyOf(config);
  for (let attempt = 1; ; attempt++) {
    try {
      return await untilCancelled(
        opencti.connector.register({
          id: config.connector.id as string,
          name: config.connector.name,
            scope: [...config.connector.scope],
          auto: config.connector.auto,
          autoUpdate: config.connector.auto_update,
        }),
        signal,
        'while registering with OpenCTI',
      );
    } catch (err) {
      // A URL that answers HTML, an untrusted certificate: waiting will not fix a setting.
      if (err instanceof PlatformSettingError) throw new ConfigError(`${err.setting}: ${err.message}`, { cause: err });
      if (!(err instanceof ConnectorError) || !err.retryable || signal?.aborted) throw err;
      const delay = backoffDelay(attempt, policy);
      log.warn({ err: { message: err.message }, attempt, delay_ms: delay }, 'OpenCTI not reachable for registration; retrying');
      await wait(delay, signal);
    }
  }
}

export async function startDaemon(options: DaemonOptions = {}): Promise<Daemon> {
  const config = options.config ?? loadConfig({ ...(options.env ? { env: options.env } : {}), ...(options.configFile ? { file: options.configFile } : {}) });
  assertDaemonConfig(config);
  assertSchedulerConfig(config); // bad SCHEDULER_* settings stop startup before connecting
  // Secrets scrubbed from free text too (a platform error may echo the token).
  const log = options.log ?? createLogger(config.connector.log_level, options.logDestination, { secrets: secretValues(config) });
  const clock = options.clock ?? (() => new Date());
  // Metrics and the HTTP endpoint (docs/operating.md).
  const metrics = config.http.enabled ? createMetrics({ clock, collectDefault: true, maxCoverages: config.http.metrics_max_coverages }) : undefined;
  const observer: JobObserver = metrics
    ? options.observer
      ? combineObservers(metrics.observer, options.observer)
      : metrics.observer
    : (options.observer ?? noopObserver);
  const live: DaemonLiveState = { connectorId: config.connector.id as string, schedulerEnabled: config.scheduler.enabled, startedAt: clock() };
  const httpServer = metrics
    ? createHttpServer({
        host: config.http.host,
        port: config.http.port,
        log,
        metrics,
        readiness: () => daemonReadiness(live),
        status: () => daemonStatus(live, metrics.snapshot(), clock()),
        reports: () => live.reports,
        ...(config.http.auth_token ? { authToken: config.http.auth_token } : {}),
      })
    : undefined;
  const connectorId = config.connector.id as string;
  const cleanups: Array<{ name: string; run: () => Promise<void> | void }> = [];

  const runCleanups = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c.run();
      } catch (err) {
        log.warn({ err: { message: errorMessageOf(err) }, step: c.name }, 'cleanup step failed');
      }
    }
  };

  let daemonRef: Daemon | undefined;
  if (options.processGuards ?? (options.log === undefined && options.logDestination === undefined)) {
    const guards = installProcessGuards(log, secretValues(config), () => {
      process.exitCode = 1;
      const bound = new Promise((resolve) => setTimeout(resolve, config.worker.shutdown_grace_ms + 5000).unref());
      void Promise.race([daemonRef ? daemonRef.close() : runCleanups(), bound]).finally(() => process.exit(1));
    });
    cleanups.push({ name: 'process guards', run: () => guards.remove() });
  }

  try {
    // ── operator: up first, so /healthz answers while the platform or the broker is awaited ──
    if (httpServer) {
      await httpServer.start();
      cleanups.push({ name: 'http', run: () => httpServer.close() });
    }
    if (!config.opencti.ssl_verify) log.warn('OPENCTI_SSL_VERIFY=false: the OpenCTI TLS certificate is NOT verified; anyone on the path can read the token');
    if (!config.mq.ssl_verify) log.warn('MQ_SSL_VERIFY=false: the broker TLS certificate is NOT verified');

    // From the configured files, reloaded when they change (embedded-setup.ts), unless handed in.
    // Gap prevalence from the platform's intelligence: the source is attached once the client exists.
    let prevalenceSource: PrevalenceSource | undefined;
    const prevalence = (): PrevalenceTable | undefined => prevalenceSource?.current();
    const loading = options.evidence || options.assessor ? undefined : startLiveEvidence(config, log, { prevalence });
    // Cancelled meanwhile: the watcher it starts must not keep the process alive.
    const liveEvidence = loading && (await untilCancelled(loading, options.signal, 'while loading the evidence').catch((err: unknown) => {
      void loading.then((l) => l.close(), () => undefined);
      throw err;
    }));
    if (liveEvidence) cleanups.push({ name: 'evidence watcher', run: () => liveEvidence.close() });
    if (liveEvidence?.ruleSources) live.ruleSources = liveEvidence.ruleSources;
    const evidence = options.evidence ?? liveEvidence?.evidence;
    // Built before the issues are logged: a bad `coverage.priorities_file` is one of them.
    const assessor =
      options.assessor ??
      createAssessor(config, evidence as EvidenceSet, { createEmbedded: liveEvidence?.createEmbedded ?? (await embeddedFactoryOf(config, (evidence as EvidenceSet).issues, prevalence)) });
    // A skipped evidence file (too large, hostile YAML, symlink escaping its folder…) must be visible
    // to the operator (startLiveEvidence logs its own).
    if (options.evidence) logEvidenceIssues(log, options.evidence.issues);
    if (liveEvidence) assertEvidenceUsable(config, liveEvidence.evidence);

    // Every platform call goes through the circuit breaker; it probes with the same client.
    let probeTarget: OpenCtiClient | undefined;
    const breaker = createPlatformBreaker({
      failureThreshold: config.opencti.breaker_failures,
      probe: () => probePlatform((probeTarget as OpenCtiClient).gql),
      probeBackoff: { backoffBaseMs: config.opencti.breaker_probe_base_ms, backoffMaxMs: config.opencti.breaker_probe_max_ms },
      log,
      clock,
    });
    cleanups.push({ name: 'platform circuit', run: () => breaker.close() });
    if (metrics) registerBreakerMetrics(metrics.registry, breaker);
    live.breaker = breaker;

    const opencti = createOpenCtiClient({
      ...platformClientOptionsOf(config),
      gate: breaker,
      ...(options.pageSize ? { pageSize: options.pageSize } : {}),
    });
    probeTarget = opencti;
    cleanups.push({ name: 'opencti', run: () => opencti.close() });
    // Score history and regressions (docs/history.md); a shared store that is down delays history, never the daemon.
    const history = await startDaemonHistory(config, { log, gql: opencti.gql, ...(metrics ? { registry: metrics.registry } : {}), clock });
    if (history) cleanups.push({ name: 'history', run: () => history.close() });

    const registration = await registerWithRetry(opencti, config, log, options.signal);
    log.info({ connector_id: connectorId, listen: registration.config.listen }, 'connector registered');

    // What the platform is (logged; behaviour never hangs on the version string: docs/compatibility.md).
    const platform = await untilCancelled(createPlatformProbe({ gql: opencti.gql }).probe(), options.signal, 'while probing OpenCTI');
    log.info({ platform_version: platform.version, security_coverage: platform.securityCoverage, result_entity: platform.resultEntity }, 'platform detected');
    for (const note of platform.notes) log.warn({ platform_version: platform.version }, note);
    // Gap prevalence: read in the background once the platform answers, so the first assessments are
    // likely ranked by it (they never wait for it).
    prevalenceSource = configuredPrevalenceSource(config, log, opencti.gql);
    if (prevalenceSource) {
      void prevalenceSource.refresh();
      cleanups.push({ name: 'gap prevalence', run: () => prevalenceSource?.close() });
    }

    const url = brokerUrl(registration.config.connection, config.mq);
    const deadLetterQueue = config.mq.dead_letter_queue ?? `${registration.config.listen}.dlq`;
    const broker = createBroker({
      url,
      listenQueue: registration.config.listen,
      deadLetterQueue,
      prefetch: Math.max(config.worker.prefetch, config.worker.concurrency),
      log,
      sslVerify: config.mq.ssl_verify,
      ...(config.mq.ca_file ? { caFile: config.mq.ca_file } : {}),
    });
    cleanups.push({ name: 'broker', run: () => broker.close() });

    const amqpPush = createAmqpBundlePublisher(broker, {
      exchange: registration.config.push_exchange,
      routingKey: registration.config.push_routing,
      applicantId: registration.connectorUserId,
    });
    // The coverage's link: our report page when people can reach it, else the coverage page in OpenCTI.
    const externalUri = {
      ...(config.http.public_url ? { connectorPublicUrl: config.http.public_url } : {}),
      platformPublicUrl: config.opencti.public_url ?? (config.opencti.url as string),
    };
    // A draft run goes through the broker: the platform's GraphQL push drops the draft (platform-behaviour.md §7).
    const pushOne: JobDeps['pushOne'] = (workId, draftId) => {
      if (config.worker.push_mode === 'amqp' || draftId) return Object.assign((bundle: StixBundle) => amqpPush(bundle, { workId, draftId }), { platformMayCount: false });
      return Object.assign((bundle: StixBundle) => opencti.coverage.pushBundle(connectorId, bundle, workId), {
        carrying: (bundle: StixBundle, receivedMessage: string) => opencti.coverage.pushBundle(connectorId, bundle, workId, undefined, receivedMessage),
      });
    };

    // The scheduler starts after the broker; the worker tells it about every run.
    let scheduling: Scheduling | undefined;
    const jobDeps: JobDeps = {
      coverage: opencti.coverage,
      assessor,
      work: opencti.work,
      pushOne,
      observer,
      clock,
      ...(history ? { recorder: history.recorder } : {}),
      settled: createSettledRuns(SETTLED_RUNS_KEPT),
      pushCounting: createPushCounting(),
      settings: {
        pushParallelism: config.worker.push_parallelism,
        scope: [...config.connector.scope],
        rollupSubtechniques: config.coverage.rollup_subtechniques,
        maxTechniques: config.limits.max_techniques,
        defaultPeriodicity: config.scheduler.default_periodicity,
        timezone: config.scheduler.timezone,
        periodBounds: { minPeriodicity: config.scheduler.min_periodicity, maxDuration: config.scheduler.max_duration },
        externalUri,
        connectorId,
      },
    };
    const worker = createWorker({
      log,
      observer,
      work: opencti.work,
      clock,
      onRun: (message, ranAt) => scheduling?.recordEnrichment(message, ranAt),
      job: (message, ctx) => runEnrichment(jobDeps, message, ctx),
      deadLetter: createDeadLetterPublisher(broker),
      deadLetterHas: (header, value) => broker.deadLetterHas(header, value),
      listenQueue: registration.config.listen,
      concurrency: config.worker.concurrency,
      maxMessageBytes: config.limits.max_message_bytes,
      policy: retryPolicyOf(config),
      jobTimeoutMs: config.worker.job_timeout_ms,
      breaker,
      flow: { pause: () => broker.pauseConsuming(), resume: () => broker.resumeConsuming() },
    });
    cleanups.push({ name: 'worker', run: () => worker.drain(config.worker.shutdown_grace_ms) });
    cleanups.push({ name: 'consumer', run: () => broker.stopConsuming() });

    log.info({ broker: redactUrl(url), dead_letter_queue: deadLetterQueue, push_mode: config.worker.push_mode }, 'connecting to the broker');
    await broker.start((delivery) => worker.handle(delivery), options.signal);

    // Scheduled runs (docs/scheduling.md).
    if (config.scheduler.enabled) {
      scheduling = await startScheduling({ config, gql: opencti.gql, brokerUrl: url, log, observer, clock: { now: clock } });
      const started = scheduling;
      cleanups.push({ name: 'scheduler', run: () => started.close() });
    } else {
      log.info('SCHEDULER_ENABLED=false: coverages are only assessed on enrichment requests');
    }

    // ── operator: /readyz and /status see the running parts from now on ──
    Object.assign(live, {
      reports: createCoverageReportService({
        coverage: opencti.coverage,
        assessor,
        clock,
        ...(history ? { trend: trendProvider(history.store) } : {}),
        settings: {
          rollupSubtechniques: config.coverage.rollup_subtechniques,
          maxTechniques: config.limits.max_techniques,
          defaultPeriodicity: config.scheduler.default_periodicity,
          timezone: config.scheduler.timezone,
          externalUri,
        },
      }),
      registered: true,
      broker,
      worker,
      listenQueue: registration.config.listen,
      deadLetterQueue,
      ...(scheduling ? { scheduler: scheduling.scheduler } : {}),
    });
    let current = registration;
    let pingTimer: NodeJS.Timeout | undefined;
    let stopped = false;
    let closing: Promise<void> | undefined;
    const daemon: Daemon = {
      config,
      log,
      get registration() {
        return current;
      },
      worker,
      broker,
      opencti,
      platform,
      breaker,
      connectorState: registration.connectorState,
      ...(httpServer?.port !== undefined ? { httpPort: httpServer.port } : {}),
      async pingNow() {
        try {
          const { connectorState } = await opencti.connector.ping(connectorId, daemon.connectorState);
          if (connectorState === '' && daemon.connectorState) {
            log.info('connector state was reset by an operator; adopting the empty state');
            daemon.connectorState = '';
          }
        } catch (err) {
          if (isConnectorGone(err)) {
            log.warn('OpenCTI no longer knows this connector; registering again');
            current = await registerWithRetry(opencti, config, log);
            daemon.connectorState = current.connectorState;
            return;
          }
          log.warn({ err: { message: errorMessageOf(err) } }, 'ping failed; will retry at the next interval');
        }
      },
      close() {
        closing ??= (async () => {
          stopped = true;
          if (pingTimer) clearTimeout(pingTimer);
          log.info('stopping: no new messages, draining in-flight jobs');
          await runCleanups();
          log.info('stopped');
        })();
        return closing;
      },
    };
    const schedulePing = (): void => {
      if (stopped) return;
      pingTimer = setTimeout(() => {
        void daemon
          .pingNow()
          .catch((err: unknown) => log.warn({ err: { message: errorMessageOf(err) } }, 'ping loop error'))
          .finally(schedulePing);
      }, config.connector.ping_interval_seconds * 1000);
      pingTimer.unref?.();
    };
    schedulePing();
    daemonRef = daemon;
    log.info({ concurrency: config.worker.concurrency, prefetch: config.worker.prefetch, assessor: assessor.name }, 'daemon started');
    return daemon;
  } catch (err) {
    await runCleanups();
    // Printed by the caller (the CLI's fatal-exit line): no secret may ride along in the message.
    throw redactError(err, secretValues(config));
  }
}

/**
 * A daemon with no detection evidence would score every technique 0 and push that as a result: refuse
 * to start unless told (COVERAGE_ALLOW_EMPTY=true), naming what was searched and why it gave nothing.
 */
function assertEvidenceUsable(config: Readonly<Config>, evidence: EvidenceSet): void {
  if (config.coverage.allow_empty || !config.assessor.backends.includes('embedded')) return;
  if (evidence.rules.length > 0 || evidence.imported.length > 0) return;
  const where = config.coverage.rules_dirs.length > 0 ? `COVERAGE_RULES_DIRS (${config.coverage.rules_dirs.join(', ')})` : 'COVERAGE_RULES_DIRS (not set)';
  const why = evidence.issues.slice(0, 3).map((i) => `${i.path}: ${i.reason}`);
  throw new ConfigError(
    `no detection rule loaded from ${where} and no imported layer (COVERAGE_LAYERS): every technique would score 0. Point COVERAGE_RULES_DIRS at your rules, or set COVERAGE_ALLOW_EMPTY=true to start anyway${why.length > 0 ? ` (${why.join('; ')})` : ''}`,
  );
}
