import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { AssessmentResult, TechniqueAssessment, TechniqueEvidence } from '../../domain/assessment/assessment-types';
import type { CoverageRequest } from '../../domain/coverage/coverage-types';
import { causeText, subjectText } from '../../domain/history/describe';
import { DEFAULT_REGRESSION_THRESHOLD, type Cause, type RunChanges, type RunSnapshot, type ScoreChange } from '../../domain/history/history-types';
import { compareRuns } from '../../domain/history/regression';
import { overallOfResult, snapshotOf } from '../../domain/history/snapshot';
import { errorMessageOf } from '../../errors';
import { AssessInputError } from './assess';

/**
 * `assess … --baseline <file>` (docs/history.md, "Detection-as-code"): compares this run with an
 * earlier one, technique by technique, naming the causes from the evidence diff, and decides whether
 * `--fail-on-regression` fails the pipeline. The baseline is the `--json` output of an earlier
 * `assess` (scores and the evidence record: causes are named precisely) or its `--out-bundle` result
 * bundle (scores only: causes are what is weak in the current evidence).
 */

export type BaselineFormat = 'assess-json' | 'result-bundle';

export interface Baseline {
  file: string;
  format: BaselineFormat;
  runAt?: string;
  coverageId?: string;
  snapshot: RunSnapshot;
  /** What could not be compared (bundle targets that are not techniques of this container…). */
  notes: string[];
}

export interface BaselineDiff {
  baseline: Omit<Baseline, 'snapshot'>;
  threshold: number;
  changes: RunChanges;
}

const ScoreList = z.array(z.object({ name: z.string(), score: z.number() }));

const TechniqueJson = z
  .object({
    techniqueId: z.string().min(1),
    name: z.string().optional(),
    tested: z.boolean(),
    detection: z.number().optional(),
    prevention: z.number().optional(),
    detectionParts: z.object({ dataSource: z.number(), ruleQuality: z.number(), validation: z.number(), enrichment: z.number() }).optional(),
    // `assess --json` names rules and controls ({ id, title… }); the result itself lists ids.
    rules: z.array(z.union([z.string(), z.object({ id: z.string() }).loose()])).default([]),
    controls: z.array(z.union([z.string(), z.object({ id: z.string() }).loose()])).default([]),
    source: z.string().default('embedded'),
    evidence: z
      .object({ rules: z.array(z.object({ id: z.string(), title: z.string(), state: z.enum(['counted', 'disabled', 'deprecated']) }).loose()), dataSources: z.array(z.object({ id: z.string() }).loose()), controls: z.array(z.object({ id: z.string() }).loose()) })
      .loose()
      .optional(),
  })
  .loose();

const AssessJson = z
  .object({
    coverage: z.object({ id: z.string().optional() }).loose().optional(),
    run_at: z.string().optional(),
    backend: z.string().default('embedded'),
    overall: ScoreList,
    techniques: z.array(TechniqueJson),
  })
  .loose();

const StixObjectJson = z.object({ type: z.string(), id: z.string().optional() }).loose();

const idOf = (x: string | { id: string }): string => (typeof x === 'string' ? x : x.id);

function issuesText(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`)
    .join('; ');
}

function fromAssessJson(file: string, raw: unknown): Baseline {
  const parsed = AssessJson.safeParse(raw);
  if (!parsed.success) throw new AssessInputError(`--baseline ${file} is not the --json output of \`assess\`: ${issuesText(parsed.error)}`);
  const data = parsed.data;
  const techniques: TechniqueAssessment[] = data.techniques.map((t) => ({
    techniqueId: t.techniqueId,
    ...(t.name ? { name: t.name } : {}),
    tested: t.tested,
    ...(t.detection !== undefined ? { detection: t.detection } : {}),
    ...(t.prevention !== undefined ? { prevention: t.prevention } : {}),
    ...(t.detectionParts ? { detectionParts: t.detectionParts } : {}),
    why: [],
    rules: t.rules.map(idOf),
    controls: t.controls.map(idOf),
    source: t.source,
    ...(t.evidence ? { evidence: t.evidence as unknown as TechniqueEvidence } : {}),
  }));
  return {
    file,
    format: 'assess-json',
    ...(data.run_at ? { runAt: data.run_at } : {}),
    ...(data.coverage?.id ? { coverageId: data.coverage.id } : {}),
    snapshot: snapshotOf({ backend: data.backend, overall: data.overall, techniques }),
    notes: techniques.some((t) => t.tested && !t.evidence) ? ['the baseline has no evidence record for some techniques (older connector or another backend): their causes are less precise'] : [],
  };
}

/** A result bundle: scores of the coverage and of each has-covered target, mapped to techniques through the current container. */
function fromResultBundle(file: string, objects: unknown[], request: CoverageRequest): Baseline {
  const parsed = z.array(StixObjectJson).safeParse(objects);
  if (!parsed.success) throw new AssessInputError(`--baseline ${file}: ${issuesText(parsed.error)}`);
  const coverage = parsed.data.find((o) => o.type === 'security-coverage');
  if (!coverage) throw new AssessInputError(`--baseline ${file} is a STIX bundle without a security-coverage object: not a result bundle of \`assess --out-bundle\``);
  const overall = ScoreList.safeParse(coverage.coverage ?? []);
  const techniqueOf = new Map(request.techniques.filter((t) => t.stixId).map((t) => [t.stixId as string, t]));
  const techniques: TechniqueAssessment[] = [];
  let unmapped = 0;
  for (const rel of parsed.data) {
    if (rel.type !== 'relationship' || rel.relationship_type !== 'has-covered' || rel.source_ref !== coverage.id) continue;
    const ref = techniqueOf.get(String(rel.target_ref));
    if (!ref) {
      if (String(rel.target_ref).startsWith('attack-pattern--')) unmapped += 1;
      continue;
    }
    const scores = ScoreList.safeParse(rel.coverage ?? []);
    const entries = scores.success ? overallOfResult(scores.data) : {};
    techniques.push({
      techniqueId: ref.techniqueId,
      ...(ref.name ? { name: ref.name } : {}),
      tested: entries.DETECTION !== undefined || entries.PREVENTION !== undefined,
      ...(entries.DETECTION !== undefined ? { detection: entries.DETECTION } : {}),
      ...(entries.PREVENTION !== undefined ? { prevention: entries.PREVENTION } : {}),
      why: [],
      rules: [],
      controls: [],
      source: 'embedded',
    });
  }
  const notes = ['the baseline is a result bundle (scores only): causes are what is weak in the current evidence'];
  if (unmapped > 0) notes.push(`${unmapped} technique(s) of the baseline are not in the assessed container and are not compared`);
  return {
    file,
    format: 'result-bundle',
    ...(typeof coverage.modified === 'string' ? { runAt: coverage.modified } : {}),
    ...(coverage.id ? { coverageId: coverage.id } : {}),
    snapshot: { backend: 'embedded', overall: overall.success ? overallOfResult(overall.data) : {}, techniques: snapshotOf({ backend: 'embedded', overall: [], techniques }).techniques },
    notes,
  };
}

/** Reads `--baseline <file>`; an unusable file is an AssessInputError (exit code 2) naming the option. */
export async function readBaseline(file: string, request: CoverageRequest): Promise<Baseline> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AssessInputError(code === 'ENOENT' ? `--baseline ${file}: file not found` : `--baseline ${file} cannot be read as JSON: ${errorMessageOf(err)}`, { cause: err });
  }
  if (raw && typeof raw === 'object' && (raw as { type?: unknown }).type === 'bundle' && Array.isArray((raw as { objects?: unknown }).objects)) {
    return fromResultBundle(file, (raw as { objects: unknown[] }).objects, request);
  }
  return fromAssessJson(file, raw);
}

export function compareWithBaseline(baseline: Baseline, result: AssessmentResult, threshold: number): BaselineDiff {
  const { snapshot, ...meta } = baseline;
  const { changes } = compareRuns({ previous: snapshot, current: snapshotOf(result), open: [], threshold, runAt: result.runAt });
  return { baseline: meta, threshold, changes };
}

/** `--fail-on-regression [points]`: true → the default threshold; a number must be 1-100. */
export function thresholdOf(value: string | boolean | undefined, fallback: number): number {
  if (value === undefined || value === true || value === false) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new AssessInputError(`--fail-on-regression ${value}: the threshold must be an integer from 1 to 100 (points of score)`);
  return n;
}

const rowOf = (kind: string, text: string): string => `  ${kind.padEnd(10)}  ${text}`;

function changeLine(c: ScoreChange, regression: boolean): string {
  const lower = (c.to ?? 0) < (c.from ?? 0) || (c.from !== undefined && c.to === undefined);
  const causes: Cause[] = c.causes.filter((x) => x.kind !== 'unexplained');
  const why = causes.length > 0 ? `: ${causeText(causes, 4, c.techniqueId)}` : '';
  return rowOf(regression ? 'REGRESSION' : lower ? 'lower' : 'higher', `${subjectText(c)}${why}`);
}

export function formatBaselineDiff(diff: BaselineDiff): string {
  const { changes, baseline, threshold } = diff;
  const regressed = new Set(changes.regressions.map((r) => `${r.techniqueId ?? ''}|${r.score}`));
  const out = [`Compared with baseline ${baseline.file} (${baseline.format === 'assess-json' ? 'assess --json' : 'result bundle'}${baseline.runAt ? `, run ${baseline.runAt}` : ''}), regression threshold ${threshold} points:`];
  // Coverage first, then techniques; regressions before other moves.
  const ordered = [...changes.scoreChanges].sort((a, b) => {
    const ra = regressed.has(`${a.techniqueId ?? ''}|${a.score}`) ? 0 : 1;
    const rb = regressed.has(`${b.techniqueId ?? ''}|${b.score}`) ? 0 : 1;
    return ra - rb || (a.techniqueId ? 1 : 0) - (b.techniqueId ? 1 : 0) || (a.techniqueId ?? '').localeCompare(b.techniqueId ?? '') || a.score.localeCompare(b.score);
  });
  for (const c of ordered) out.push(changeLine(c, regressed.has(`${c.techniqueId ?? ''}|${c.score}`)));
  for (const a of changes.added) out.push(rowOf('added', `${a.id}${a.name ? ` (${a.name})` : ''}: DETECTION ${a.detection ?? 'not measured'}, PREVENTION ${a.prevention ?? 'not measured'}`));
  for (const id of changes.removed) out.push(rowOf('removed', `${id} is no longer in the container`));
  if (out.length === 1) out.push('  no score changed');
  const lower = changes.scoreChanges.filter((c) => !regressed.has(`${c.techniqueId ?? ''}|${c.score}`) && (c.to ?? 0) < (c.from ?? 0)).length;
  const higher = changes.scoreChanges.filter((c) => (c.to ?? 0) > (c.from ?? 0)).length;
  out.push(`${changes.regressions.length} regression(s), ${lower} other drop(s), ${higher} rise(s), ${changes.added.length} technique(s) added, ${changes.removed.length} removed`);
  for (const note of baseline.notes) out.push(`note: ${note}`);
  return `${out.join('\n')}\n`;
}

export function baselineJson(diff: BaselineDiff): unknown {
  return {
    file: diff.baseline.file,
    format: diff.baseline.format,
    run_at: diff.baseline.runAt ?? null,
    coverage_id: diff.baseline.coverageId ?? null,
    threshold: diff.threshold,
    regressions: diff.changes.regressions,
    score_changes: diff.changes.scoreChanges,
    added: diff.changes.added,
    removed: diff.changes.removed,
    evidence_changes_without_score_change: diff.changes.quietChanges,
    notes: diff.baseline.notes,
  };
}

/** Exit code of `assess --fail-on-regression` when a score regressed (2 stays "unusable input"). */
export const REGRESSION_EXIT_CODE = 3;

/** `--baseline <file>` with `--fail-on-regression [points]` as the assess command passes them. */
export async function baselineDiffOf(run: { request: CoverageRequest; result: AssessmentResult }, file: string, failOnRegression: string | boolean | undefined): Promise<BaselineDiff> {
  const threshold = thresholdOf(failOnRegression, DEFAULT_REGRESSION_THRESHOLD);
  return compareWithBaseline(await readBaseline(file, run.request), run.result, threshold);
}

/** The one line on stderr when `--fail-on-regression` fails the run. */
export function regressionFailureLine(diff: BaselineDiff): string {
  const first = diff.changes.regressions[0];
  return `coverage regression: ${diff.changes.regressions.length} score(s) dropped by ${diff.threshold} points or more since ${diff.baseline.file} (first: ${subjectText(first)}); exit code ${REGRESSION_EXIT_CODE}\n`;
}
