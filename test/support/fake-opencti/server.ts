import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { graphql, GraphQLError } from 'graphql';
import { v4 as uuidv4 } from 'uuid';
import { createPlatformBroker, topology, type PlatformBroker } from './platform-broker';
import { executionSchema, PLATFORM_RULES, rejectDocument, validationSchemaOf, type FakePlatformVersion, type PlatformRules } from './platform-rules';
import { createResolvers, type RequestContext, type SubmittedPush } from './resolvers';
import { FakeState, type FakeCoverage, type FakeEntity, type FakeRelationship, type PushRecord, type Score } from './state';

/**
 * A stand-in OpenCTI that applies the real platform's rules (platform-rules.ts): GraphQL over node:http,
 * every document validated with the version's schema and the alias rule before it runs; pushes
 * imported asynchronously, one object at a time, by a worker that also consumes the connectors' push
 * queues; every stored change of a coverage, a creation and a container edit re-trigger enrichments to
 * the registered connectors through the real broker, exactly as the platform does. Injectable failures
 * and a record of every call, push, enrichment and rejected document.
 */

export type FailureKind =
  | 'status'
  | 'down'
  | 'slow'
  | 'malformed'
  | 'graphql-error'
  // 200 and JSON headers at once, then the body one byte every `delayMs` (default 1000): never idle, never done.
  | 'trickle'
  // A GraphQL error whose message echoes the request headers (token included), as some proxies and servers do.
  | 'echo-headers'
  // HTTP 200 with a transient GraphQL error in the body (`INTERNAL_SERVER_ERROR`).
  | 'graphql-transient';

export interface FailureRule {
  kind: FailureKind;
  /** How many matching requests fail (Infinity = until cleared). */
  times: number;
  status?: number;
  delayMs?: number;
  message?: string;
  /** Only these operations fail (default: all). */
  operations?: string[];
}

export interface RecordedCall {
  operationName: string;
  variables: Record<string, unknown>;
  failed?: FailureKind;
  at: number;
}

export interface FakeOpenCtiOptions {
  amqpUrl: string;
  token?: string;
  /** The platform caps page sizes; small here so pagination is exercised. */
  maxPageSize?: number;
  /** Which OpenCTI the stand-in plays (default 6.9). */
  version?: FakePlatformVersion;
  /** Time the worker takes per imported object (default 1 ms; asynchronous either way). */
  importDelayMs?: number;
}

export interface EnrichmentOptions {
  mode?: 'auto' | 'manual';
  trigger?: 'create' | 'update';
  /** false = `stix_objects: null` (connector registered without stix_bundle resolution). */
  withObjects?: boolean;
  draftId?: string | null;
  /** Edit the message before it is published. */
  mutate?: (message: Record<string, unknown>) => void;
  messageId?: string;
  /** Why the platform sent it (recorded in `enrichments`). */
  cause?: string;
}

/** One enrichment request the platform published. */
export interface EnrichmentRecord {
  connectorId: string;
  coverageId: string;
  workId: string;
  mode: 'auto' | 'manual';
  trigger: 'create' | 'update';
  cause: string;
  at: number;
}

export interface RejectedDocument {
  operationName: string;
  errors: string[];
}

interface ImportItem {
  record: PushRecord;
  objects: Array<Record<string, unknown>>;
  /** A multi-object bundle the worker splits first (adding expectations for the parts). */
  split: boolean;
}

export class FakeOpenCti {
  readonly state = new FakeState();
  readonly calls: RecordedCall[] = [];
  readonly enrichments: EnrichmentRecord[] = [];
  /** Documents the platform refused before running them (schema or alias rule). */
  readonly rejected: RejectedDocument[] = [];
  readonly token: string;
  readonly suffix = uuidv4().slice(0, 8);
  readonly topo = topology(this.suffix);
  readonly broker: PlatformBroker;
  readonly rules: PlatformRules;
  url = '';
  private failures: FailureRule[] = [];
  private server?: http.Server;
  private readonly resolvers;
  private readonly queue: ImportItem[] = [];
  private importing = false;
  private pendingPublishes = 0;
  private closed = false;

  constructor(private readonly options: FakeOpenCtiOptions) {
    this.token = options.token ?? 'fake-token';
    this.rules = PLATFORM_RULES[options.version ?? '6.9'];
    this.broker = createPlatformBroker(options.amqpUrl, this.topo);
    this.resolvers = createResolvers(this.state, {
      amqpUrl: options.amqpUrl,
      topo: this.topo,
      broker: {
        ...this.broker,
        // Registering declares the queues; the platform's worker then consumes the push queue.
        declare: async (connector) => {
          await this.broker.declare(connector);
          await this.broker.consumePush(connector.id, (body) => this.receivePushMessage(connector.id, body));
        },
      },
      maxPageSize: options.maxPageSize ?? 2,
      askEnrichment: (coverage, connectorId) => this.publishEnrichment(connectorId, coverage, { mode: 'manual', trigger: 'update', cause: 'askEnrichment' }),
      submitPush: (push) => this.submitPush(push),
      coverageChanged: (coverage, cause) => this.autoEnrich(coverage, 'update', cause),
    });
    Object.assign(this.resolvers, { about: () => ({ version: this.rules.about }) });
  }

  async start(): Promise<this> {
    // Build the version's schemas now, not inside the first request (seconds on a loaded machine).
    validationSchemaOf(this.rules.version);
    executionSchema();
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await this.broker.close();
  }

  fail(rule: FailureRule): void {
    this.failures.push({ ...rule });
  }

  clearFailures(): void {
    this.failures = [];
  }

  callsOf(operationName: string): RecordedCall[] {
    return this.calls.filter((c) => c.operationName === operationName && !c.failed);
  }

  /** Resolves once `predicate` holds, re-checked on every state change; rejects after `timeoutMs`. */
  until<T>(predicate: () => T | undefined | false, timeoutMs = 15000, what = 'condition'): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const v = predicate();
        if (v) {
          cleanup();
          resolve(v);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.state.off('change', check);
      };
      this.state.on('change', check);
      check();
    });
  }

  /** Nothing queued for import nor being imported. */
  get idle(): boolean {
    return !this.importing && this.queue.length === 0;
  }

  /**
   * Resolves when the platform is at rest for `quietMs`: nothing left to import, no enrichment work
   * open, no re-trigger being published. The way to say "the chain of runs has ended".
   */
  async settle(quietMs = 150, timeoutMs = 20000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let quietSince = Date.now();
    for (;;) {
      const busy =
        this.importing ||
        this.queue.length > 0 ||
        this.pendingPublishes > 0 ||
        this.enrichments.some((e) => this.state.works.get(e.workId)?.status !== 'complete');
      if (busy) quietSince = Date.now();
      else if (Date.now() - quietSince >= quietMs) return;
      if (Date.now() > deadline) {
        const open = this.enrichments.filter((e) => this.state.works.get(e.workId)?.status !== 'complete').map((e) => e.workId);
        throw new Error(`platform not at rest after ${timeoutMs} ms: ${this.queue.length} import(s) queued, open works ${open.join(', ') || 'none'}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The §3.2 message for a coverage; creates the platform's work (`status: wait`). */
  enrichmentMessage(connectorId: string, coverage: FakeCoverage, options: EnrichmentOptions = {}): { body: Record<string, unknown>; workId: string } {
    const draftId = options.draftId ?? null;
    const work = this.state.createWork(connectorId, 'wait', coverage.standardId, draftId);
    const stored = this.state.coverage(coverage.standardId, this.state.store(draftId)) ?? coverage;
    const body: Record<string, unknown> = {
      internal: { work_id: work.id, applicant_id: null, draft_id: draftId, trigger: options.trigger ?? 'create', mode: options.mode ?? 'auto' },
      event: {
        event_type: 'INTERNAL_ENRICHMENT',
        entity_id: stored.standardId,
        entity_type: 'Security-Coverage',
        stix_entity: JSON.stringify(this.state.stixCoverage(stored)),
        stix_objects: options.withObjects === false ? null : JSON.stringify(this.state.stixBundle(stored)),
      },
    };
    options.mutate?.(body);
    return { body, workId: work.id };
  }

  async publishEnrichment(connectorId: string, coverage: FakeCoverage, options: EnrichmentOptions = {}): Promise<string> {
    const { body, workId } = this.enrichmentMessage(connectorId, coverage, options);
    this.enrichments.push({
      connectorId,
      coverageId: coverage.standardId,
      workId,
      mode: options.mode ?? 'auto',
      trigger: options.trigger ?? 'create',
      cause: options.cause ?? 'test',
      at: Date.now(),
    });
    await this.broker.publishListen(connectorId, Buffer.from(JSON.stringify(body)), options.messageId ? { messageId: options.messageId } : {});
    return workId;
  }

  async publishRaw(connectorId: string, content: string | Buffer, messageId?: string): Promise<void> {
    await this.broker.publishListen(connectorId, Buffer.isBuffer(content) ? content : Buffer.from(content), messageId ? { messageId } : {});
  }

  // ── What users and other writers do on the platform ───────────────────────────────────────────

  /** A user creates a coverage: `createEntityAutoEnrichment` to every `auto` connector in scope. */
  async createCoverage(coveredRef: string, extra: Partial<FakeCoverage> = {}): Promise<FakeCoverage> {
    const coverage = this.state.addCoverage(coveredRef, extra);
    await this.autoEnrich(coverage, 'create', 'creation');
    return coverage;
  }

  /** A user adds an attack pattern to a covered container: the coverage's `modified` moves and it is re-enriched (middleware.ts ~2911). */
  async addToContainer(containerId: string, pattern: FakeEntity): Promise<void> {
    const container = this.state.entities.get(containerId);
    if (!container) throw new Error(`no container ${containerId}`);
    if (!container.objectIds.includes(pattern.standardId)) container.objectIds.push(pattern.standardId);
    await this.containerChanged(containerId, `attack pattern ${pattern.xMitreId ?? pattern.standardId} added`);
  }

  async removeFromContainer(containerId: string, pattern: FakeEntity): Promise<void> {
    const container = this.state.entities.get(containerId);
    if (!container) throw new Error(`no container ${containerId}`);
    container.objectIds = container.objectIds.filter((id) => id !== pattern.standardId);
    await this.containerChanged(containerId, `attack pattern ${pattern.xMitreId ?? pattern.standardId} removed`);
  }

  /** Another writer (OpenAEV, an analyst) adds its own has-covered: nothing is re-triggered. */
  addForeignHasCovered(coverageId: string, targetId: string, scores: Score[], writer = 'openaev'): FakeRelationship {
    const r = this.state.addRelationship('has-covered', coverageId, targetId, scores, writer);
    this.state.changed();
    return r;
  }

  /** A user edits stored coverage fields directly (e.g. the validity window): an upsert event, so re-triggered. */
  async editCoverage(coverage: FakeCoverage, patch: Partial<FakeCoverage>): Promise<void> {
    Object.assign(coverage, patch, { modified: new Date().toISOString() });
    await this.autoEnrich(coverage, 'update', 'coverage edited');
  }

  /** The enrichments published for one coverage so far. */
  enrichmentsOf(coverageId: string): EnrichmentRecord[] {
    return this.enrichments.filter((e) => e.coverageId === coverageId);
  }

  private async containerChanged(containerId: string, cause: string): Promise<void> {
    for (const coverage of [...this.state.coverages.values()].filter((c) => c.coveredRef === containerId)) {
      coverage.modified = new Date().toISOString();
      await this.autoEnrich(coverage, 'update', cause);
    }
  }

  /**
   * `src/domain/enrichment.js` filterConnectorsForElementEnrichment: creation needs `auto`, update
   * needs `auto_update`, the scope must match (case-insensitive), `auto_enrichment_disable` stops it,
   * and from 7.2608 the connector's user must be able to read the entity.
   */
  private async autoEnrich(coverage: FakeCoverage, trigger: 'create' | 'update', cause: string): Promise<void> {
    if (coverage.autoEnrichmentDisable) return;
    if (this.rules.accessCheck && coverage.hidden) return;
    for (const c of this.state.connectors.values()) {
      if (!c.scope.some((s) => s.toLowerCase() === 'security-coverage')) continue;
      if (trigger === 'create' ? !c.auto : !c.autoUpdate) continue;
      this.pendingPublishes += 1;
      try {
        await this.publishEnrichment(c.id, coverage, { mode: 'auto', trigger, cause });
      } finally {
        this.pendingPublishes -= 1;
        this.state.changed();
      }
    }
  }

  // ── The platform's import pipeline ─────────────────────────────────────────────────────────────

  /** A push reached the platform (GraphQL `stixBundlePush`, or a message on the push queue). */
  private submitPush(push: SubmittedPush): void {
    const record: PushRecord = { connectorId: push.connectorId, workId: push.workId, draftId: push.draftId, via: push.via, objects: push.objects, dropped: false };
    this.state.pushes.push(record);
    if (push.via === 'graphql' && !push.workId) {
      // src/domain/stix.js sendStixBundle: a work "<connector> run @ <now>", 1 expectation for a one-object bundle.
      const w = this.state.createWork(push.connectorId, 'progress');
      w.name = `${this.state.connectors.get(push.connectorId)?.name ?? push.connectorId} run @ ${w.timestamp}`;
      w.processedCalls.push({ message: 'platform-created work', inError: false });
      if (push.objects.length === 1) w.expected += 1;
      record.workId = w.id;
    }
    const work = record.workId ? this.state.works.get(record.workId) : undefined;
    if (push.via === 'graphql' && push.workId && this.rules.expectationsOnPush) {
      // master (#17265, rabbitmq.js pushBundleToWorker): the platform splits and counts the parts itself.
      if (work) work.expected += push.objects.length;
      for (const o of push.objects) this.queue.push({ record, objects: [o], split: false });
    } else {
      this.queue.push({ record, objects: push.objects, split: push.objects.length > 1 });
    }
    this.state.changed();
    void this.drain();
  }

  /** The worker's push handler (opencti-worker push_handler.py): base64 bundle, work id, draft id. */
  private receivePushMessage(connectorId: string, body: Buffer): void {
    try {
      const message = JSON.parse(body.toString('utf8')) as { content?: string; work_id?: string | null; draft_id?: string | null };
      const bundle = JSON.parse(Buffer.from(String(message.content), 'base64').toString('utf8')) as { objects?: Array<Record<string, unknown>> };
      if (!Array.isArray(bundle.objects) || bundle.objects.length === 0) return;
      this.submitPush({ connectorId, objects: bundle.objects, workId: message.work_id ?? null, draftId: message.draft_id ?? null, via: 'amqp' });
    } catch {
      // The real worker acks and drops what it cannot read.
    }
  }

  /** One object at a time, with a delay, as the platform's workers import. */
  private async drain(): Promise<void> {
    if (this.importing) return;
    this.importing = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const item = this.queue.shift() as ImportItem;
        const delay = this.options.importDelayMs ?? 1;
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        await this.importItem(item);
        this.state.changed();
      }
    } finally {
      this.importing = false;
      this.state.changed();
    }
  }

  private async importItem(item: ImportItem): Promise<void> {
    const { record } = item;
    const work = record.workId ? this.state.works.get(record.workId) : undefined;
    // A work that is complete (or gone) is not alive: the worker acks and drops the message.
    if (record.workId && (!work || work.status === 'complete')) {
      record.dropped = true;
      return;
    }
    if (item.split) {
      // The worker splits a multi-object bundle, adds one expectation per part and re-queues them.
      const parts = [...item.objects].sort((a, b) => Number(a.type === 'relationship') - Number(b.type === 'relationship'));
      if (work) work.expected += parts.length;
      for (const o of parts) this.queue.push({ record, objects: [o], split: false });
      return;
    }
    const store = this.state.store(record.draftId);
    const { error, changed } = this.state.importObject(item.objects[0] ?? {}, store, record.connectorId);
    if (work) {
      if (error) work.errors.push(error);
      work.processed += 1;
      this.state.maybeComplete(work);
    }
    if (changed && !record.draftId) await this.autoEnrich(changed, 'update', `write by ${record.connectorId}`);
  }

  // ── HTTP ───────────────────────────────────────────────────────────────────────────────────────

  private takeFailure(operationName: string): FailureRule | undefined {
    const rule = this.failures.find((f) => f.times > 0 && (!f.operations || f.operations.includes(operationName)));
    if (rule) rule.times -= 1;
    return rule;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let payload: { query?: string; variables?: Record<string, unknown>; operationName?: string } = {};
    try {
      payload = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof payload;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: 'bad JSON' }] }));
      return;
    }
    const operationName = payload.operationName ?? /\b(?:query|mutation)\s+(\w+)/.exec(payload.query ?? '')?.[1] ?? 'anonymous';
    const call: RecordedCall = { operationName, variables: payload.variables ?? {}, at: Date.now() };
    this.calls.push(call);
    const failure = this.takeFailure(operationName);
    if (failure) call.failed = failure.kind;
    this.state.changed();
    if (failure?.kind === 'down') {
      req.socket.destroy();
      return;
    }
    if (failure?.kind === 'slow') await new Promise((r) => setTimeout(r, failure.delayMs ?? 1000));
    if (failure?.kind === 'status') {
      res.writeHead(failure.status ?? 500, { 'content-type': 'text/plain' }).end('failure injected');
      return;
    }
    if (failure?.kind === 'malformed') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>gateway</html>');
      return;
    }
    if (failure?.kind === 'trickle') {
      res.writeHead(200, { 'content-type': 'application/json' });
      const body = Buffer.from(JSON.stringify({ errors: [{ message: 'trickled' }], data: null }));
      let i = 0;
      const timer = setInterval(() => {
        if (i < body.length) res.write(body.subarray(i, i + 1));
        else res.write(' ');
        i += 1;
      }, failure.delayMs ?? 1000);
      res.on('close', () => clearInterval(timer));
      return;
    }
    if (failure?.kind === 'echo-headers') {
      const echoed = Object.entries(req.headers).map(([k, v]) => `${k}=${String(v)}`).join(', ');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: `${failure.message ?? 'Request rejected'} (request headers: ${echoed})`, extensions: { code: 'FUNCTIONAL_ERROR', headers: req.headers } }], data: null }));
      return;
    }
    if (failure?.kind === 'graphql-transient') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: failure.message ?? 'Unexpected error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }], data: null }));
      return;
    }
    if (failure?.kind === 'graphql-error') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: failure.message ?? 'injected', extensions: { code: 'FUNCTIONAL_ERROR' } }], data: null }));
      return;
    }
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      reply(200, { errors: [{ message: 'You must be logged in to do this.', extensions: { code: 'AUTH_REQUIRED' } }], data: null });
      return;
    }
    // src/graphql/graphql.js: the version's schema and the alias rule, before anything runs.
    const rejection = rejectDocument(this.rules.version, payload.query ?? '');
    if (rejection.length > 0) {
      this.rejected.push({ operationName, errors: rejection });
      reply(400, { errors: rejection.map((message) => ({ message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })) });
      return;
    }
    const draftHeader = req.headers['opencti-draft-id'];
    const context: RequestContext = { draftId: typeof draftHeader === 'string' && draftHeader ? draftHeader : null };
    const result = await graphql({
      schema: executionSchema(),
      source: payload.query ?? '',
      rootValue: this.resolvers,
      contextValue: context,
      variableValues: payload.variables ?? {},
      ...(payload.operationName ? { operationName: payload.operationName } : {}),
    });
    this.state.changed();
    const errors = result.errors?.map((e: GraphQLError) => ({ message: e.message, path: e.path, extensions: { code: (e.originalError as { code?: string } | undefined)?.code ?? 'FUNCTIONAL_ERROR' } }));
    reply(200, { data: result.data ?? null, ...(errors ? { errors } : {}) });
  }
}

export async function startFakeOpenCti(options: FakeOpenCtiOptions): Promise<FakeOpenCti> {
  return new FakeOpenCti(options).start();
}
