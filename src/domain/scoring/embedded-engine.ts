import { overallOf, type Aggregate } from '../assessment/combine';
import type { AssessContext, AssessmentResult, Assessor, TechniqueAssessment } from '../assessment/assessment-types';
import type { CoverageRequest } from '../coverage/coverage-types';
import type { EvidenceSet } from '../evidence/evidence-types';
import type { GapCandidate } from '../gaps/gap-list';
import { rankGaps } from '../gaps/gap-list';
import { priorityTables, rankedPrevalence, type PriorityOverrides, type PriorityTables, type RankedPrevalence } from '../gaps/gap-priorities';
import { describeUsers, MIN_USES, type PrevalenceTable } from '../gaps/prevalence';
import { normalisePlatforms } from '../coverage/platforms';
import { buildEvidenceIndex, type EvidenceIndex } from './evidence-index';
import { assessTechnique, type TechniqueOutcome } from './technique-scoring';
import type { TechniqueRef } from '../coverage/coverage-types';
import { setBounded } from '../bounded-map';

/**
 * The embedded assessment engine: scores what the defences *should* catch from the local evidence
 * (rules, data sources, controls, emulation results, imported layers) with the rubric of
 * docs/scoring.md. Pure: no I/O, the clock comes from the context.
 */

export interface EngineOptions {
  /** Credit a parent technique with its sub-techniques' rules, imports and emulations (default true). */
  rollupSubtechniques?: boolean;
  /** Technique scores → container score (default mean). */
  aggregate?: Aggregate;
  /** Overrides of the gap prevalence / impact tables. */
  priorities?: PriorityOverrides;
  /** Link written on the result (the daemon's external_uri). */
  externalUri?: string;
  /**
   * Gap prevalence from intelligence (OpenCTI or a STIX bundle; src/domain/gaps/prevalence.ts), asked
   * for at each assessment so a refreshed table takes effect at once. Absent, or with fewer than
   * MIN_USES uses: the shipped table.
   */
  prevalence?: () => PrevalenceTable | undefined;
  /**
   * Technique outcomes kept for reuse (default 4,096; 0: none). A technique's outcome depends only on
   * this engine's evidence, the technique as the coverage names it and the coverage's platforms, so
   * coverages that share techniques, and every re-run on unchanged rules, reuse one frozen outcome
   * (and its explanation and history snapshot, cached by identity downstream).
   */
  techniqueMemo?: number;
}

const DEFAULT_TECHNIQUE_MEMO = 4096;

/** Everything of a technique reference that assessTechnique reads, with the coverage's platforms. */
function techniqueKey(ref: TechniqueRef, platforms: string[]): string {
  return JSON.stringify([ref.techniqueId, ref.stixId, ref.name, ref.tactics, ref.dataSources, ref.platforms, platforms]);
}

/**
 * Shared between results, so frozen all through: a consumer that changed one in place would fail
 * loudly instead of changing another coverage's result. (The evidence's rule records it reaches are
 * the index's own, never changed after the build.)
 */
function deepFrozen<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const v of Object.values(value as Record<string, unknown>)) deepFrozen(v);
  return value;
}

/** Prevalence of a gap and what it came from (operator entry > intelligence > shipped table). */
function prevalenceLookup(table: PrevalenceTable | undefined, tables: PriorityTables, index: EvidenceIndex): (id: string) => RankedPrevalence {
  // Too little intelligence ranks like none at all (the same words too: an unchanged result writes nothing).
  if (!table || table.uses < MIN_USES) return (id) => rankedPrevalence(id, tables);
  const intelligence = { values: table.values, describe: (id: string) => `${table.label}: ${describeUsers(table.users[id])}` };
  return (id) => rankedPrevalence(id, tables, intelligence, index.crosswalk.equivalents(id).map((e) => e.id));
}

export interface EmbeddedAssessor extends Assessor {
  /** Things about the evidence worth telling the operator once (not per message). */
  readonly notes: string[];
}

export const EMBEDDED_ASSESSOR_NAME = 'embedded';

/** Engines made in this process: each one's number names its evidence in `inputsVersion`. */
let enginesMade = 0;
/** A number per prevalence table seen (a refreshed table is a new object). */
const prevalenceNumbers = new WeakMap<PrevalenceTable, number>();
let prevalenceTables = 0;

export function createEmbeddedAssessor(evidence: EvidenceSet, options: EngineOptions = {}): EmbeddedAssessor {
  // Built once: the daemon reuses this assessor for every message.
  const index = buildEvidenceIndex(evidence);
  const rollup = options.rollupSubtechniques ?? true;
  const aggregate = options.aggregate ?? 'mean';
  const tables = priorityTables(options.priorities);
  enginesMade += 1;
  const engineNumber = enginesMade;
  const memoSize = Math.max(0, Math.floor(options.techniqueMemo ?? DEFAULT_TECHNIQUE_MEMO));
  const outcomes = new Map<string, TechniqueOutcome>();

  function outcomeOf(ref: TechniqueRef, platforms: string[]): TechniqueOutcome {
    if (memoSize === 0) return withLink(assessTechnique(index, ref, { rollup, platforms }));
    const key = techniqueKey(ref, platforms);
    const known = outcomes.get(key);
    if (known) return known;
    return setBounded(outcomes, key, deepFrozen(withLink(assessTechnique(index, ref, { rollup, platforms }))), memoSize);
  }

  function withLink(outcome: TechniqueOutcome): TechniqueOutcome {
    if (options.externalUri) outcome.assessment.externalUri = options.externalUri;
    return outcome;
  }

  function assessNow(request: CoverageRequest, ctx: AssessContext): AssessmentResult {
    const techniques: TechniqueAssessment[] = [];
    const candidates: GapCandidate[] = [];
    const warnings: string[] = [];
    const platforms = normalisePlatforms(request.platformsAffinity);
    for (const ref of request.techniques) {
      const outcome = outcomeOf(ref, platforms);
      techniques.push(outcome.assessment);
      if (outcome.candidate) candidates.push(outcome.candidate);
      warnings.push(...outcome.warnings);
    }
    for (const u of request.unmatched) warnings.push(`attack pattern ${u.stixId}${u.name ? ` (${u.name})` : ''} not assessed: ${u.reason}`);
    const result: AssessmentResult = {
      backend: EMBEDDED_ASSESSOR_NAME,
      runAt: ctx.now.toISOString(),
      techniques,
      overall: overallOf(techniques, aggregate),
      gaps: rankGaps(candidates, tables, { prevalence: prevalenceLookup(options.prevalence?.(), tables, index) }),
      warnings,
    };
    if (evidence.catalogue?.version) result.attackVersion = evidence.catalogue.version;
    if (options.externalUri) result.externalUri = options.externalUri;
    return result;
  }

  return {
    name: EMBEDDED_ASSESSOR_NAME,
    notes: [...index.notes],
    assess: async (request, ctx) => {
      if (ctx.signal?.aborted) throw new Error('assessment aborted');
      return assessNow(request, ctx);
    },
    // The evidence is fixed for this engine's life: only the prevalence table can change under it.
    inputsVersion: () => {
      const table = options.prevalence?.();
      if (!table) return `engine ${engineNumber}`;
      let n = prevalenceNumbers.get(table);
      if (n === undefined) prevalenceNumbers.set(table, (n = prevalenceTables += 1));
      return `engine ${engineNumber} prevalence ${n}`;
    },
  };
}
