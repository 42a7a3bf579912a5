import { causesFor, diffTechniqueEvidence } from './evidence-diff';
import {
  SCORE_NAMES,
  type Cause,
  type OpenRegression,
  type Recovery,
  type RunChanges,
  type RunSnapshot,
  type ScoreChange,
  type ScoreName,
  type TechniqueSnapshot,
} from './history-types';

/**
 * Regression detection (docs/history.md). Between two consecutive runs, for the coverage's overall
 * scores and for every technique in both runs:
 *  - a drop of at least `threshold` points opens a regression (a measured score that is no longer
 *    measured counts as a drop to 0), with its causes named from the evidence diff;
 *  - an open regression stays open while the score is at least `threshold` below the score before
 *    the drop, and recovers once it is back within the threshold (or its technique left the container).
 * Pure: the caller gives the previous snapshot, the open regressions and the run time.
 */

export interface CompareInput {
  previous?: RunSnapshot;
  current: RunSnapshot;
  open: OpenRegression[];
  threshold: number;
  /** ISO time of the current run (the `since` of new regressions). */
  runAt: string;
}

export interface CompareResult {
  changes: RunChanges;
  /** Regressions open after this run (the ones carried over, updated, plus the new ones). */
  open: OpenRegression[];
}

const keyOf = (techniqueId: string | undefined, score: ScoreName): string => `${techniqueId ?? '*'}|${score}`;
const valueOf = (t: TechniqueSnapshot | RunSnapshot['overall'], score: ScoreName): number | undefined =>
  'id' in t ? (score === 'DETECTION' ? (t as TechniqueSnapshot).detection : (t as TechniqueSnapshot).prevention) : (t as RunSnapshot['overall'])[score];

const unexplained = (techniqueId: string | undefined, dropped: boolean): Cause => ({
  kind: 'unexplained',
  ...(techniqueId ? { techniqueId } : {}),
  text: dropped
    ? 'no change in the recorded evidence explains it (scoring backend, rubric or ATT&CK catalogue changed)'
    : 'no change in the recorded evidence explains it',
});

function dedupe(causes: Cause[]): Cause[] {
  const seen = new Set<string>();
  return causes.filter((c) => {
    const k = `${c.kind}|${c.techniqueId ?? ''}|${c.subject ?? ''}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** What a run with the previous run's content changes: nothing. */
export const noChanges = (): RunChanges => ({ first: false, scoreChanges: [], added: [], removed: [], quietChanges: [], regressions: [], recoveries: [] });

export function compareRuns(input: CompareInput): CompareResult {
  const { previous, current, threshold, runAt } = input;
  const changes: RunChanges = { first: !previous, scoreChanges: [], added: [], removed: [], quietChanges: [], regressions: [], recoveries: [] };
  if (!previous) return { changes, open: input.open.map((o) => ({ ...o })) };

  const before = new Map(previous.techniques.map((t) => [t.id, t]));
  const after = new Map(current.techniques.map((t) => [t.id, t]));
  for (const t of current.techniques) {
    if (before.has(t.id)) continue;
    changes.added.push({ id: t.id, ...(t.name ? { name: t.name } : {}), ...(t.detection !== undefined ? { detection: t.detection } : {}), ...(t.prevention !== undefined ? { prevention: t.prevention } : {}) });
  }
  for (const t of previous.techniques) if (!after.has(t.id)) changes.removed.push(t.id);

  // Evidence diff of every technique present in both runs, computed once.
  const diffs = new Map<string, Cause[]>();
  for (const t of current.techniques) {
    const was = before.get(t.id);
    if (was) diffs.set(t.id, diffTechniqueEvidence(was, t));
  }

  /** Causes of a move of one technique's score. */
  const techniqueCauses = (id: string, score: ScoreName, dropped: boolean): Cause[] => {
    const found = causesFor(diffs.get(id) ?? [], score, dropped ? 'worse' : 'better');
    return found.length > 0 ? found : [unexplained(id, dropped)];
  };

  /** Causes of a move of the coverage's score: the techniques that moved the same way, and container changes. */
  const coverageCauses = (score: ScoreName, dropped: boolean, reference: number | undefined): Cause[] => {
    const out: Cause[] = [];
    for (const t of current.techniques) {
      const was = before.get(t.id);
      if (!was) continue;
      const a = valueOf(t, score) ?? 0;
      const b = valueOf(was, score) ?? 0;
      if (dropped ? a < b : a > b) out.push(...causesFor(diffs.get(t.id) ?? [], score, dropped ? 'worse' : 'better'));
    }
    for (const t of changes.added) {
      const v = score === 'DETECTION' ? t.detection : t.prevention;
      if (v === undefined || reference === undefined) continue;
      if (dropped && v < reference) out.push({ kind: 'technique-added', techniqueId: t.id, subject: t.id, text: `${t.id}${t.name ? ` (${t.name})` : ''} added to the container with ${score} ${v}` });
    }
    for (const id of changes.removed) {
      const v = valueOf(before.get(id)!, score);
      if (v === undefined || reference === undefined) continue;
      if (dropped ? v > reference : v < reference) out.push({ kind: 'technique-removed', techniqueId: id, subject: id, text: `${id} removed from the container (${score} was ${v})` });
    }
    const unique = dedupe(out);
    return unique.length > 0 ? unique : [unexplained(undefined, dropped)];
  };

  const open = new Map(input.open.map((o) => [keyOf(o.techniqueId, o.score), { ...o }]));
  const explained = new Set<Cause>();

  const visit = (techniqueId: string | undefined, name: string | undefined, score: ScoreName, from: number | undefined, to: number | undefined): void => {
    const key = keyOf(techniqueId, score);
    const moved = from !== to;
    const dropped = (to ?? 0) < (from ?? 0) || (from !== undefined && to === undefined);
    let causes: Cause[] | undefined;
    const causesNow = (): Cause[] => (causes ??= techniqueId ? techniqueCauses(techniqueId, score, dropped) : coverageCauses(score, dropped, from));
    if (moved) {
      changes.scoreChanges.push({ ...(techniqueId ? { techniqueId } : {}), score, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}), causes: causesNow() });
      for (const c of causesNow()) explained.add(c);
    }
    const existing = open.get(key);
    if (existing) {
      if (to !== undefined && existing.from - to < threshold) {
        open.delete(key);
        changes.recoveries.push({ ...recoveryBase(existing), ...(to !== undefined ? { to } : {}), reason: 'recovered', causes: moved ? causesNow().filter((c) => c.kind !== 'unexplained') : [] });
      } else if (moved) {
        if (to === undefined) delete existing.to;
        else existing.to = to;
        if (dropped) existing.causes = dedupe([...existing.causes, ...causesNow()]);
      }
      return;
    }
    if (from !== undefined && from - (to ?? 0) >= threshold) {
      const regression: OpenRegression = { ...(techniqueId ? { techniqueId } : {}), ...(name ? { techniqueName: name } : {}), score, from, ...(to !== undefined ? { to } : {}), since: runAt, causes: causesNow() };
      open.set(key, regression);
      changes.regressions.push(regression);
    }
  };

  for (const score of SCORE_NAMES) visit(undefined, undefined, score, previous.overall[score], current.overall[score]);
  for (const t of current.techniques) {
    const was = before.get(t.id);
    if (!was) continue;
    for (const score of SCORE_NAMES) visit(t.id, t.name ?? was.name, score, valueOf(was, score), valueOf(t, score));
  }
  // Regressions of techniques that left the container end with them.
  for (const [key, o] of open) {
    if (o.techniqueId && !after.has(o.techniqueId)) {
      open.delete(key);
      changes.recoveries.push({ ...recoveryBase(o), reason: 'technique-removed', causes: [] });
    }
  }
  // Evidence changes that moved no score are still worth a line in the history.
  for (const causes of diffs.values()) for (const c of causes) if (!explained.has(c) && !changes.scoreChanges.some((s) => s.causes.includes(c))) changes.quietChanges.push(c);

  const ordered = [...open.values()].sort((a, b) => (keyOf(a.techniqueId, a.score) < keyOf(b.techniqueId, b.score) ? -1 : 1));
  return { changes, open: ordered };
}

function recoveryBase(o: OpenRegression): Omit<Recovery, 'reason' | 'causes'> {
  return {
    ...(o.techniqueId ? { techniqueId: o.techniqueId } : {}),
    ...(o.techniqueName ? { techniqueName: o.techniqueName } : {}),
    score: o.score,
    from: o.from,
    ...(o.to !== undefined ? { to: o.to } : {}),
    since: o.since,
  };
}
