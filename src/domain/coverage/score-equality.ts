import type { ScoreEntry } from './coverage-types';

/** "DETECTION 75" pairs, upper-cased names and integer scores (the form OpenCTI stores), sorted. */
function normalised(entries: ScoreEntry[]): string[] {
  const out = entries.map((e) => `${String(e.name).trim().toUpperCase()}=${Math.round(Number(e.score))}`);
  // Usually one or two entries: ordered without Array#sort's work array (compared per has-covered, every run).
  if (out.length === 2) return out[1] < out[0] ? [out[1], out[0]] : out;
  return out.length > 2 ? out.sort() : out;
}

/**
 * True when `next` would store exactly what the platform already holds: same names
 * (case-insensitive) with the same integer scores, in any order. The daemon's loop guard (P1):
 * an unchanged write-back is skipped so it cannot re-trigger enrichment. Nothing stored and
 * nothing to store count as equal.
 */
export function sameCoverage(current: ScoreEntry[] | undefined, next: ScoreEntry[]): boolean {
  if ((current ?? []).length !== next.length) return false;
  const a = normalised(current ?? []);
  const b = normalised(next);
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
