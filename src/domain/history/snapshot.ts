import { toScore } from '../assessment/combine';
import type { AssessmentResult, EvidenceRule, TechniqueAssessment } from '../assessment/assessment-types';
import type { RunSnapshot, ScoreName, TechniqueSnapshot } from './history-types';

/** The part of an assessment result that history keeps (scores + evidence), in a stable order. */

const sortedUnique = (list: string[]): string[] => [...new Set(list)].sort();

/**
 * Snapshots of frozen assessments (the engine's shared technique outcomes): the same assessment
 * gives the same snapshot object, so comparing a run with the previous one is identity per technique.
 */
const frozenSnapshots = new WeakMap<TechniqueAssessment, TechniqueSnapshot>();

export function techniqueSnapshotOf(t: TechniqueAssessment): TechniqueSnapshot {
  if (!Object.isFrozen(t)) return buildTechniqueSnapshot(t);
  let snapshot = frozenSnapshots.get(t);
  if (!snapshot) frozenSnapshots.set(t, (snapshot = Object.freeze(buildTechniqueSnapshot(t))));
  return snapshot;
}

function buildTechniqueSnapshot(t: TechniqueAssessment): TechniqueSnapshot {
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
/** The canonical JSON of values made here and never changed (the sorted rule records). */
const canonicalTexts = new WeakMap<object, string>();
function sortedRuleRecord(record: EvidenceRule): EvidenceRule {
  let sorted = sortedRuleRecords.get(record);
  if (!sorted) {
    const fields = record as unknown as Record<string, unknown>;
    const copy: Record<string, unknown> = {};
    for (const k of sortedKeys(fields)) copy[k] = fields[k];
    sorted = copy as unknown as EvidenceRule;
    sortedRuleRecords.set(record, sorted);
    canonicalTexts.set(sorted, canonicalText(sorted) as string);
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

/**
 * JSON with object keys sorted: equal snapshots give equal text (and equal hashes in the store).
 * Built level by level so the text of the shared rule records (most of a snapshot) is reused.
 */
export function canonicalJson(value: unknown): string {
  return canonicalText(value) as string;
}

/** JSON.stringify's output for `value` with every object's keys sorted; undefined where it gives none. */
function canonicalText(value: unknown): string | undefined {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value === 'function' || typeof value === 'symbol' ? undefined : JSON.stringify(value);
  const cached = canonicalTexts.get(value);
  if (cached !== undefined) return cached;
  // Serialised through its own toJSON (a Date), as JSON.stringify does.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return canonicalText((value as { toJSON: () => unknown }).toJSON());
  if (Array.isArray(value)) return `[${value.map((item: unknown) => canonicalText(item) ?? 'null').join(',')}]`;
  const record = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of sortedKeys(record)) {
    const text = canonicalText(record[k]);
    if (text !== undefined) parts.push(`${JSON.stringify(k)}:${text}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * Keys in the order an object built from the sorted keys lists them: array indices first, ascending
 * (JavaScript objects always list them so), then the others sorted.
 */
function sortedKeys(record: Record<string, unknown>): string[] {
  const keys = Object.keys(record);
  let indices = 0;
  while (indices < keys.length && ARRAY_INDEX.test(keys[indices]) && Number(keys[indices]) < 4294967295) indices += 1;
  return indices === 0 ? keys.sort() : [...keys.slice(0, indices), ...keys.slice(indices).sort()];
}
const ARRAY_INDEX = /^(?:0|[1-9]\d*)$/;

/**
 * Whether two snapshots hold the same content (what their canonical JSON would say, without making
 * it): ~20× cheaper than the text and its hash, as the shared rule records compare by identity.
 */
export function sameSnapshot(a: RunSnapshot, b: RunSnapshot): boolean {
  return sameValue(a, b);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return typeof a === 'number' && typeof b === 'number' && !Number.isFinite(a) && !Number.isFinite(b) && canonicalText(a) === canonicalText(b);
  const list = Array.isArray(a);
  if (list !== Array.isArray(b)) return false;
  if (list) {
    const left = a as unknown[];
    const right = b as unknown[];
    if (left.length !== right.length) return false;
    for (let i = 0; i < left.length; i += 1) if (!sameValue(left[i], right[i])) return false;
    return true;
  }
  if (typeof (a as { toJSON?: unknown }).toJSON === 'function' || typeof (b as { toJSON?: unknown }).toJSON === 'function') return canonicalText(a) === canonicalText(b);
  // Loops, not Object.keys().filter(): this runs on every node of every snapshot.
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  let fields = 0;
  for (const k in left) {
    if (!Object.prototype.hasOwnProperty.call(left, k) || left[k] === undefined) continue;
    fields += 1;
    if (!Object.prototype.hasOwnProperty.call(right, k) || !sameValue(left[k], right[k])) return false;
  }
  for (const k in right) if (Object.prototype.hasOwnProperty.call(right, k) && right[k] !== undefined) fields -= 1;
  return fields === 0;
}

/** Techniques measured (at least one score) in a snapshot. */
export const testedCount = (snapshot: RunSnapshot): number => snapshot.techniques.filter((t) => t.detection !== undefined || t.prevention !== undefined).length;

/** [detection, prevention] per technique, null when not measured: the small part of a snapshot kept beside it. */
export function techniqueScoresOf(snapshot: RunSnapshot): Record<string, [number | null, number | null]> {
  const out: Record<string, [number | null, number | null]> = {};
  for (const t of snapshot.techniques) out[t.id] = [t.detection ?? null, t.prevention ?? null];
  return out;
}
