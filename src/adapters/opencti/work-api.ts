import { WORK_ADD, WORK_ADD_EXPECTATIONS, WORK_EXPECTED, WORK_PING, WORK_RECEIVED_ADD_EXPECTATIONS, WORK_TO_PROCESSED, WORK_TO_RECEIVED } from './documents';
import type { GraphQLClient } from './graphql-client';

/** The platform's work tracking (protocol §5.3); `toProcessed(…, inError)` is pycti's `to_processed`. */
export interface WorkApi {
  toReceived(workId: string, message: string): Promise<void>;
  toProcessed(workId: string, message: string, inError: boolean): Promise<void>;
  /** With `receivedMessage`: marks the work received first, in the same call. */
  addExpectations(workId: string, count: number, receivedMessage?: string): Promise<void>;
  ping(workId: string): Promise<void>;
  /** Expectations the work already has (0 when unknown or gone). */
  expected(workId: string): Promise<number>;
  /** Expectations and reported imports (0 / 0 when unknown or gone). */
  tracking(workId: string): Promise<{ expected: number; processed: number }>;
  /** A new work of this connector; returns its id. */
  add(connectorId: string, friendlyName: string): Promise<string>;
}

/** The platform truncates nothing; keep work messages readable in the UI. */
const MAX_MESSAGE = 2000;
const clip = (s: string): string => (s.length > MAX_MESSAGE ? `${s.slice(0, MAX_MESSAGE - 1)}…` : s);

export function createWorkApi({ gql }: { gql: GraphQLClient }): WorkApi {
  async function tracking(workId: string): Promise<{ expected: number; processed: number }> {
    const data = await gql.request<{ work: { tracking: { import_expected_number: number | null; import_processed_number: number | null } | null } | null }>(WORK_EXPECTED, {
      id: workId,
    });
    return { expected: data.work?.tracking?.import_expected_number ?? 0, processed: data.work?.tracking?.import_processed_number ?? 0 };
  }
  return {
    toReceived: async (workId, message) => {
      await gql.request(WORK_TO_RECEIVED, { id: workId, message: clip(message) });
    },
    toProcessed: async (workId, message, inError) => {
      await gql.request(WORK_TO_PROCESSED, { id: workId, message: clip(message), inError });
    },
    addExpectations: async (workId, count, receivedMessage) => {
      if (receivedMessage === undefined) await gql.request(WORK_ADD_EXPECTATIONS, { id: workId, expectations: count });
      else await gql.request(WORK_RECEIVED_ADD_EXPECTATIONS, { id: workId, expectations: count, message: clip(receivedMessage) });
    },
    ping: async (workId) => {
      await gql.request(WORK_PING, { id: workId });
    },
    expected: async (workId) => (await tracking(workId)).expected,
    tracking,
    add: async (connectorId, friendlyName) => {
      const data = await gql.request<{ workAdd: { id: string } }>(WORK_ADD, { connectorId, friendlyName });
      return data.workAdd.id;
    },
  };
}
