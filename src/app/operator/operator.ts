import { v4 as uuidv4 } from 'uuid';
import { platformClientOptionsOf } from '../platform-options';
import type { Config } from '../../../schemas/config';
import { brokerUrl, redactUrl } from '../../adapters/amqp/connection-url';
import { createQueueAdmin, type MoveResult, type QueueAdmin, type QueuedMessage } from '../../adapters/amqp/dlq-admin';
import { listCoverageRefs, readConnectorRegistration, readCoverageBundle, type ConnectorRegistration } from '../../adapters/opencti/operator-api';
import { askEnrichment } from '../../adapters/opencti/schedule-api';
import { createGraphQLClient, type GraphQLClient } from '../../adapters/opencti/graphql-client';
import { createWorkApi } from '../../adapters/opencti/work-api';
import { errorMessageOf } from '../../errors';
import { assertDaemonConfig, loadConfig } from '../config';

/**
 * Operator use cases behind `retrigger`, `dlq` and `status` (docs/operating.md). Everything goes
 * through the platform's GraphQL API and the broker the way the daemon sees them; nothing here
 * drops a message: reads leave queues as they were, moves ack a copy only after the confirm.
 */

export interface ConnectorView {
  id: string;
  /** null: the platform could not be asked. */
  registered: boolean | null;
  active?: boolean;
  lastSeen?: string;
  platformError?: string;
  listenQueue: string;
  /** Where the platform publishes (absent → default exchange, routing key = queue). */
  listenExchange?: string;
  listenRouting?: string;
  deadLetterQueue: string;
  /** undefined when neither the platform nor MQ_URL / MQ_HOST tell where the broker is. */
  brokerUrl?: string;
}

export interface OperatorContext {
  config: Readonly<Config>;
  connectorId: string;
  gql: Pick<GraphQLClient, 'request'>;
  /** Connects on first use; throws BrokerError when the broker is down. */
  queues(): Promise<QueueAdmin>;
  connector(): Promise<ConnectorView>;
  close(): Promise<void>;
}


/** Reads the connector's registration; never throws (a platform failure is reported in the view). */
export async function describeConnector(gql: Pick<GraphQLClient, 'request'>, config: Readonly<Config>): Promise<ConnectorView> {
  const id = config.connector.id as string;
  let answer: ConnectorRegistration | null | undefined;
  let platformError: string | undefined;
  try {
    answer = await readConnectorRegistration(gql, id);
  } catch (err) {
    platformError = errorMessageOf(err);
  }
  const listenQueue = answer?.config?.listen ?? `listen_${id}`;
  let url: string | undefined;
  try {
    url = brokerUrl(answer?.config?.connection, config.mq);
  } catch {
    url = undefined;
  }
  return {
    id,
    registered: platformError ? null : !!answer,
    ...(answer?.active != null ? { active: answer.active } : {}),
    ...(answer?.updated_at ? { lastSeen: answer.updated_at } : {}),
    ...(platformError ? { platformError } : {}),
    listenQueue,
    ...(answer?.config ? { listenExchange: answer.config.listen_exchange, listenRouting: answer.config.listen_routing } : {}),
    deadLetterQueue: config.mq.dead_letter_queue ?? `${listenQueue}.dlq`,
    ...(url ? { brokerUrl: url } : {}),
  };
}

export function openOperatorContext(config: Readonly<Config>, overrides: { gql?: Pick<GraphQLClient, 'request'> & { close?: () => void } } = {}): OperatorContext {
  const gql =
    overrides.gql ??
    createGraphQLClient(platformClientOptionsOf(config));
  let view: Promise<ConnectorView> | undefined;
  let admin: QueueAdmin | undefined;
  const ctx: OperatorContext = {
    config,
    connectorId: config.connector.id as string,
    gql,
    connector: () => (view ??= describeConnector(gql, config)),
    async queues() {
      if (admin) return admin;
      const v = await ctx.connector();
      if (!v.brokerUrl) {
        throw new Error(`no broker address: ${v.platformError ? `the platform is unreachable (${v.platformError})` : 'the connector is not registered'} and MQ_URL / MQ_HOST are not set`);
      }
      admin = createQueueAdmin({ url: v.brokerUrl, sslVerify: config.mq.ssl_verify, ...(config.mq.ca_file ? { caFile: config.mq.ca_file } : {}) });
      return admin;
    },
    async close() {
      await admin?.close();
      (gql as { close?: () => void }).close?.();
    },
  };
  return ctx;
}

// ─── retrigger ───────────────────────────────────────────────────────────────────────────────────

export interface CoverageRef {
  id: string;
  standardId: string;
  name: string;
}

export interface RetriggerSelection {
  ids?: string[];
  /** Every coverage whose `coverage_valid_to` is before now. */
  stale?: boolean;
  all?: boolean;
  /** The coverage(s) of this report / intrusion set (internal or standard id). */
  container?: string;
}

/** Coverages the selection names, in platform order; explicit ids are kept as given (checked when queued). */
export async function selectCoverages(gql: Pick<GraphQLClient, 'request'>, selection: RetriggerSelection, now: Date, pageSize = 100): Promise<CoverageRef[]> {
  const explicit = (selection.ids ?? []).map((id) => ({ id, standardId: id, name: id }));
  if (!selection.stale && !selection.all && !selection.container) return explicit;
  const out: CoverageRef[] = [...explicit];
  const seen = new Set(explicit.map((c) => c.id));
  let after: string | null = null;
  for (let page = 0; page < 100000; page++) {
    const conn = await listCoverageRefs(gql, { first: pageSize, after });
    if (!conn) break;
    for (const { node } of conn.edges) {
      const validTo = node.coverage_valid_to ? new Date(node.coverage_valid_to) : undefined;
      const pick =
        selection.all ||
        (selection.stale && validTo !== undefined && validTo.getTime() < now.getTime()) ||
        (selection.container !== undefined && (node.objectCovered?.id === selection.container || node.objectCovered?.standard_id === selection.container));
      if (pick && !seen.has(node.id) && !seen.has(node.standard_id)) {
        seen.add(node.id);
        out.push({ id: node.id, standardId: node.standard_id, name: node.name });
      }
    }
    if (!conn.pageInfo.hasNextPage || conn.edges.length === 0 || conn.pageInfo.endCursor === after) break;
    after = conn.pageInfo.endCursor;
  }
  return out;
}

/** The §3.2 message of a manual re-trigger, exactly as the platform builds it (§3.3 "Manual"). */
export function manualEnrichmentMessage(workId: string, standardId: string, bundleJson: string): Record<string, unknown> {
  const bundle = JSON.parse(bundleJson) as { objects?: Array<Record<string, unknown>> };
  const objects = Array.isArray(bundle.objects) ? bundle.objects : [];
  const entity = objects.find((o) => o.id === standardId) ?? objects.find((o) => o.type === 'security-coverage');
  if (!entity) throw new Error(`toStixBundle of ${standardId} does not contain the coverage`);
  return {
    internal: { work_id: workId, applicant_id: null, draft_id: null, trigger: 'update', mode: 'manual' },
    event: {
      event_type: 'INTERNAL_ENRICHMENT',
      entity_id: standardId,
      entity_type: 'Security-Coverage',
      stix_entity: JSON.stringify(entity),
      stix_objects: bundleJson,
    },
  };
}

export interface RetriggerOutcome {
  coverage: CoverageRef;
  workId?: string;
  messageId?: string;
  error?: string;
}

export const RETRIGGER_WORK_NAME = 'Manual enrichment (coverage-connector retrigger)';

/**
 * Queues one run per coverage. Default: build the message from `toStixBundle`, open a work with
 * `workAdd`, publish it (persistent, confirmed) to the listen exchange. `viaPlatform`: ask the
 * platform (`askEnrichment`), which creates its own work and publishes the message itself.
 */
export async function retrigger(
  ctx: OperatorContext,
  coverages: CoverageRef[],
  options: { viaPlatform?: boolean; onEach?: (o: RetriggerOutcome) => void } = {},
): Promise<RetriggerOutcome[]> {
  const results: RetriggerOutcome[] = [];
  const view = options.viaPlatform ? undefined : await ctx.connector();
  const queues = options.viaPlatform ? undefined : await ctx.queues();
  const work = createWorkApi({ gql: ctx.gql as GraphQLClient });
  for (const coverage of coverages) {
    let outcome: RetriggerOutcome;
    try {
      outcome = options.viaPlatform ? await askPlatform(ctx, coverage) : await queueDirectly(ctx, view as ConnectorView, queues as QueueAdmin, work, coverage);
    } catch (err) {
      outcome = { coverage, error: errorMessageOf(err) };
    }
    results.push(outcome);
    options.onEach?.(outcome);
  }
  return results;
}

async function askPlatform(ctx: OperatorContext, coverage: CoverageRef): Promise<RetriggerOutcome> {
  const workId = await askEnrichment(ctx.gql, coverage.id, ctx.connectorId);
  if (!workId) throw new Error('the platform created no enrichment (is the connector active and the coverage in its scope?)');
  return { coverage, workId };
}

async function queueDirectly(ctx: OperatorContext, view: ConnectorView, queues: QueueAdmin, work: ReturnType<typeof createWorkApi>, coverage: CoverageRef): Promise<RetriggerOutcome> {
  const c = await readCoverageBundle(ctx.gql, coverage.id);
  if (!c) throw new Error(`no coverage ${coverage.id} in the platform`);
  if (!c.toStixBundle) throw new Error(`the platform returned no toStixBundle for ${coverage.id}`);
  const resolved = { id: c.id, standardId: c.standard_id, name: c.name };
  const workId = await work.add(ctx.connectorId, RETRIGGER_WORK_NAME);
  const messageId = uuidv4();
  try {
    const body = Buffer.from(JSON.stringify(manualEnrichmentMessage(workId, c.standard_id, c.toStixBundle)), 'utf8');
    await queues.publish({
      exchange: view.listenExchange ?? '',
      routingKey: view.listenRouting ?? view.listenQueue,
      body,
      messageId,
    });
  } catch (err) {
    // Nothing was queued: do not leave a work "in progress" forever.
    await work.toProcessed(workId, `Not queued: ${errorMessageOf(err)}`, true).catch(() => undefined);
    throw err;
  }
  return { coverage: resolved, workId, messageId };
}

// ─── dead letters ────────────────────────────────────────────────────────────────────────────────

/** Matches a dead letter by its listed id, message id or coverage id. */
export const matchesId = (m: QueuedMessage, id: string): boolean => m.id === id || m.messageId === id || m.coverageId === id;

export async function listDeadLetters(ctx: OperatorContext, limit?: number): Promise<QueuedMessage[]> {
  const view = await ctx.connector();
  return (await ctx.queues()).peek(view.deadLetterQueue, limit !== undefined ? { limit } : {});
}

export async function showDeadLetter(ctx: OperatorContext, id: string): Promise<QueuedMessage[]> {
  return (await listDeadLetters(ctx)).filter((m) => matchesId(m, id));
}

export const REPLAY_WORK_NAME = 'Replay of a dead letter (coverage-connector dlq replay)';

/**
 * The body of a replayed enrichment request with a fresh work: the dead letter's work was closed in
 * error when it was dead-lettered, and the platform worker silently drops results pushed into a work
 * that is no longer alive (protocol §6.1). Bodies that are not JSON requests are replayed unchanged.
 */
export async function withFreshWork(ctx: OperatorContext, m: QueuedMessage): Promise<{ body: Buffer; headers?: Record<string, unknown>; undo?: () => Promise<void> }> {
  let message: { internal?: { work_id?: unknown } } | null;
  try {
    message = JSON.parse(m.body.toString('utf8')) as typeof message;
  } catch {
    return { body: m.body };
  }
  const oldWork = message?.internal?.work_id;
  if (!message?.internal || typeof oldWork !== 'string' || oldWork === '') return { body: m.body };
  const work = createWorkApi({ gql: ctx.gql as GraphQLClient });
  const workId = await work.add(ctx.connectorId, REPLAY_WORK_NAME);
  message.internal.work_id = workId;
  return {
    body: Buffer.from(JSON.stringify(message), 'utf8'),
    headers: { 'x-replaced-work-id': oldWork },
    undo: () => work.toProcessed(workId, 'Replay not queued: the broker refused the message', true),
  };
}

/**
 * Moves dead letters back onto the listen queue; their headers (x-attempts…) travel with them, so
 * the worker keeps counting. Each gets a fresh work (see withFreshWork).
 */
export async function replayDeadLetters(ctx: OperatorContext, selection: { ids?: string[]; all?: boolean }, onMoved?: (m: QueuedMessage) => void): Promise<MoveResult> {
  if (!selection.all && (!selection.ids || selection.ids.length === 0)) throw new Error('name the dead letters to replay, or pass --all');
  const view = await ctx.connector();
  const queues = await ctx.queues();
  if ((await queues.depth(view.listenQueue)) === null) {
    throw new Error(`listen queue ${view.listenQueue} does not exist (the platform declares it when the connector registers); nothing replayed`);
  }
  const ids = selection.ids ?? [];
  return queues.move(view.deadLetterQueue, view.listenQueue, (m) => selection.all === true || ids.some((id) => matchesId(m, id)), {
    ...(onMoved ? { onMoved } : {}),
    prepare: (m) => withFreshWork(ctx, m),
  });
}

export async function purgeDeadLetters(ctx: OperatorContext): Promise<number> {
  const view = await ctx.connector();
  return (await ctx.queues()).purge(view.deadLetterQueue);
}

// ─── status ──────────────────────────────────────────────────────────────────────────────────────

export interface DaemonStatus {
  connector_id?: string;
  registered?: boolean;
  broker_connected?: boolean;
  in_flight?: number;
  scheduler?: { enabled: boolean; leader: boolean | null };
  last_success?: string | null;
  counters?: Record<string, number>;
  started_at?: string;
}

export interface StatusReport {
  connector: { id: string; registered: boolean | null; active?: boolean; lastSeen?: string };
  platform: { url: string; reachable: boolean; error?: string };
  broker: { url?: string; reachable: boolean | null; error?: string };
  queues: { listen: { name: string; depth?: number | null }; deadLetter: { name: string; depth?: number | null } };
  /**
   * `status` is this connector's daemon's /status; `otherConnector` is set instead when the daemon at
   * that address serves another connector (a shared port, a wrong HTTP_PORT or --daemon-url).
   */
  daemon: { url: string; reachable: boolean; status?: DaemonStatus; otherConnector?: string; error?: string };
}

/** Where the running daemon's /status is: its HTTP host (0.0.0.0 → loopback) and port. */
export function daemonUrlOf(config: Readonly<Config>): string {
  const host = ['0.0.0.0', '::', ''].includes(config.http.host) ? '127.0.0.1' : config.http.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.http.port}`;
}

/** `token`: the daemon's HTTP_AUTH_TOKEN, when it protects /status. */
export async function readDaemonStatus(baseUrl: string, timeoutMs = 2000, token?: string): Promise<DaemonStatus> {
  const res = await fetch(`${baseUrl.replace(/\/+$/, '')}/status`, { signal: AbortSignal.timeout(timeoutMs), ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) });
  if (res.status === 401) throw new Error('HTTP 401: the daemon protects /status; set HTTP_AUTH_TOKEN to its value');
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return (await res.json()) as DaemonStatus;
}

/** Never throws for an unreachable platform, broker or daemon: each is reported as down. */
export async function collectStatus(ctx: OperatorContext, options: { daemonUrl?: string } = {}): Promise<StatusReport> {
  const view = await ctx.connector();
  const report: StatusReport = {
    connector: {
      id: view.id,
      registered: view.registered,
      ...(view.active !== undefined ? { active: view.active } : {}),
      ...(view.lastSeen ? { lastSeen: view.lastSeen } : {}),
    },
    platform: { url: ctx.config.opencti.url as string, reachable: !view.platformError, ...(view.platformError ? { error: view.platformError } : {}) },
    broker: { ...(view.brokerUrl ? { url: redactUrl(view.brokerUrl) } : {}), reachable: null },
    queues: { listen: { name: view.listenQueue }, deadLetter: { name: view.deadLetterQueue } },
    daemon: { url: options.daemonUrl ?? daemonUrlOf(ctx.config), reachable: false },
  };
  try {
    const queues = await ctx.queues();
    report.queues.listen.depth = await queues.depth(view.listenQueue);
    report.queues.deadLetter.depth = await queues.depth(view.deadLetterQueue);
    report.broker.reachable = true;
  } catch (err) {
    report.broker.reachable = view.brokerUrl ? false : null;
    report.broker.error = errorMessageOf(err);
  }
  try {
    const status = await readDaemonStatus(report.daemon.url, undefined, ctx.config.http.auth_token);
    report.daemon.reachable = true;
    if (status.connector_id && status.connector_id !== view.id) report.daemon.otherConnector = status.connector_id;
    else report.daemon.status = status;
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    report.daemon.error = cause ? `${errorMessageOf(err)} (${cause})` : errorMessageOf(err);
  }
  return report;
}

/** Loads the configuration (CLI: file + env), opens a context, runs `fn`, always closes. */
export async function withOperatorContext<T>(options: { configFile?: string; env?: NodeJS.ProcessEnv }, fn: (ctx: OperatorContext) => Promise<T>): Promise<T> {
  const config = loadConfig({ ...(options.configFile ? { file: options.configFile } : {}), ...(options.env ? { env: options.env } : {}) });
  assertDaemonConfig(config);
  const ctx = openOperatorContext(config);
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}
