import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../../../schemas/config';
import type { QueueAdmin } from '../../../src/adapters/amqp/dlq-admin';
import { collectStatus, type ConnectorView, type OperatorContext } from '../../../src/app/operator/operator';
import { formatStatus } from '../../../src/cli/status-command';

/** `status` must not report another connector's daemon (same host and port) as this connector's. */

const THIS = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';

function daemonAnswering(connectorId: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ connector_id: connectorId, in_flight: 7, scheduler: { enabled: true, leader: true }, last_success: '2026-01-01T00:00:00.000Z' }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

function context(): OperatorContext {
  const view: ConnectorView = { id: THIS, registered: true, listenQueue: `listen_${THIS}`, deadLetterQueue: `listen_${THIS}.dlq`, brokerUrl: 'amqp://x' };
  const queues = { depth: async () => 0 } as unknown as QueueAdmin;
  return {
    config: { opencti: { url: 'http://platform' }, http: { host: '127.0.0.1', port: 1 } } as unknown as Config,
    connectorId: THIS,
    gql: { request: async () => ({}) } as unknown as OperatorContext['gql'],
    connector: async () => view,
    queues: async () => queues,
    close: async () => undefined,
  };
}

describe('status and the daemon at the HTTP address', () => {
  let daemon: { server: Server; url: string };
  afterEach(() => new Promise<void>((resolve) => daemon.server.close(() => resolve())));

  it("says so when the daemon answering is another connector's, and shows none of its figures", async () => {
    daemon = await daemonAnswering(OTHER);
    const report = await collectStatus(context(), { daemonUrl: daemon.url });
    expect(report.daemon).toMatchObject({ reachable: true, otherConnector: OTHER });
    expect(report.daemon.status).toBeUndefined();
    const text = formatStatus(report);
    expect(text).toContain(`NOT this connector's daemon: it serves connector ${OTHER}`);
    expect(text).toMatch(new RegExp(`in-flight jobs\\s+unknown \\(the daemon at ${daemon.url} is connector ${OTHER}'s\\)`));
    expect(text).not.toMatch(/in-flight jobs\s+7/);
    expect(text).not.toMatch(/scheduler leader\s+yes/);
  });

  it("reports the figures of this connector's own daemon", async () => {
    daemon = await daemonAnswering(THIS);
    const report = await collectStatus(context(), { daemonUrl: daemon.url });
    expect(report.daemon.otherConnector).toBeUndefined();
    const text = formatStatus(report);
    expect(text).toMatch(/in-flight jobs\s+7/);
    expect(text).toMatch(/scheduler leader\s+yes/);
  });
});
