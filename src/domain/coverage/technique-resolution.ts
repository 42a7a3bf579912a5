import { InvalidMessageError, LimitExceededError } from '../../errors';
import { securityCoverageId } from '../ids/stix-ids';
import type { StixObject } from '../stix/stix-types';
import { displayName, techniqueIdOf } from './attack-ids';
import { COVERABLE_TYPES, type CoverageRequest, type ScoreEntry, type TechniqueRef, type UnmatchedPattern } from './coverage-types';

/**
 * From a STIX bundle (the platform's `stix_objects`, or an offline report file) to the list of
 * ATT&CK techniques to assess. Lenient like the platform asks (§3.4): unknown types are ignored and
 * objects de-duplicated by id; patterns without an ATT&CK id are reported, never scored.
 */

export interface ResolveInput {
  objects: StixObject[];
  /** The coverage object (`stix_entity`); else the bundle's `security-coverage`, if any. */
  coverage?: StixObject;
  /** Preferred container when there is no coverage object and the bundle holds several. */
  coveredId?: string;
}

export interface ResolveOptions {
  /**
   * Accepted for the daemon's settings; resolution never drops or merges techniques (a report
   * listing T1059 and T1059.001 assesses both). Roll-up is applied by the engine.
   */
  rollupSubtechniques?: boolean;
  /** More techniques than this → LimitExceededError. */
  maxTechniques?: number;
}

const LINKING_RELATIONSHIPS = new Set(['uses', 'related-to', 'targets']);
const COVERABLE = new Set<string>([...COVERABLE_TYPES]);

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
const strList = (v: unknown): string[] | undefined => {
  if (!Array.isArray(v)) return undefined;
  const out = v.filter((x): x is string => typeof x === 'string' && x.trim() !== '');
  return out.length > 0 ? out : undefined;
};
const refsOf = (o: StixObject | undefined): string[] => (o && Array.isArray(o.object_refs) ? o.object_refs.filter((r): r is string => typeof r === 'string') : []);

function indexById(objects: StixObject[]): Map<string, StixObject> {
  const byId = new Map<string, StixObject>();
  for (const o of objects) {
    if (o && typeof o === 'object' && typeof o.id === 'string' && typeof o.type === 'string' && !byId.has(o.id)) byId.set(o.id, o);
  }
  return byId;
}

/**
 * Attack-pattern ids linked to the container, in a stable order: its `object_refs`, then the
 * targets of `uses`/`related-to`/`targets` relationships that either start at the container or are
 * themselves listed in it (a report listing "APT-X uses T1059" contains that technique).
 */
function linkedPatternIds(container: StixObject, byId: Map<string, StixObject>): string[] {
  const refs = refsOf(container);
  const listed = new Set(refs);
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (id: string): void => {
    if (!seen.has(id)) {
      seen.add(id);
      out.push(id);
    }
  };
  for (const ref of refs) if (ref.startsWith('attack-pattern--')) add(ref);
  for (const o of byId.values()) {
    // typeof, not String(): a hostile `{"toString": 1}` value makes String() throw (test/faults fuzzing).
    if (o.type !== 'relationship' || typeof o.relationship_type !== 'string' || !LINKING_RELATIONSHIPS.has(o.relationship_type)) continue;
    const target = str(o.target_ref);
    if (!target?.startsWith('attack-pattern--')) continue;
    if (o.source_ref === container.id || listed.has(o.id)) add(target);
  }
  return out;
}

function pickContainer(byId: Map<string, StixObject>, preferredId: string | undefined): StixObject {
  if (preferredId && byId.has(preferredId) && COVERABLE.has(byId.get(preferredId)!.type)) return byId.get(preferredId)!;
  const candidates = [...byId.values()].filter((o) => COVERABLE.has(o.type));
  if (candidates.length === 0) {
    throw new InvalidMessageError(`no coverable container in the bundle (expected one of: ${COVERABLE_TYPES.join(', ')})`);
  }
  let best = candidates[0];
  let bestCount = linkedPatternIds(best, byId).length;
  for (const c of candidates.slice(1)) {
    const count = linkedPatternIds(c, byId).length;
    if (count > bestCount) {
      best = c;
      bestCount = count;
    }
  }
  return best;
}

function toTechniques(patternIds: string[], byId: Map<string, StixObject>): { techniques: TechniqueRef[]; unmatched: UnmatchedPattern[] } {
  const techniques: TechniqueRef[] = [];
  const unmatched: UnmatchedPattern[] = [];
  const seen = new Set<string>();
  for (const stixId of patternIds) {
    const pattern = byId.get(stixId);
    if (!pattern) {
      unmatched.push({ stixId, reason: 'referenced by the container but absent from the bundle' });
      continue;
    }
    const name = str(pattern.name);
    if (pattern.revoked === true) {
      unmatched.push({ stixId, ...(name ? { name } : {}), reason: 'revoked attack pattern: skipped' });
      continue;
    }
    const found = techniqueIdOf(pattern);
    if (!found) {
      unmatched.push({ stixId, ...(name ? { name } : {}), reason: 'no ATT&CK id (external_references mitre-attack, x_mitre_id, OpenCTI MITRE extension or a leading T-number in the name)' });
      continue;
    }
    if (seen.has(found.id)) continue;
    seen.add(found.id);
    const ref: TechniqueRef = { techniqueId: found.id, stixId };
    const shown = displayName(pattern.name, found.id);
    if (shown) ref.name = shown;
    const phases = Array.isArray(pattern.kill_chain_phases) ? (pattern.kill_chain_phases as Array<Record<string, unknown>>) : [];
    const tactics = [...new Set(phases.filter((p) => (str(p?.kill_chain_name) ?? '').startsWith('mitre-')).map((p) => (str(p.phase_name) ?? '').toLowerCase()).filter(Boolean))];
    if (tactics.length > 0) ref.tactics = tactics;
    const dataSources = strList(pattern.x_mitre_data_sources);
    if (dataSources) ref.dataSources = dataSources;
    const platforms = strList(pattern.x_mitre_platforms);
    if (platforms) ref.platforms = platforms;
    techniques.push(ref);
  }
  return { techniques, unmatched };
}

function scoreList(v: unknown): ScoreEntry[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v
    .filter((e): e is { name: string; score: number } => !!e && typeof e === 'object' && typeof e.name === 'string' && typeof e.score === 'number')
    .map((e) => ({ name: e.name, score: e.score }));
}

/** Copies what the result bundle must echo from the coverage object (protocol §7). */
function echoCoverage(request: CoverageRequest, coverage: StixObject): void {
  const periodicity = str(coverage.periodicity);
  const duration = str(coverage.duration);
  const typeAffinity = str(coverage.type_affinity);
  const platforms = strList(coverage.platforms_affinity);
  const labels = strList(coverage.labels);
  const current = scoreList(coverage.coverage);
  const created = str(coverage.created);
  const modified = str(coverage.modified);
  if (periodicity) request.periodicity = periodicity;
  if (duration) request.duration = duration;
  if (typeAffinity) request.typeAffinity = typeAffinity;
  if (platforms) request.platformsAffinity = platforms;
  if (labels) request.labels = labels;
  if (current) request.currentCoverage = current;
  if (created) request.created = created;
  if (modified) request.modified = modified;
  if (typeof coverage.auto_enrichment_disable === 'boolean') request.autoEnrichmentDisable = coverage.auto_enrichment_disable;
}

export function resolveCoverageRequest(input: ResolveInput, options: ResolveOptions = {}): CoverageRequest {
  if (!Array.isArray(input.objects)) throw new InvalidMessageError('the STIX content has no objects array');
  const byId = indexById(input.objects);
  const coverage = input.coverage ?? [...byId.values()].find((o) => o.type === 'security-coverage');
  const coveredRef = str(coverage?.covered_ref);
  if (coverage && !coveredRef) throw new InvalidMessageError(`coverage ${coverage.id} has no covered_ref`);

  let container: StixObject | undefined;
  let patternIds: string[];
  if (coveredRef && !byId.has(coveredRef)) {
    // The platform sent only the coverage and the container's content (GraphQL fallback, P7):
    // every attack pattern present belongs to the covered entity.
    patternIds = [...byId.values()].filter((o) => o.type === 'attack-pattern').map((o) => o.id);
  } else {
    container = pickContainer(byId, coveredRef ?? input.coveredId);
    patternIds = linkedPatternIds(container, byId);
  }

  const { techniques, unmatched } = toTechniques(patternIds, byId);
  if (options.maxTechniques !== undefined && techniques.length > options.maxTechniques) {
    throw new LimitExceededError(`the covered entity has ${techniques.length} techniques, more than the limit of ${options.maxTechniques} (limits.max_techniques)`);
  }

  const covered = (coveredRef ?? container?.id) as string;
  const containerName = str(container?.name);
  const request: CoverageRequest = {
    coverageId: coverage ? coverage.id : securityCoverageId(covered),
    coverageName: str(coverage?.name) ?? `Coverage of ${containerName ?? covered}`,
    coveredRef: covered,
    coveredType: container?.type ?? covered.split('--')[0],
    techniques,
    unmatched,
  };
  if (containerName) request.coveredName = containerName;
  if (coverage) echoCoverage(request, coverage);
  return request;
}
