import type { AssessmentResult, Gap, TechniqueAssessment } from '../assessment/assessment-types';
import type { CoverageRequest, ScoreEntry } from '../coverage/coverage-types';
import { standardId } from '../ids/stix-ids';
import { setBounded } from '../bounded-map';

/**
 * The reasons behind the scores, in the words an analyst reads in OpenCTI: a Markdown `description` on
 * each has-covered, and one summary Note on the coverage with the ranked gaps. Stable wording and no
 * clock: an unchanged result gives byte-identical text, so it is never rewritten (every write of the
 * coverage re-triggers an enrichment; docs/processing-flow.md). Bounded length.
 */

/** Longest has-covered description (the platform stores more; analysts read less). */
export const MAX_TECHNIQUE_EXPLANATION = 1500;
/** Longest summary note. */
export const MAX_SUMMARY = 6000;
/** Gaps listed in the summary. */
export const SUMMARY_GAPS = 10;

const clip = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 2).replace(/\s+\S*$/, '')} …`);
/** Text `md` changes: a character to escape, or whitespace other than single inner spaces (most titles have neither). */
const MD_ACTIVE = /[\\`*_[\]<>|#]|[^\S ]|\s\s|^\s|\s$/;
const escaped = new Map<string, string>();
/** Bounds of what `md` keeps: ~10,000 short texts (a few MB at most). */
const MAX_ESCAPED = 10_000;
const MAX_KEPT_LENGTH = 256;
/**
 * Markdown-inert text: no emphasis, links or HTML from rule titles and file names. The same titles and
 * sources come back in every run: their escaped forms are kept.
 */
function md(text: string): string {
  let out = escaped.get(text);
  if (out === undefined) {
    out = MD_ACTIVE.test(text) ? text.replace(/[\\`*_[\]<>|#]/g, (c) => `\\${c}`).replace(/\s+/g, ' ').trim() : text;
    if (text.length <= MAX_KEPT_LENGTH) setBounded(escaped, text, out, MAX_ESCAPED);
  }
  return out;
}

function detectionLine(t: TechniqueAssessment): string | undefined {
  if (typeof t.detection !== 'number') return undefined;
  const p = t.detectionParts;
  if (!p) return `**Detection ${t.detection}** (${md(t.source)})`;
  return `**Detection ${t.detection}** = data source ${p.dataSource} + rule quality ${p.ruleQuality} + validation ${p.validation} + enrichment ${p.enrichment}`;
}

function ruleLines(t: TechniqueAssessment): string[] {
  const rules = t.evidence?.rules ?? [];
  if (rules.length === 0) return t.detection === undefined ? [] : ['- no detection rule for this technique'];
  // One pass: the counts, and only the few rules shown.
  let counted = 0;
  const shownCounted: string[] = [];
  const shownOther: string[] = [];
  for (const r of rules) {
    if (r.state === 'counted') {
      counted += 1;
      if (shownCounted.length < 5) shownCounted.push(`${md(r.title)} (${r.maturity}${r.source ? `; ${md(r.source)}${r.fed === false ? ' **not collected**' : ''}` : ''})`);
    } else if (shownOther.length < 3) shownOther.push(`${md(r.title)} (${r.state})`);
  }
  const other = rules.length - counted;
  const lines: string[] = [];
  if (counted > 0) lines.push(`- rules counted (${counted}): ${shownCounted.join('; ')}${counted > 5 ? `; and ${counted - 5} more` : ''}`);
  if (other > 0) lines.push(`- not counted: ${shownOther.join('; ')}${other > 3 ? `; and ${other - 3} more` : ''}`);
  return lines;
}

function sourceLines(t: TechniqueAssessment): string[] {
  const sources = t.evidence?.dataSources ?? [];
  const missing = sources.filter((s) => s.collected === false).map((s) => md(s.id));
  return missing.length > 0 ? [`- data sources not collected: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`] : [];
}

function preventionLines(t: TechniqueAssessment): string[] {
  const controls = t.evidence?.controls ?? [];
  const lines: string[] = [];
  if (typeof t.prevention === 'number') lines.push(`**Prevention ${t.prevention}**`);
  if (controls.length > 0) {
    lines.push(`- controls: ${controls.slice(0, 5).map((c) => `${md(c.name)} (${c.mode}${c.validated ? ', validated' : ''})`).join('; ')}`);
  } else if (typeof t.prevention === 'number' && t.prevention === 0) {
    lines.push('- no prevention control for this technique');
  }
  return lines;
}

/** Several platforms: each one's scores; the technique's are the weakest (docs/scoring.md §2). */
function platformLines(t: TechniqueAssessment): string[] {
  if (!t.platforms || t.platforms.length < 2) return [];
  const cell = (p: NonNullable<TechniqueAssessment['platforms']>[number]): string =>
    `${md(p.platform)} ${[p.detection !== undefined ? `detection ${p.detection}` : '', p.prevention !== undefined ? `prevention ${p.prevention}` : ''].filter(Boolean).join(', ')}`;
  return [`- per platform: ${t.platforms.map(cell).join('; ')} (the weakest bounds the score)`];
}

/** Explanations of frozen assessments (the engine's shared technique outcomes), made once each. */
const frozenExplanations = new WeakMap<TechniqueAssessment, string | undefined>();

/** Markdown explanation of one technique's scores (the has-covered `description`); undefined when there is nothing to say. */
export function techniqueExplanation(t: TechniqueAssessment): string | undefined {
  if (!Object.isFrozen(t)) return explain(t);
  if (frozenExplanations.has(t)) return frozenExplanations.get(t);
  const text = explain(t);
  frozenExplanations.set(t, text);
  return text;
}

function explain(t: TechniqueAssessment): string | undefined {
  if (t.notApplicable) return `Not applicable: no score. ${t.why.length > 0 ? md(t.why[0].replace(/^not applicable: /, '')) : ''}`.trim();
  if (!t.tested) return `Not tested by ${md(t.source)}: no score. ${t.why.length > 0 ? md(t.why[0]) : ''}`.trim();
  const lines: string[] = [];
  const detection = detectionLine(t);
  if (detection) lines.push(detection, ...platformLines(t), ...ruleLines(t), ...sourceLines(t));
  const emulation = t.evidence?.emulation;
  if (emulation) lines.push(`- latest emulation: ${emulation.outcome} on ${md(emulation.date)}${emulation.test ? ` (${md(emulation.test)})` : ''}`);
  lines.push(...preventionLines(t));
  if (lines.length === 0) lines.push(...t.why.slice(0, 5).map((w) => `- ${md(w)}`));
  return clip(lines.join('\n'), MAX_TECHNIQUE_EXPLANATION);
}

/** Which dimension a gap is about, and what would close it. */
export function gapAction(gap: Gap, technique?: TechniqueAssessment): { dimension: 'detection' | 'prevention'; action: string } {
  // The engine's gap list names both (src/domain/gaps/gap-list.ts); older stored gaps may not.
  if (gap.dimension && gap.action) return { dimension: gap.dimension, action: md(gap.action) };
  const detection = gap.detection ?? technique?.detection;
  const prevention = gap.prevention ?? technique?.prevention;
  // The weaker measured dimension; an untested detection always comes first.
  const dimension: 'detection' | 'prevention' = detection !== undefined && prevention !== undefined && prevention < detection ? 'prevention' : 'detection';
  if (dimension === 'prevention') return { dimension, action: 'add or enforce a prevention control' };
  const disabled = technique?.evidence?.rules.find((r) => r.state === 'disabled');
  if (disabled) return { dimension, action: `enable rule "${md(disabled.title)}"` };
  const unfed = technique?.evidence?.rules.find((r) => r.state === 'counted' && r.fed === false);
  if (unfed?.source) return { dimension, action: `collect ${md(unfed.source)} (rule "${md(unfed.title)}" depends on it)` };
  if (gap.missingDataSources.length > 0) return { dimension, action: `collect ${gap.missingDataSources.slice(0, 2).map(md).join(', ')}` };
  if ((technique?.evidence?.rules.length ?? 0) === 0) return { dimension, action: 'write or enable a detection rule' };
  if (!technique?.evidence?.emulation) return { dimension, action: 'validate the rules with an emulation' };
  return { dimension, action: 'improve the rules (maturity, validation)' };
}

const scoreText = (scores: ScoreEntry[]): string => (scores.length === 0 ? 'no technique tested' : scores.map((s) => `${s.name} ${s.score}`).join(', '));

/** The coverage's summary: overall scores, counts and the ranked gaps with what to do. */
export function coverageSummary(request: CoverageRequest, result: AssessmentResult): { abstract: string; content: string } {
  const tested = result.techniques.filter((t) => t.tested);
  const detected = tested.filter((t) => (t.detection ?? 0) >= 50).length;
  const byId = new Map(result.techniques.map((t) => [t.techniqueId.toUpperCase(), t]));
  const lines = [
    `**${scoreText(result.overall)}** over ${request.techniques.length} technique(s) of ${md(request.coveredName ?? request.coveredRef)}, assessed by ${md(result.backend)}.`,
    '',
    `- ${tested.length} tested, ${request.techniques.length - tested.length} not tested; ${detected} with detection of 50 or more`,
  ];
  if (request.unmatched.length > 0) lines.push(`- ${request.unmatched.length} attack pattern(s) without an ATT&CK id were not assessed`);
  const notApplicable = result.techniques.filter((t) => t.notApplicable).length;
  if (notApplicable > 0) lines.push(`- ${notApplicable} not applicable to ${md((request.platformsAffinity ?? []).join(', '))} (ATT&CK platforms): no score`);
  if (result.attackVersion) lines.push(`- judged against ATT&CK ${md(result.attackVersion)}`);
  const gaps = result.gaps.slice(0, SUMMARY_GAPS);
  if (gaps.length > 0) {
    lines.push('', `**Gaps to close first** (priority = prevalence × impact × feasibility × exposure):`, '');
    gaps.forEach((g, i) => {
      const { dimension, action } = gapAction(g, byId.get(g.techniqueId.toUpperCase()));
      const current = dimension === 'detection' ? g.detection : g.prevention;
      const ranked = g.prevalenceSource ? `; prevalence ${g.prevalence} from ${md(g.prevalenceSource)}` : '';
      lines.push(`${i + 1}. ${g.techniqueId}${g.name ? ` ${md(g.name)}` : ''}: ${dimension} ${current ?? 'not tested'}${g.covers?.length ? ` (also ${g.covers.join(', ')})` : ''} → ${action} (priority ${g.priority}${ranked})`);
    });
  } else {
    lines.push('', tested.length > 0 ? 'No gap ranked.' : 'Nothing was tested: no gap can be ranked.');
  }
  return { abstract: `Coverage assessment: ${scoreText(result.overall)}`, content: clip(lines.join('\n'), MAX_SUMMARY) };
}

/** The summary note's id: one per coverage, updated in place (the platform keeps it in x_opencti_stix_ids). */
export const summaryNoteId = (coverageId: string): string => standardId('note', { coverage_assessment_of: coverageId });
