import { toScore } from '../assessment/combine';
import type { AssessmentResult, TechniqueAssessment } from '../assessment/assessment-types';
import type { CoverageRequest } from '../coverage/coverage-types';

/**
 * ATT&CK Navigator layer (format 4.5) of one score type: score 0-100 per technique, untested
 * techniques disabled with a comment (never scored 0), the reasons in the comment and the evidence
 * in metadata (coverage-semantics.md §10). Written for what the Navigator actually draws: parents
 * of scored sub-techniques open (`showSubtechniques`), revoked ids replaced (the Navigator drops
 * unknown ids silently), and a legend of the gradient only (disabled cells have no fill colour).
 */

export type LayerKind = 'DETECTION' | 'PREVENTION';

export interface NavigatorMetadata {
  name: string;
  value: string;
}
export interface NavigatorLink {
  label: string;
  url: string;
}

export interface NavigatorTechnique {
  techniqueID: string;
  score?: number;
  enabled?: boolean;
  comment?: string;
  metadata?: NavigatorMetadata[];
  links?: NavigatorLink[];
  showSubtechniques?: boolean;
}

export interface NavigatorLayer {
  name: string;
  versions: { attack: string; navigator: string; layer: '4.5' };
  domain: 'enterprise-attack';
  description: string;
  sorting: number;
  layout: { layout: 'side'; showID: boolean; showName: boolean; showAggregateScores: boolean; aggregateFunction: 'average' | 'min' | 'max' };
  hideDisabled: boolean;
  techniques: NavigatorTechnique[];
  gradient: { colors: string[]; minValue: number; maxValue: number };
  legendItems: Array<{ label: string; color: string }>;
  metadata: NavigatorMetadata[];
  links?: NavigatorLink[];
}

export interface NavigatorLayerOptions {
  /** ATT&CK version of the catalogue in use (default "18"). */
  attackVersion?: string;
  /** Navigator version written in `versions.navigator` (must be ≥ 4.9.0; default 5.1.0). */
  navigatorVersion?: string;
  /** Link to the run (external_uri). */
  externalUri?: string;
  /** How the container score was aggregated (shown as the layer's aggregate function). */
  aggregate?: 'mean' | 'min' | 'max';
  /** Revoked technique id → the id that replaced it (from the ATT&CK catalogue). */
  replacements?: Readonly<Record<string, string>>;
}

const GRADIENT = { colors: ['#ff6666', '#ffe766', '#8ec843'], minValue: 0, maxValue: 100 };
const KEY: Record<LayerKind, 'detection' | 'prevention'> = { DETECTION: 'detection', PREVENTION: 'prevention' };
const PREVENTION_LINE = /^prevention\b/i;

function metadataOf(t: TechniqueAssessment, runAt: string, kind: LayerKind): NavigatorMetadata[] {
  const meta: NavigatorMetadata[] = [];
  if (kind === 'DETECTION') {
    meta.push({ name: 'rules', value: String(t.rules.length) });
    if (t.detectionParts) {
      const p = t.detectionParts;
      meta.push({ name: 'parts', value: `data source ${p.dataSource}, rule quality ${p.ruleQuality}, validation ${p.validation}, enrichment ${p.enrichment}` });
    }
    if (t.dataSources && t.dataSources.length > 0) meta.push({ name: 'data sources', value: t.dataSources.join(', ') });
  } else {
    meta.push({ name: 'controls', value: t.controls.length > 0 ? t.controls.join(', ') : 'none' });
  }
  meta.push({ name: 'source', value: t.source });
  meta.push({ name: 'run time', value: runAt });
  return meta;
}

/** The reasons of this layer's score type first: a prevention tooltip opens on the prevention line. */
function commentLines(t: TechniqueAssessment, kind: LayerKind): string[] {
  const own = t.why.filter((l) => PREVENTION_LINE.test(l) === (kind === 'PREVENTION'));
  const other = t.why.filter((l) => PREVENTION_LINE.test(l) !== (kind === 'PREVENTION'));
  return [...own, ...other];
}

function techniqueEntry(t: TechniqueAssessment, kind: LayerKind, runAt: string): NavigatorTechnique {
  const value = t.tested ? t[KEY[kind]] : undefined;
  const comment = commentLines(t, kind).join('\n');
  if (typeof value !== 'number') {
    // Not measured: disabled and unscored, so the Navigator does not paint it as a 0.
    const reason = t.tested ? `${kind.toLowerCase()} not measured` : 'not tested';
    const text = !comment ? reason : comment.startsWith(reason) ? comment : `${reason}: ${comment}`;
    return { techniqueID: t.techniqueId, enabled: false, comment: text, metadata: metadataOf(t, runAt, kind) };
  }
  const entry: NavigatorTechnique = { techniqueID: t.techniqueId, score: toScore(value), enabled: true, comment, metadata: metadataOf(t, runAt, kind) };
  if (t.externalUri) entry.links = [{ label: 'Assessment run', url: t.externalUri }];
  return entry;
}

/**
 * Revoked ids → their replacement (kept as is when unknown); an id whose replacement is already in
 * the layer is dropped, since the Navigator keeps one entry per technique.
 */
function replaceRevoked(entries: NavigatorTechnique[], replacements: Readonly<Record<string, string>>): NavigatorTechnique[] {
  const present = new Set(entries.map((e) => e.techniqueID));
  const out: NavigatorTechnique[] = [];
  for (const e of entries) {
    const next = replacements[e.techniqueID];
    if (!next) {
      out.push(e);
      continue;
    }
    if (present.has(next)) continue;
    present.add(next);
    const note = `${e.techniqueID} is revoked in ATT&CK; shown as ${next}`;
    out.push({ ...e, techniqueID: next, comment: e.comment ? `${note}\n${e.comment}` : note, metadata: [...(e.metadata ?? []), { name: 'revoked id', value: e.techniqueID }] });
  }
  return out;
}

/** Parents of scored sub-techniques open in the Navigator, which otherwise hides those scores. */
function openParents(entries: NavigatorTechnique[]): NavigatorTechnique[] {
  const parents = new Set(entries.filter((e) => e.techniqueID.includes('.') && typeof e.score === 'number').map((e) => e.techniqueID.split('.')[0]));
  const out = entries.map((e) => (parents.has(e.techniqueID) ? { ...e, showSubtechniques: true } : e));
  for (const parent of parents) {
    if (!out.some((e) => e.techniqueID === parent)) out.push({ techniqueID: parent, showSubtechniques: true });
  }
  return out;
}

export function buildNavigatorLayer(request: CoverageRequest, result: AssessmentResult, kind: LayerKind, options: NavigatorLayerOptions = {}): NavigatorLayer {
  const overall = result.overall.find((s) => String(s.name).toUpperCase() === kind);
  const tested = result.techniques.filter((t) => t.tested && typeof t[KEY[kind]] === 'number').length;
  const layer: NavigatorLayer = {
    name: `${request.coverageName} — ${kind}`,
    versions: { attack: options.attackVersion ?? '18', navigator: options.navigatorVersion ?? '5.1.0', layer: '4.5' },
    domain: 'enterprise-attack',
    description:
      `${kind} coverage of ${request.coveredName ?? request.coveredRef}: ${overall ? `${overall.score}/100` : 'not measured'} over ${tested} of ${result.techniques.length} technique(s) (${result.backend}, ${result.runAt})` +
      (tested < result.techniques.length ? `; the other ${result.techniques.length - tested} are greyed out (disabled): ${kind.toLowerCase()} not measured` : ''),
    sorting: 3,
    layout: { layout: 'side', showID: true, showName: true, showAggregateScores: false, aggregateFunction: options.aggregate === 'min' || options.aggregate === 'max' ? options.aggregate : 'average' },
    hideDisabled: false,
    techniques: openParents(replaceRevoked(result.techniques.map((t) => techniqueEntry(t, kind, result.runAt)), options.replacements ?? {})),
    gradient: { ...GRADIENT, colors: [...GRADIENT.colors] },
    // Only what is drawn as a fill: untested techniques are disabled (greyed text, no fill colour).
    legendItems: [
      { label: '0 — not covered', color: GRADIENT.colors[0] },
      { label: '50 — partly covered', color: GRADIENT.colors[1] },
      { label: '100 — covered', color: GRADIENT.colors[2] },
    ],
    metadata: [
      { name: 'coverage', value: request.coverageId },
      { name: 'covered', value: request.coveredRef },
      { name: 'score type', value: kind },
      { name: 'overall', value: overall ? String(overall.score) : 'not measured' },
      { name: 'backend', value: result.backend },
      { name: 'run time', value: result.runAt },
    ],
  };
  const link = options.externalUri ?? result.externalUri;
  if (link) layer.links = [{ label: 'Assessment run', url: link }];
  return layer;
}
