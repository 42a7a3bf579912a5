import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSchema, graphql, GraphQLError } from 'graphql';
import { v4 as uuidv4 } from 'uuid';
import { createPlatformBroker, topology, type PlatformBroker } from './platform-broker';
import { createResolvers } from './resolvers';
import { FakeState, type FakeCoverage } from './state';
import { fakeSdlFor, installVersionMode, versionResolvers, type FakeVersionOptions } from './version-modes'; // VERSIONS

/**
 * An in-process fake OpenCTI: GraphQL over node:http executing the operations the connector uses
 * (real 6.9.17 shapes, schema in ./schema.ts), recording every call, with injectable failures, and
 * publishing enrichment messages to the real broker exactly as the platform does (§3.2, §4).
 */

export type FailureKind = 'status' | 'down' | 'slow' | 'malformed' | 'graphql-error';

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
  /** VERSIONS: which OpenCTI the fake plays (default 6.9.17); see version-modes.ts. */
  version?: FakeVersionOptions;
}

export interface EnrichmentOptions {
  mode?: 'auto' | 'manual';
  trigger?: 'create' | 'update';
  /** false = `stix_objects: null` (connector registered without stix_bundle resolution). */
  withObjects?: boolean;
  /** Edit the message before it is published. */
  mutate?: (message: Record<string, unknown>) => void;
  messageId?: string;
}

export class FakeOpenCti {
  readonly state = new FakeState();
  readonly calls: RecordedCall[] = [];
  readonly token: string;
  readonly suffix = uuidv4().slice(0, 8);
  readonly topo = topology(this.suffix);
  readonly broker: PlatformBroker;
  url = '';
  private failures: FailureRule[] = [];
  private server?: http.Server;
  private readonly schema;
  private readonly resolvers;

  constructor(private readonly options: FakeOpenCtiOptions) {
    this.token = options.token ?? 'fake-token';
    this.broker = createPlatformBroker(options.amqpUrl, this.topo);
    this.resolvers = createResolvers(this.state, {
      amqpUrl: options.amqpUrl,
      topo: this.topo,
      broker: this.broker,
      maxPageSize: options.maxPageSize ?? 2,
      askEnrichment: (coverage, connectorId) => this.publishEnrichment(connectorId, coverage, { mode: 'manual', trigger: 'update' }),
    });
    // VERSIONS: the version's schema, `about`, and its import rules
    this.schema = buildSchema(fakeSdlFor(options.version?.mode ?? '6.9'));
    Object.assign(this.resolvers, versionResolvers(this.state, this.resolvers, options.version));
    installVersionMode(this, options.version);
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
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

  /** The §3.2 message for a coverage; creates the platform's work (`status: wait`). */
  enrichmentMessage(connectorId: string, coverage: FakeCoverage, options: EnrichmentOptions = {}): { body: Record<string, unknown>; workId: string } {
    const work = this.state.createWork(connectorId, 'wait', coverage.standardId);
    const body: Record<string, unknown> = {
      internal: { work_id: work.id, applicant_id: null, draft_id: null, trigger: options.trigger ?? 'create', mode: options.mode ?? 'auto' },
      event: {
        event_type: 'INTERNAL_ENRICHMENT',
        entity_id: coverage.standardId,
        entity_type: 'Security-Coverage',
        stix_entity: JSON.stringify(this.state.stixCoverage(coverage)),
        stix_objects: options.withObjects === false ? null : JSON.stringify(this.state.stixBundle(coverage)),
      },
    };
    options.mutate?.(body);
    return { body, workId: work.id };
  }

  async publishEnrichment(connectorId: string, coverage: FakeCoverage, options: EnrichmentOptions = {}): Promise<string> {
    const { body, workId } = this.enrichmentMessage(connectorId, coverage, options);
    await this.broker.publishListen(connectorId, Buffer.from(JSON.stringify(body)), options.messageId ? { messageId: options.messageId } : {});
    return workId;
  }

  async publishRaw(connectorId: string, content: string | Buffer, messageId?: string): Promise<void> {
    await this.broker.publishListen(connectorId, Buffer.isBuffer(content) ? content : Buffer.from(content), messageId ? { messageId } : {});
  }

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
    if (failure?.kind === 'graphql-error') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: failure.message ?? 'injected', extensions: { code: 'FUNCTIONAL_ERROR' } }], data: null }));
      return;
    }
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: 'You must be logged in to do this.', extensions: { code: 'AUTH_REQUIRED' } }], data: null }));
      return;
    }
    const result = await graphql({
      schema: this.schema,
      source: payload.query ?? '',
      rootValue: this.resolvers,
      variableValues: payload.variables ?? {},
      ...(payload.operationName ? { operationName: payload.operationName } : {}),
    });
    this.state.changed();
    const errors = result.errors?.map((e: GraphQLError) => ({ message: e.message, path: e.path, extensions: { code: (e.originalError as { code?: string } | undefined)?.code ?? 'FUNCTIONAL_ERROR' } }));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: result.data ?? null, ...(errors ? { errors } : {}) }));
  }
}

export async function startFakeOpenCti(options: FakeOpenCtiOptions): Promise<FakeOpenCti> {
  return new FakeOpenCti(options).start();
}
