import { toScore } from '../../domain/assessment/combine';
import { untestedAssessment } from '../../domain/assessment/assessment-types';
import type { TechniqueAssessment } from '../../domain/assessment/assessment-types';
import type { TechniqueRef } from '../../domain/coverage/coverage-types';
import type { OpenAevResultsByType } from './openaev-client';

/**
 * Turns one finished simulation's expectation results into per-technique scores, with the
 * reference product's formula per type — round(100 × successes / (successes + partials + pendings
 * + failures)) — but counted per technique (docs/backends.md, "Scores"). Pure: the attack-pattern
 * ids are already resolved to ATT&CK ids by the caller.
 */

export interface ResolvedPatternResults {
  /** ATT&CK id of the attack pattern (T1059.001). */
  externalId: string;
  injects: Array<{ injectId: string; title?: string; results: OpenAevResultsByType[] }>;
}

export interface SimulationRef {
  id: string;
  name?: string;
  startedAt?: string;
  uri: string;
}

interface Counts {
  success: number;
  partial: number;
  pending: number;
  failed: number;
}

const TYPES = [
  { type: 'PREVENTION', key: 'prevention', verb: 'prevented' },
  { type: 'DETECTION', key: 'detection', verb: 'detected' },
] as const;

function countsOf(results: OpenAevResultsByType[], type: string): Counts {
  const c: Counts = { success: 0, partial: 0, pending: 0, failed: 0 };
  for (const r of results) {
    if (r.type !== type) continue;
    for (const d of r.distribution ?? []) {
      const v = Number.isFinite(d.value) ? Math.max(0, d.value) : 0;
      if (d.id === 'SUCCESS') c.success += v;
      else if (d.id === 'PARTIAL') c.partial += v;
      else if (d.id === 'PENDING') c.pending += v;
      else if (d.id === 'FAILED') c.failed += v;
    }
  }
  return c;
}

/**
 * Which rows serve a requested technique: its exact attack pattern; for a parent technique with no
 * exact row, its sub-techniques (OpenAEV picks tests for T1059 by prefix, so a T1059.001 payload
 * may be what ran). A sub-technique never borrows its parent's or siblings' results.
 */
export function rowsForTechnique(techniqueId: string, rows: ResolvedPatternResults[]): ResolvedPatternResults[] {
  const id = techniqueId.toUpperCase();
  const exact = rows.filter((r) => r.externalId.toUpperCase() === id);
  if (exact.length > 0 || id.includes('.')) return exact;
  return rows.filter((r) => r.externalId.toUpperCase().startsWith(`${id}.`));
}

export function scoreTechniques(techniques: TechniqueRef[], rows: ResolvedPatternResults[], simulation: SimulationRef): TechniqueAssessment[] {
  const when = simulation.startedAt ? ` started ${simulation.startedAt}` : '';
  const label = `simulation "${simulation.name ?? simulation.id}"${when}`;
  return techniques.map((ref) => {
    const base: TechniqueAssessment = untestedAssessment(ref, 'openaev', simulation.uri);
    const matched = rowsForTechnique(ref.techniqueId, rows);
    if (matched.length === 0) {
      base.why.push(`not tested: ${label} has no result for ${ref.techniqueId} (no runnable OpenAEV test — placeholder — or unknown to its catalogue)`);
      return base;
    }
    // An inject linked to several matched patterns is one test: count it once.
    const injects = new Map<string, { title?: string; results: OpenAevResultsByType[] }>();
    for (const row of matched) for (const inj of row.injects) if (!injects.has(inj.injectId)) injects.set(inj.injectId, inj);
    const results = [...injects.values()].flatMap((i) => i.results);
    const via = matched.map((m) => m.externalId).join(', ');
    for (const { type, key, verb } of TYPES) {
      const c = countsOf(results, type);
      const total = c.success + c.partial + c.pending + c.failed;
      if (total === 0) continue;
      base[key] = toScore((100 * c.success) / total);
      base.why.push(
        `${type} ${base[key]}: ${c.success}/${total} expectations ${verb} (${c.partial} partial, ${c.pending} pending, ${c.failed} failed) over ${injects.size} inject(s) for ${via} in ${label}`,
      );
    }
    base.tested = base.detection !== undefined || base.prevention !== undefined;
    if (!base.tested) base.why.push(`not tested: the injects for ${via} in ${label} carry no prevention or detection expectation`);
    base.why.push(...[...injects.values()].map((i) => `inject: ${i.title ?? '(untitled)'}`));
    return base;
  });
}
