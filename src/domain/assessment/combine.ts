import type { ScoreEntry } from '../coverage/coverage-types';
import type { AssessmentResult, AssessmentSource, Gap, TechniqueAssessment } from './assessment-types';

/**
 * Combining several backends' results into one (docs/backends.md, "Combining results").
 *
 * Rules, per technique and per score type (DETECTION, PREVENTION):
 *  1. a measured backend (OpenAEV, SIEM…) wins over the embedded estimate; between measured
 *     backends the first in configuration order wins;
 *  2. a type no measured backend scored is filled by the embedded estimate, so a technique a
 *     backend could not test (placeholder, no execution, window still open) keeps its estimate;
 *  3. a type nobody scored stays absent — never 0;
 *  4. the overall list is recomputed over the merged techniques, one entry per score type.
 * Every source stays visible: `source` names the backends behind a technique's scores
 * (`openaev`, `siem+embedded`…), `why` lines are prefixed with their backend, and `sources`
 * summarises each backend's run.
 */

export type Aggregate = 'mean' | 'min' | 'max';

export interface CombineInput {
  /** Measured results, highest priority first. */
  measured: AssessmentResult[];
  /** The embedded engine's estimate (the fallback), if it ran. */
  estimate?: AssessmentResult;
  /** How technique scores roll up to the overall score (config coverage.aggregate). */
  aggregate?: Aggregate;
}

type ScoreKey = 'prevention' | 'detection';
const SCORE_TYPES: ReadonlyArray<{ key: ScoreKey; name: ScoreEntry['name'] }> = [
  { key: 'prevention', name: 'PREVENTION' },
  { key: 'detection', name: 'DETECTION' },
];

/** Integer 0-100 (OpenCTI `Int!`); NaN-safe. */
export function toScore(value: number): number {
  if (!Number.isFinite(value)) return 0;
  return Math.min(100, Math.max(0, Math.round(value)));
}

export function aggregateScores(values: number[], aggregate: Aggregate = 'mean'): number | undefined {
  if (values.length === 0) return undefined;
  if (aggregate === 'min') return toScore(Math.min(...values));
  if (aggregate === 'max') return toScore(Math.max(...values));
  return toScore(values.reduce((a, b) => a + b, 0) / values.length);
}

/** One entry per measured type, PREVENTION then DETECTION; types without any value are omitted. */
export function overallOf(techniques: TechniqueAssessment[], aggregate: Aggregate = 'mean'): ScoreEntry[] {
  const out: ScoreEntry[] = [];
  for (const { key, name } of SCORE_TYPES) {
    const values = techniques.map((t) => t[key]).filter((v): v is number => typeof v === 'number');
    const score = aggregateScores(values, aggregate);
    if (score !== undefined) out.push({ name, score });
  }
  return out;
}

function prefixed(source: string, line: string): string {
  return line.startsWith('[') ? line : `[${source}] ${line}`;
}

function union(lists: string[][]): string[] {
  return [...new Set(lists.flat())];
}

function mergeTechnique(entries: TechniqueAssessment[], measuredSources: Set<string>): { merged: TechniqueAssessment; contributors: string[] } {
  const measured = entries.filter((e) => measuredSources.has(e.source));
  const estimates = entries.filter((e) => !measuredSources.has(e.source));
  const ordered = [...measured, ...estimates];
  const merged: TechniqueAssessment = {
    techniqueId: entries[0].techniqueId,
    stixId: ordered.find((e) => e.stixId)?.stixId,
    name: ordered.find((e) => e.name)?.name,
    tested: false,
    why: [],
    rules: [],
    controls: [],
    source: '',
  };
  const contributors: TechniqueAssessment[] = [];
  for (const { key } of SCORE_TYPES) {
    const from = ordered.find((e) => typeof e[key] === 'number');
    if (!from) continue;
    merged[key] = toScore(from[key] as number);
    if (key === 'detection' && from.detectionParts && !measuredSources.has(from.source)) merged.detectionParts = from.detectionParts;
    if (!contributors.includes(from)) contributors.push(from);
  }
  contributors.sort((a, b) => ordered.indexOf(a) - ordered.indexOf(b));
  merged.tested = contributors.length > 0;
  merged.source = contributors.length > 0 ? contributors.map((c) => c.source).join('+') : (estimates[0] ?? measured[0]).source;
  merged.externalUri = contributors.find((c) => measuredSources.has(c.source) && c.externalUri)?.externalUri ?? measured.find((m) => m.externalUri)?.externalUri;
  // Every backend's explanation stays, contributors first, so a reader sees why a measurement is absent.
  const explainers = [...contributors, ...ordered.filter((e) => !contributors.includes(e))];
  merged.why = explainers.flatMap((e) => e.why.map((line) => prefixed(e.source, line)));
  merged.rules = union(contributors.map((c) => c.rules));
  merged.controls = union(contributors.map((c) => c.controls));
  // The embedded engine's evidence record stays: score history names causes from it.
  const evidence = ordered.find((e) => e.evidence)?.evidence;
  if (evidence) merged.evidence = evidence;
  if (merged.externalUri === undefined) delete merged.externalUri;
  if (merged.stixId === undefined) delete merged.stixId;
  if (merged.name === undefined) delete merged.name;
  return { merged, contributors: contributors.map((c) => c.source) };
}

function updateGaps(gaps: Gap[], techniques: Map<string, TechniqueAssessment>): Gap[] {
  return gaps.map((gap) => {
    const t = techniques.get(gap.techniqueId);
    if (!t) return gap;
    const updated: Gap = { ...gap };
    delete updated.detection;
    delete updated.prevention;
    if (t.detection !== undefined) updated.detection = t.detection;
    if (t.prevention !== undefined) updated.prevention = t.prevention;
    return updated;
  });
}

/** Merges measured results with the embedded estimate (see the rules above). Pure. */
export function combineAssessments(input: CombineInput): AssessmentResult {
  const all = [...input.measured, ...(input.estimate ? [input.estimate] : [])];
  if (all.length === 0) throw new Error('combineAssessments needs at least one result');
  if (all.length === 1) return all[0];

  const measuredSources = new Set(input.measured.flatMap((r) => r.techniques.map((t) => t.source)).concat(input.measured.map((r) => r.backend)));
  const byTechnique = new Map<string, TechniqueAssessment[]>();
  for (const result of all) {
    for (const t of result.techniques) {
      const id = t.techniqueId.toUpperCase();
      const list = byTechnique.get(id) ?? [];
      list.push(t);
      byTechnique.set(id, list);
    }
  }

  const scoredBy = new Map<string, number>();
  const techniques: TechniqueAssessment[] = [];
  for (const entries of byTechnique.values()) {
    const { merged, contributors } = mergeTechnique(entries, measuredSources);
    for (const c of contributors) scoredBy.set(c, (scoredBy.get(c) ?? 0) + 1);
    techniques.push(merged);
  }

  const sources: AssessmentSource[] = all.map((r) => {
    const s: AssessmentSource = { backend: r.backend, runAt: r.runAt, techniquesScored: scoredBy.get(r.backend) ?? 0 };
    if (r.externalUri) s.externalUri = r.externalUri;
    return s;
  });
  const contributing = sources.filter((s) => s.techniquesScored > 0);
  // The coverage-level link points at the first measured backend that scored something.
  const linked = contributing.find((s) => s.externalUri && input.measured.some((m) => m.backend === s.backend));
  // The result is as old as its newest contribution (the embedded estimate is "now").
  const runAt = (contributing.length > 0 ? contributing : sources).map((s) => s.runAt).sort().at(-1) as string;

  const combined: AssessmentResult = {
    backend: all.map((r) => r.backend).join('+'),
    runAt,
    techniques,
    overall: overallOf(techniques, input.aggregate),
    gaps: updateGaps(input.estimate?.gaps ?? [], new Map(techniques.map((t) => [t.techniqueId, t]))),
    warnings: all.flatMap((r) => r.warnings.map((w) => prefixed(r.backend, w))),
    sources,
  };
  if (linked?.externalUri) combined.externalUri = linked.externalUri;
  return combined;
}
