import { overallOf, toScore } from '../assessment/combine';
import type { AssessmentResult, TechniqueAssessment } from '../assessment/assessment-types';
import type { CoverageRequest, ScoreEntry } from '../coverage/coverage-types';
import { deterministicBundleId, hasCoveredRelationshipId, securityPlatformIdentityId } from '../ids/stix-ids';
import type { ValidityWindow } from '../schedule/validity';
import { coverageSummary, summaryNoteId, techniqueExplanation } from './explanation';
import type { StixBundle, StixObject } from './stix-types';

/**
 * The bundle pushed back to OpenCTI (opencti-connector-protocol.md §7): the echoed coverage with
 * its complete score list and validity window, and one `has-covered` per technique. Same inputs →
 * byte-identical bundle (deterministic ids, no random values, no clock other than `now`).
 */

export interface ResultBundleOptions {
  now: Date;
  validity: ValidityWindow;
  /** The coverage's link (stable per coverage: any change is a write that re-triggers enrichment). */
  externalUri?: string;
  /**
   * Also emit one SecurityPlatform identity per contributing backend with its own scores
   * (techniques that backend scored) and a has-covered to it. Off by default.
   */
  platformIdentities?: boolean;
  /**
   * Carry the reasons into OpenCTI: a Markdown `description` on each has-covered and one summary Note
   * (ranked gaps) on the coverage (src/domain/stix/explanation.ts). Off by default.
   */
  explanations?: boolean;
}

const SCORE_ORDER: ReadonlyArray<{ key: 'prevention' | 'detection'; name: ScoreEntry['name'] }> = [
  { key: 'prevention', name: 'PREVENTION' },
  { key: 'detection', name: 'DETECTION' },
];

/** Only measured types, integers 0-100; an unmeasured type is omitted, never 0 (§2.2). */
export function techniqueScores(t: TechniqueAssessment): ScoreEntry[] {
  if (!t.tested) return [];
  return SCORE_ORDER.filter(({ key }) => typeof t[key] === 'number').map(({ key, name }) => ({ name, score: toScore(t[key] as number) }));
}

/** The overall list, integer and clamped, whatever the backend produced. */
function overallScores(result: Pick<AssessmentResult, 'overall'>): ScoreEntry[] {
  return result.overall.map((s) => ({ name: String(s.name).toUpperCase(), score: toScore(Number(s.score)) }));
}

function hasCovered(source: string, target: string, scores: ScoreEntry[], stamp: string, description?: string): StixObject {
  const rel: StixObject = {
    type: 'relationship',
    spec_version: '2.1',
    id: hasCoveredRelationshipId(source, target),
    relationship_type: 'has-covered',
    source_ref: source,
    target_ref: target,
    created: stamp,
    modified: stamp,
    covered: scores.length > 0,
  };
  // Untested targets: covered false and NO coverage property (an empty list would still be sent).
  if (scores.length > 0) rel.coverage = scores;
  if (description) rel.description = description;
  return rel;
}

/**
 * The coverage object alone, as `buildResultBundle` makes it: what a run on settled inputs pushes when
 * only the validity dates are due (src/app/enrichment-job.ts).
 */
export function coverageObjectOf(request: CoverageRequest, result: Pick<AssessmentResult, 'overall'>, options: Pick<ResultBundleOptions, 'now' | 'validity' | 'externalUri'>): StixObject {
  return coverageObject(request, result, options, options.now.toISOString());
}

function coverageObject(request: CoverageRequest, result: Pick<AssessmentResult, 'overall'>, options: Pick<ResultBundleOptions, 'validity' | 'externalUri'>, stamp: string): StixObject {
  const cov: StixObject = {
    type: 'security-coverage',
    spec_version: '2.1',
    id: request.coverageId,
    name: request.coverageName,
    covered_ref: request.coveredRef,
    created: request.created ?? stamp,
    modified: stamp,
  };
  if (request.periodicity) cov.periodicity = request.periodicity;
  if (request.duration) cov.duration = request.duration;
  if (request.typeAffinity) cov.type_affinity = request.typeAffinity;
  if (request.platformsAffinity) cov.platforms_affinity = [...request.platformsAffinity];
  if (options.externalUri) cov.external_uri = options.externalUri;
  cov.last_result = options.validity.lastResult;
  cov.valid_from = options.validity.validFrom;
  if (options.validity.validTo) cov.valid_to = options.validity.validTo;
  cov.auto_enrichment_disable = false;
  // Always the complete list: an absent list wipes the stored scores (P5), which is also what an
  // empty result means; STIX 2.1 forbids empty lists, so "nothing measured" omits the property.
  const overall = overallScores(result);
  if (overall.length > 0) cov.coverage = overall;
  return cov;
}

/** One identity per backend that scored something, with the scores of the techniques it scored. */
function platformObjects(request: CoverageRequest, result: AssessmentResult, stamp: string): StixObject[] {
  const backends = result.sources?.filter((s) => s.techniquesScored > 0).map((s) => s.backend) ?? [result.backend];
  const out: StixObject[] = [];
  for (const backend of [...new Set(backends)]) {
    const scored = result.techniques.filter((t) => t.tested && t.source.split('+').includes(backend));
    const scores = overallOf(scored);
    if (scores.length === 0) continue;
    const identity: StixObject = {
      type: 'identity',
      spec_version: '2.1',
      id: securityPlatformIdentityId(backend),
      name: backend,
      identity_class: 'securityplatform',
      created: stamp,
      modified: stamp,
    };
    out.push(identity, hasCovered(request.coverageId, identity.id, scores, stamp));
  }
  return out;
}

export function buildResultBundle(request: CoverageRequest, result: AssessmentResult, options: ResultBundleOptions): StixBundle {
  const stamp = options.now.toISOString();
  const byTechnique = new Map<string, TechniqueAssessment>();
  for (const t of result.techniques) if (!byTechnique.has(t.techniqueId.toUpperCase())) byTechnique.set(t.techniqueId.toUpperCase(), t);

  const objects: StixObject[] = [coverageObject(request, result, options, stamp)];
  const targets = new Set<string>();
  // The request is the source of truth for targets: every technique with a platform id gets one.
  for (const ref of request.techniques) {
    const assessed = byTechnique.get(ref.techniqueId);
    const target = ref.stixId ?? assessed?.stixId;
    if (!target || targets.has(target)) continue;
    targets.add(target);
    const description = options.explanations && assessed ? techniqueExplanation(assessed) : undefined;
    objects.push(hasCovered(request.coverageId, target, assessed ? techniqueScores(assessed) : [], stamp, description));
  }
  if (options.platformIdentities) objects.push(...platformObjects(request, result, stamp));
  if (options.explanations) {
    const { abstract, content } = coverageSummary(request, result);
    objects.push({
      type: 'note',
      spec_version: '2.1',
      id: summaryNoteId(request.coverageId),
      created: stamp,
      modified: stamp,
      abstract,
      content,
      note_types: ['assessment'],
      object_refs: [request.coverageId],
    });
  }
  let id: string | undefined;
  return {
    type: 'bundle',
    // Hashed from the content on first read (an output file, the report page): the daemon pushes the
    // objects one by one and never reads it. The objects are not changed after this point.
    get id() {
      return (id ??= deterministicBundleId(objects));
    },
    spec_version: '2.1',
    objects,
  };
}
