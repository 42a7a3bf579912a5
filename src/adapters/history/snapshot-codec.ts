import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { RunSnapshot } from '../../domain/history/history-types';
import { canonicalJson } from '../../domain/history/snapshot';

/**
 * Snapshots are stored once per coverage and content (runs refer to them by hash), gzip-compressed:
 * a run that changed nothing costs one small row, and the evidence record of a large rule set
 * compresses several times over. The hash comes first and alone: a run whose snapshot is already
 * stored (most runs) neither compresses nor reads one.
 */
export function snapshotKey(snapshot: RunSnapshot): { hash: string; text: string } {
  const text = canonicalJson(snapshot);
  return { hash: createHash('sha256').update(text).digest('hex').slice(0, 32), text };
}

export const compressSnapshot = (text: string): Buffer => gzipSync(Buffer.from(text, 'utf8'));

export function decodeSnapshot(payload: Buffer | Uint8Array): RunSnapshot {
  return JSON.parse(gunzipSync(payload).toString('utf8')) as RunSnapshot;
}
