import { hasCoveredRelationshipId } from '../ids/stix-ids';
import type { StixBundle, StixObject } from '../stix/stix-types';
import type { ScoreEntry } from './coverage-types';
import { sameCoverage } from './score-equality';

/**
 * What one run must write so the platform holds its result, and nothing more (docs/processing-flow.md,
 * "Convergence"). The real platform re-triggers an enrichment on every write that changes the
 * coverage (platform-behaviour.md §2), imports pushes asynchronously (§3) and never deletes a
 * has-covered by itself, while other writers add their own. So a run:
 * - judges only what it owns: the coverage's scores, validity dates and external_uri, and the
 *   has-covered relationships whose id it computes (deterministic per coverage and target);
 * - pushes a relationship only when it is missing or its scores differ, and never over a has-covered
 *   another writer made for the same target (the platform would merge ours into it);
 * - deletes its own has-covered whose technique left the container;
 * - writes the coverage object only when its scores or external_uri differ, or when a scheduled run
 *   finds the stored validity lapsed. It goes LAST, so the re-trigger it causes comes after the
 *   relationships were queued; a run that writes nothing ends the chain.
 */

export interface StoredHasCovered {
  /** Internal id (what a delete takes). */
  id: string;
  standardId: string;
  /** `x_opencti_stix_ids`: ids merged into this relationship by upserts. */
  stixIds: string[];
  /** Standard id of the target. */
  targetId: string;
  scores: ScoreEntry[];
  /** The explanation written with it (Markdown). */
  description?: string;
}

/** A note attached to the coverage (ours is the assessment summary, found by its id). */
export interface StoredNote {
  id: string;
  standardId: string;
  stixIds: string[];
  abstract?: string;
  content: string;
}

export interface StoredCoverageState {
  scores?: ScoreEntry[];
  externalUri?: string;
}

export interface WritePlanInput {
  coverageId: string;
  /** The run's result bundle (src/domain/stix/result-bundle.ts). */
  desired: StixBundle;
  stored: StoredCoverageState;
  hasCovered: StoredHasCovered[];
  /** Notes attached to the coverage (absent: the run writes no note). */
  notes?: StoredNote[];
  /** A scheduled or operator run whose stored validity window has lapsed: rewrite the dates. */
  refreshDates: boolean;
}

export interface WritePlan {
  /** Objects to push, in order: other entities, relationships, the coverage last. */
  pushes: StixObject[];
  /** Our own has-covered relationships whose target left the container. */
  deletions: StoredHasCovered[];
  /** Targets where another writer's has-covered stands: ours is not written. */
  foreignTargets: string[];
  /** Why each write happens, for the log and the work message. */
  reasons: string[];
}

/** The fields of a security-coverage this connector owns; the rest (periodicity, affinities, …) are the analyst's. */
const OWNED_COVERAGE_FIELDS = ['type', 'spec_version', 'id', 'name', 'covered_ref', 'coverage', 'last_result', 'valid_from', 'valid_to', 'external_uri'] as const;

const isRelationship = (o: StixObject): boolean => o.type === 'relationship' || o.type === 'sighting';
const isHasCovered = (o: StixObject): boolean => o.type === 'relationship' && o.relationship_type === 'has-covered';
const scoresOf = (o: StixObject | undefined): ScoreEntry[] => (Array.isArray(o?.coverage) ? (o.coverage as ScoreEntry[]) : []);

/** True when `rel` is the has-covered this connector computes for its coverage and target. */
export function isOwnHasCovered(coverageId: string, rel: Pick<StoredHasCovered, 'standardId' | 'stixIds' | 'targetId'>): boolean {
  const own = hasCoveredRelationshipId(coverageId, rel.targetId);
  return rel.standardId === own || rel.stixIds.includes(own);
}

/** The coverage object as pushed: only the owned fields, so a stale message never reverts an analyst's edit. */
export function ownedCoverageObject(coverage: StixObject): StixObject {
  const out: Record<string, unknown> = {};
  for (const key of OWNED_COVERAGE_FIELDS) if (coverage[key] !== undefined) out[key] = coverage[key];
  return out as StixObject;
}

export function planWrites(input: WritePlanInput): WritePlan {
  const { coverageId, desired, stored } = input;
  const reasons: string[] = [];
  const coverage = desired.objects.find((o) => o.type === 'security-coverage' && o.id === coverageId);
  const own = new Map<string, StoredHasCovered>();
  const foreign = new Set<string>();
  for (const rel of input.hasCovered) {
    if (isOwnHasCovered(coverageId, rel)) own.set(rel.targetId, rel);
    else foreign.add(rel.targetId);
  }

  const entities: StixObject[] = [];
  const notes: StixObject[] = [];
  const relationships: StixObject[] = [];
  const foreignTargets: string[] = [];
  const wanted = new Set<string>();
  for (const o of desired.objects) {
    if (o === coverage) continue;
    if (o.type === 'note') {
      const stored = input.notes?.find((n) => n.standardId === o.id || n.stixIds.includes(o.id));
      if (!stored || stored.content !== o.content || (stored.abstract ?? '') !== (o.abstract ?? '')) {
        notes.push(o);
        reasons.push(stored ? 'summary note: changed' : 'summary note: missing');
      }
      continue;
    }
    if (!isRelationship(o)) {
      entities.push(o);
      continue;
    }
    if (!isHasCovered(o) || o.source_ref !== coverageId) {
      relationships.push(o);
      continue;
    }
    const target = String(o.target_ref);
    wanted.add(target);
    const stored = own.get(target);
    if (stored) {
      if (!sameCoverage(stored.scores, scoresOf(o))) {
        relationships.push(o);
        reasons.push(`has-covered ${target}: scores changed`);
      } else if ((stored.description ?? '') !== (typeof o.description === 'string' ? o.description : '')) {
        relationships.push(o);
        reasons.push(`has-covered ${target}: explanation changed`);
      }
    } else if (foreign.has(target)) {
      foreignTargets.push(target);
    } else {
      relationships.push(o);
      reasons.push(`has-covered ${target}: missing`);
    }
  }
  const deletions = [...own.values()].filter((rel) => !wanted.has(rel.targetId));
  for (const rel of deletions) reasons.push(`has-covered ${rel.targetId}: technique no longer in the container`);

  let coveragePush: StixObject | undefined;
  if (coverage) {
    const why: string[] = [];
    if (!sameCoverage(stored.scores, scoresOf(coverage))) why.push('scores changed');
    if (typeof coverage.external_uri === 'string' && coverage.external_uri !== stored.externalUri) why.push('external_uri differs');
    if (input.refreshDates) why.push('validity window lapsed');
    if (why.length > 0) {
      coveragePush = ownedCoverageObject(coverage);
      reasons.push(`coverage: ${why.join(', ')}`);
    }
  }
  // Other entities (e.g. platform identities) only travel with a relationship that needs them.
  const pushes = [...(relationships.length > 0 ? entities : []), ...notes, ...relationships];
  if (coveragePush) pushes.push(coveragePush);
  return { pushes, deletions, foreignTargets, reasons };
}

/** True when the plan writes nothing: the run that ends a re-trigger chain. */
export const writesNothing = (plan: WritePlan): boolean => plan.pushes.length === 0 && plan.deletions.length === 0;
