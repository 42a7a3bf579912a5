import { DettectFileSchema, DettectTechniqueSchema, NavigatorLayerSchema, NavigatorTechniqueSchema, type DettectTechnique } from '../../../schemas/evidence';
import type { ImportedTechniqueScore, LoadIssue } from '../../domain/evidence/evidence-types';
import { isRecord, parseJson, parseYaml, zodReason } from './parse-text';

/**
 * Technique scores other tools already estimated: ATT&CK Navigator layers (4.x) and DeTT&CT
 * technique-administration files. One file can give scores and, for its bad entries, issues.
 */

export interface ImportResult {
  scores: ImportedTechniqueScore[];
  issues: LoadIssue[];
}

const round2 = (n: number): number => Math.round(n * 100) / 100;
const clamp100 = (n: number): number => Math.min(100, Math.max(0, n));

/** A layer score on the gradient's [min, max] → 0-100. */
export function normaliseLayerScore(score: number, minValue = 0, maxValue = 100): number {
  if (maxValue <= minValue) return clamp100(score);
  return round2(clamp100(((score - minValue) / (maxValue - minValue)) * 100));
}

function layerScores(layer: unknown, origin: string, issuePath: string, issues: LoadIssue[]): ImportedTechniqueScore[] {
  const parsed = NavigatorLayerSchema.safeParse(layer);
  if (!parsed.success) {
    issues.push({ path: issuePath, reason: zodReason('navigator', parsed.error) });
    return [];
  }
  const { name, techniques, gradient } = parsed.data;
  const layerOrigin = `${origin}#${name}`;
  // A technique listed under several tactics keeps its best score.
  const byId = new Map<string, ImportedTechniqueScore>();
  techniques.forEach((raw, index) => {
    const entry = NavigatorTechniqueSchema.safeParse(raw);
    if (!entry.success) {
      issues.push({ path: issuePath, reason: zodReason(`navigator: techniques[${index}]`, entry.error) });
      return;
    }
    const { techniqueID, score, comment, enabled } = entry.data;
    // Unscored (or disabled) techniques are listed without a detection value: "not assessed", not 0.
    const detection = enabled && typeof score === 'number' ? normaliseLayerScore(score, gradient?.minValue, gradient?.maxValue) : undefined;
    const previous = byId.get(techniqueID);
    if (previous && (detection === undefined || (previous.detection ?? -1) >= detection)) return;
    byId.set(techniqueID, {
      techniqueId: techniqueID,
      source: 'navigator',
      ...(detection !== undefined ? { detection } : {}),
      ...(comment?.trim() ? { comment: comment.trim() } : previous?.comment ? { comment: previous.comment } : {}),
      origin: layerOrigin,
    });
  });
  return [...byId.values()];
}

/** Navigator layer JSON (one layer or a list of layers) → scores; invalid layers / entries → issues. */
export function loadNavigatorLayers(text: string, path: string): ImportResult {
  const parsed = parseJson(text);
  if (!parsed.ok) return { scores: [], issues: [{ path, reason: parsed.reason }] };
  const issues: LoadIssue[] = [];
  const layers = Array.isArray(parsed.value) ? parsed.value : [parsed.value];
  const scores = layers.flatMap((layer, i) => layerScores(layer, path, Array.isArray(parsed.value) ? `${path}[${i}]` : path, issues));
  return { scores, issues };
}

type ScoreObject = NonNullable<DettectTechnique['detection']>;

const timeOf = (date: unknown): number => {
  if (date instanceof Date) return date.getTime();
  const t = typeof date === 'string' && date.trim() ? Date.parse(date) : Number.NaN;
  // Missing or unreadable date = oldest entry.
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
};

/** Latest logbook score of each applicable_to entry (by date), then the highest of those. */
export function latestDettectScore(value: ScoreObject | null | undefined): { score: number; comment?: string } | undefined {
  const objects = Array.isArray(value) ? value : value ? [value] : [];
  let best: { score: number; comment?: string } | undefined;
  for (const object of objects) {
    let latest: { score: number; comment?: string; time: number } | undefined;
    for (const entry of object.score_logbook ?? []) {
      if (typeof entry.score !== 'number') continue;
      const time = timeOf(entry.date);
      if (!latest || time > latest.time) latest = { score: entry.score, time, ...(entry.comment?.trim() ? { comment: entry.comment.trim() } : {}) };
    }
    if (latest && (!best || latest.score > best.score)) best = { score: latest.score, ...(latest.comment ? { comment: latest.comment } : {}) };
  }
  return best;
}

/** A parsed DeTT&CT document (file_type technique-administration) → one score per technique. */
export function dettectScoresFromDocument(doc: unknown, path: string): ImportResult {
  const file = DettectFileSchema.safeParse(doc);
  if (!file.success) return { scores: [], issues: [{ path, reason: zodReason('dettect', file.error) }] };
  const scores: ImportedTechniqueScore[] = [];
  const issues: LoadIssue[] = [];
  file.data.techniques.forEach((raw, index) => {
    const parsed = DettectTechniqueSchema.safeParse(raw);
    if (!parsed.success) {
      issues.push({ path, reason: zodReason(`dettect: techniques[${index}]`, parsed.error) });
      return;
    }
    const t = parsed.data;
    const detection = latestDettectScore(t.detection);
    const visibility = latestDettectScore(t.visibility);
    // Detection −1 means "none / not assessed": no value rather than 0 (0 is "forensics only").
    const detectionValue = detection && detection.score >= 0 ? round2((detection.score / 5) * 100) : undefined;
    const visibilityValue = visibility ? round2((visibility.score / 4) * 100) : undefined;
    scores.push({
      techniqueId: t.technique_id,
      source: 'dettect',
      ...(detectionValue !== undefined ? { detection: detectionValue } : {}),
      ...(visibilityValue !== undefined ? { visibility: visibilityValue } : {}),
      ...(detection?.comment ? { comment: detection.comment } : {}),
      origin: path,
    });
  });
  return { scores, issues };
}

/** DeTT&CT technique administration YAML → scores. */
export function loadDettectFile(text: string, path: string): ImportResult {
  const parsed = parseYaml(text);
  if (!parsed.ok) return { scores: [], issues: [{ path, reason: parsed.reason }] };
  return dettectScoresFromDocument(parsed.value, path);
}

/** A layers entry by extension: `.json` Navigator, `.yml/.yaml` DeTT&CT technique administration. */
export function loadImportFile(text: string, path: string): ImportResult {
  if (/\.json$/i.test(path)) return loadNavigatorLayers(text, path);
  if (!/\.ya?ml$/i.test(path)) return { scores: [], issues: [{ path, reason: 'layer: expected a Navigator .json or a DeTT&CT .yaml file' }] };
  const parsed = parseYaml(text);
  if (!parsed.ok) return { scores: [], issues: [{ path, reason: parsed.reason }] };
  if (!isRecord(parsed.value) || parsed.value.file_type !== 'technique-administration') {
    return { scores: [], issues: [{ path, reason: 'dettect: file_type is not technique-administration' }] };
  }
  return dettectScoresFromDocument(parsed.value, path);
}
