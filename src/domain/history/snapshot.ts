import { toScore } from '../assessment/combine';
import type { AssessmentResult, EvidenceRule, TechniqueAssessment } from '../assessment/assessment-types';
import type { RunSnapshot, ScoreName, TechniqueSnapshot } from './history-types';

/** The part of an assessment result that history keeps (scores + evidence), in a stable order. */

const sortedUnique = (list: string[]): string[] => [...new Set(list)].sort();

export function techniqueSnapshotOf(t: TechniqueAssessment): TechniqueSnapshot {
  const out: TechniqueSnapshot = { id: t.techniqueId.toUpperCase(), rules: sortedUnique(t.rules ?? []), controls: sortedUnique(t.controls ?? []) };
  if (t.name) out.name = t.name;
  if (t.tested && typeof t.detection === 'number') out.detection = toScore(t.detection);
  if (t.tested && typeof t.prevention === 'number') out.prevention = toScore(t.prevention);
  if (t.source) out.source = t.source;
  if (t.detectionParts) out.parts = { ...t.detectionParts };
  if (t.evidence) out.evidence = { ...t.evidence, rules: t.evidence.rules.map(sortedRuleRecord) };
  return out;
}

/**
 * The engine builds one evidence record per rule and shares it, unchanged, between techniques and
 * runs (src/domain/scoring/technique-evidence.ts): its key-sorted copy is made once, so a snapshot's
 * canonical JSON reuses it instead of sorting every record of every run (most of the snapshot).
 */
const sortedRuleRecords = new WeakMap<EvidenceRule, EvidenceRule>();
/** Values already in canonical order, made here and never changed: the walk skips them. */
const canonical = new WeakSet<object>();
function sortedRuleRecord(record: EvidenceRule): EvidenceRule {
  let sorted = sortedRuleRecords.get(record);
  if (!sorted) {
    sorted = keysSorted(record) as EvidenceRule;
    sortedRuleRecords.set(record, sorted);
    canonical.add(sorted);
  }
  return sorted;
}

export function overallOfResult(overall: ReadonlyArray<{ name: string; score: number }>): Partial<Record<ScoreName, number>> {
  const out: Partial<Record<ScoreName, number>> = {};
  for (const entry of overall) {
    const name = String(entry.name).toUpperCase();
    if ((name === 'DETECTION' || name === 'PREVENTION') && out[name] === undefined) out[name] = toScore(Number(entry.score));
  }
  return out;
}

export function snapshotOf(result: Pick<AssessmentResult, 'backend' | 'overall' | 'techniques'>): RunSnapshot {
  const byId = new Map<string, TechniqueSnapshot>();
  for (const t of result.techniques) {
    const snap = techniqueSnapshotOf(t);
    if (!byId.has(snap.id)) byId.set(snap.id, snap);
  }
  return {
    backend: result.backend,
    overall: overallOfResult(result.overall),
    techniques: [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
  };
}

/** JSON with object keys sorted: equal snapshots give equal text (and equal hashes in the store). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(keysSorted(value));
}

/**
 * `value` with the keys of every object in sorted order; objects already in that order are reused,
 * so a snapshot built in order costs one walk and one native JSON.stringify (a replacer function
 * called on every value cost ~3× as much on a 150 KB snapshot).
 */
function keysSorted(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || canonical.has(value)) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i += 1) {
      const item = keysSorted(value[i]);
      if (item !== value[i]) (copy ??= value.slice())[i] = item;
    }
    return copy ?? value;
  }
  // Serialised through its own toJSON (a Date), as JSON.stringify does.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  let inOrder = true;
  for (let i = 1; i < keys.length && inOrder; i += 1) inOrder = keys[i - 1] <= keys[i];
  let changed: Map<string, unknown> | undefined;
  for (const k of keys) {
    const v = keysSorted(record[k]);
    if (v !== record[k]) (changed ??= new Map()).set(k, v);
  }
  if (inOrder && !changed) return value;
  const out: Record<string, unknown> = {};
  for (const k of inOrder ? keys : [...keys].sort()) out[k] = changed?.has(k) ? changed.get(k) : record[k];
  return out;
}

/** Techniques measured (at least one score) in a snapshot. */
export const testedCount = (snapshot: RunSnapshot): number => snapshot.techniques.filter((t) => t.detection !== undefined || t.prevention !== undefined).length;

/** [detection, prevention] per technique, null when not measured: the small part of a snapshot kept beside it. */
export function techniqueScoresOf(snapshot: RunSnapshot): Record<string, [number | null, number | null]> {
  const out: Record<string, [number | null, number | null]> = {};
  for (const t of snapshot.techniques) out[t.id] = [t.detection ?? null, t.prevention ?? null];
  return out;
}
