import type { DetectionParts, PlatformScore, TechniqueAssessment } from '../assessment/assessment-types';
import { isSubTechnique } from '../coverage/attack-ids';
import { ATTACK_V19_NAMES } from '../coverage/attack-versions';
import type { TechniqueRef } from '../coverage/coverage-types';
import { normalisePlatforms, runsOn } from '../coverage/platforms';
import type { CatalogueTechnique, ImportedTechniqueScore, ValidationResult } from '../evidence/evidence-types';
import type { GapCandidate } from '../gaps/gap-list';
import type { EvidenceIndex, IndexedRule } from './evidence-index';
import {
  byDateDesc,
  controlPoints,
  depthBonus,
  EMULATION_PREVENTED,
  ENRICHMENT_POINTS,
  PART_MAX,
  proxyPart,
  severityOf,
  VALIDATION_POINTS,
} from './scoring-rubric';
import { ruleRecords, techniqueEvidence } from './technique-evidence';
import { dormantFeeds, NO_FEEDS, ruleSplit, splitRecords, usableFeeds, usableIds, type Feeds, type RuleSplit } from './rule-split';

/** One technique through the rubric of docs/scoring.md. Pure; every number is explained in `why`. */

export interface TechniqueOutcome {
  assessment: TechniqueAssessment;
  /** Present when the technique was judged (input to the gap list). */
  candidate?: GapCandidate;
  warnings: string[];
}

export interface ScoringOptions {
  rollup: boolean;
  /** The coverage's platforms, normalised (src/domain/coverage/platforms.ts); empty: no platform named. */
  platforms: string[];
}

const SOURCE = 'embedded';
const quote = (rule: IndexedRule): string => `"${rule.rule.title}" (${rule.rule.format}, ${rule.rule.maturity}${severityOf(rule.rule) ? `, ${severityOf(rule.rule)}` : ''})`;
const importLabel = (s: ImportedTechniqueScore): string => `${s.source === 'dettect' ? 'DeTT&CT' : 'Navigator'} ${s.origin}`;
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The distinct values of `values`, in first-seen order. */
function distinct<T>(values: Iterable<T>): T[] {
  return [...new Set(values)];
}

/** Imported scores of the technique, and of its sub-techniques when rolled up (read-only). */
function importedScores(index: EvidenceIndex, id: string, rollup: boolean): ImportedTechniqueScore[] {
  const own = index.importedFor(id);
  const subs = rollup && !isSubTechnique(id) ? index.subImportedFor(id) : [];
  return subs.length === 0 ? own : [...own, ...subs];
}

/** The first imported score with the highest `key`, among those that have one. */
function highest(scores: ImportedTechniqueScore[], key: 'detection' | 'visibility'): ImportedTechniqueScore | undefined {
  let best: ImportedTechniqueScore | undefined;
  for (const s of scores) if (typeof s[key] === 'number' && (!best || (s[key] as number) > (best[key] as number))) best = s;
  return best;
}

function latestValidation(index: EvidenceIndex, id: string, rollup: boolean): ValidationResult | undefined {
  const own = index.validationFor(id);
  const subs = rollup && !isSubTechnique(id) ? index.subValidationFor(id) : [];
  if (subs.length === 0) return own[0];
  return [...own, ...subs].sort(byDateDesc)[0];
}

function strongest(rules: IndexedRule[]): IndexedRule | undefined {
  let best: IndexedRule | undefined;
  for (const r of rules) if (!best || r.strength > best.strength || (r.strength === best.strength && r.rule.id < best.rule.id)) best = r;
  return best;
}

/** How a rule credited to `id` is tagged, when not with `id` itself (a sub-technique, another ATT&CK version). */
function tagNote(rule: IndexedRule, id: string): string {
  const tags = rule.rule.techniques.map((t) => t.toUpperCase());
  if (tags.includes(id)) return '';
  if (tags.some((t) => t.startsWith(`${id}.`))) return ' (sub-technique rule, rolled up)';
  return ` (tagged ${tags.join(', ')}: the same technique in another ATT&CK version)`;
}

/**
 * Data sources the technique's detections rely on: the rules' own (one per rule, its most specific
 * matched key), else the ATT&CK data components, else the pattern's `x_mitre_data_sources`; with
 * those not collected and the collected share (undefined when the inventory cannot tell).
 */
function sourcesOf(index: EvidenceIndex, ref: TechniqueRef, entry: CatalogueTechnique | undefined, feeds: Feeds): { needed: string[]; missing: string[]; share?: number } {
  const sorted = (list: string[]): string[] => (list.length < 2 ? list : [...new Set(list)].sort());
  const inventory = index.evidence.hasDataSourceInventory;
  if (feeds.declared > 0) return { needed: [...feeds.needed], missing: [...feeds.missing], ...(inventory ? { share: feeds.fed / feeds.declared } : {}) };
  const components = sorted((entry?.dataComponents ?? ref.dataSources ?? []).map((c) => c.trim()).filter(Boolean));
  if (!inventory || components.length === 0) return { needed: components, missing: components };
  const missing = components.filter((c) => index.componentStatus(c)?.collected !== true);
  return { needed: components, missing, share: (components.length - missing.length) / components.length };
}

/** Detection on one platform (undefined: every rule, whatever it runs on). */
interface DetectionView {
  platform?: string;
  parts: DetectionParts;
  score: number;
  split: RuleSplit;
  usable: IndexedRule[];
  dormant: IndexedRule[];
  why: string[];
}

function detectionOn(index: EvidenceIndex, id: string, rollup: boolean, platform: string | undefined): DetectionView {
  const why: string[] = [];
  const split = ruleSplit(index, id, rollup, platform);
  const { usable, dormant, firing, starved } = split;
  const imported = importedScores(index, id, rollup);
  const parts: DetectionParts = { dataSource: 0, ruleQuality: 0, validation: 0, enrichment: 0 };

  if (platform) {
    const all = ruleSplit(index, id, rollup, undefined).usable;
    if (all.length > usable.length) {
      const elsewhere = all.filter((r) => !runsOn(r.rule.platforms, platform));
      why.push(`not counted on ${platform}: ${plural(elsewhere.length, 'enabled rule')} for ${distinct(elsewhere.flatMap((r) => r.rule.platforms ?? [])).join(', ')} only`);
    }
  }

  // Rule quality: the strongest rule that can fire plus a depth bonus; an imported estimate is a floor.
  const best = strongest(firing);
  if (best) {
    const bonus = depthBonus(firing.length);
    parts.ruleQuality = Math.min(PART_MAX, best.strength + bonus);
    why.push(`rule quality ${parts.ruleQuality}/25: ${quote(best)}${tagNote(best, id)} is the strongest of ${plural(firing.length, 'enabled rule')} that can fire${bonus ? `, +${bonus} for depth` : ''}`);
  }
  if (starved.length > 0) {
    const needs = (split.starvedNeeds ??= distinct(starved.flatMap((r) => r.feed.missing)).join(', '));
    why.push(
      firing.length === 0
        ? `rule quality 0/25 and enrichment 0/25: ${starved.length === 1 ? 'the enabled rule needs' : `all ${starved.length} enabled rules need`} data that is not collected (${needs}), and a rule without its data cannot fire`
        : `${plural(starved.length, 'enabled rule')} need${starved.length === 1 ? 's' : ''} data that is not collected (${needs}): not counted for rule quality or enrichment`,
    );
  }
  const importedDetection = highest(imported, 'detection');
  if (importedDetection && proxyPart(importedDetection.detection as number) > parts.ruleQuality) {
    parts.ruleQuality = proxyPart(importedDetection.detection as number);
    why.push(`rule quality ${parts.ruleQuality}/25 from the imported detection estimate ${importedDetection.detection}/100 (${importLabel(importedDetection)})`);
  }

  // Data source: share of the enabled rules fed by a collected source.
  if (usable.length > 0) {
    const feeds = usableFeeds(split, index);
    if (!index.evidence.hasDataSourceInventory) {
      parts.dataSource = PART_MAX;
      why.push('data source 25/25: no data-source inventory configured, so the enabled rules\' sources are assumed collected');
    } else if (feeds.declared === 0) {
      parts.dataSource = PART_MAX;
      why.push('data source 25/25: the enabled rules declare no data source, assumed collected');
    } else {
      parts.dataSource = Math.round((PART_MAX * feeds.fed) / feeds.declared);
      const details = [
        feeds.fed > 0 ? `collected: ${feeds.collected.join(', ')}` : '',
        feeds.notCollected.length > 0 ? `not collected: ${feeds.notCollected.join(', ')}` : '',
        feeds.unknown.length > 0 ? `not in the inventory: ${feeds.unknown.join(', ')}` : '',
      ].filter(Boolean);
      why.push(`data source ${parts.dataSource}/25: ${feeds.fed} of ${feeds.declared} enabled rule(s) fed by a collected source (${details.join('; ')})`);
    }
  }
  const importedVisibility = highest(imported, 'visibility');
  if (importedVisibility && proxyPart(importedVisibility.visibility as number) > parts.dataSource) {
    parts.dataSource = proxyPart(importedVisibility.visibility as number);
    why.push(`data source ${parts.dataSource}/25 from the imported visibility ${importedVisibility.visibility}/100 (${importLabel(importedVisibility)})`);
  }

  const latest = latestValidation(index, id, rollup);
  if (latest) {
    parts.validation = VALIDATION_POINTS[latest.outcome] ?? 0;
    const which = latest.techniqueId.toUpperCase() === id ? '' : ` of ${latest.techniqueId.toUpperCase()}`;
    why.push(`validation ${parts.validation}/25: latest emulation${which}${latest.test ? ` "${latest.test}"` : ''} on ${latest.date}: ${latest.outcome}`);
  } else if (usable.length > 0 || imported.length > 0) {
    why.push('validation 0/25: never validated by an emulation');
  }

  const enriched = firing.find((r) => r.rule.hasEnrichment);
  if (enriched) {
    parts.enrichment = ENRICHMENT_POINTS;
    why.push(`enrichment 25/25: "${enriched.rule.title}" carries triage/risk context`);
  } else if (firing.length > 0) {
    why.push('enrichment 0/25: no enabled rule carries triage/risk context (risk score, investigation guide, false-positive notes)');
  }

  // A failing rule gets its own line: "enabled" alone would suggest it detects.
  for (const r of dormant.filter((d) => d.rule.enabled && d.rule.failing).slice(0, 5)) {
    const f = r.rule.failing as { since?: string; message?: string };
    why.push(`rule "${r.rule.title}" is enabled but failing${f.since ? ` since ${f.since}` : ''}${f.message ? ` (${f.message})` : ''}: not counted`);
  }
  const blocks = dormant.filter((r) => r.rule.buildingBlock && r.rule.enabled);
  if (blocks.length > 0) why.push(`supporting: ${blocks.slice(0, 3).map((r) => `"${r.rule.title}"`).join(', ')}${blocks.length > 3 ? ` and ${blocks.length - 3} more` : ''} (building block: feeds other rules, raises no alert; not counted)`);
  const notCounted = dormant.filter((r) => !(r.rule.buildingBlock && r.rule.enabled));
  if (notCounted.length > 0) {
    const shown = notCounted.slice(0, 5).map((r) => `"${r.rule.title}" (${!r.rule.enabled ? 'disabled' : r.rule.failing ? 'failing' : r.rule.maturity})`);
    why.push(`not counted: ${shown.join(', ')}${notCounted.length > 5 ? ` and ${notCounted.length - 5} more` : ''}`);
  }
  if (usable.length === 0 && imported.length === 0 && !latest) why.push(`no enabled rule${platform ? ` running on ${platform}` : ''}, imported score or emulation result: detection 0 (a real gap)`);
  return { ...(platform ? { platform } : {}), parts, score: parts.dataSource + parts.ruleQuality + parts.validation + parts.enrichment, split, usable, dormant, why };
}

/** Prevention on one platform (undefined: every control). */
interface PreventionView {
  platform?: string;
  score?: number;
  controls: string[];
  weak: Array<{ name: string; mode: string }>;
  why: string[];
}

function preventionOn(index: EvidenceIndex, id: string, platform: string | undefined): PreventionView {
  const emulations = index.validationFor(id);
  if (!index.hasControls && emulations.length === 0) return { controls: [], weak: [], why: [] };
  const controls = index.controlsFor(id).filter(({ control }) => !platform || runsOn(control.platforms, platform));
  let score = 0;
  let reason = index.hasControls ? `no control covers ${id}${platform ? ` on ${platform}` : ''}` : 'no control inventory';
  const ranked = controls.map(({ control, via }) => ({ control, via, points: controlPoints(control.mode, !!control.validated) }));
  if (ranked.length > 1) ranked.sort((a, b) => b.points - a.points || (a.control.id < b.control.id ? -1 : 1));
  if (ranked[0]) {
    const { control, via, points } = ranked[0];
    score = points;
    const state = control.mode === 'block' ? (control.validated ? `blocks, validated ${control.validated}` : 'blocks (not validated)') : control.mode === 'audit' ? 'audit only' : 'disabled';
    reason = `control "${control.name}" ${state}${via === id ? '' : ` (via ${via})`}`;
  }
  const latest = emulations[0];
  if (latest?.outcome === 'prevented' && EMULATION_PREVENTED > score) {
    score = EMULATION_PREVENTED;
    reason = `latest emulation on ${latest.date} was prevented`;
  } else if (latest && latest.outcome !== 'prevented') {
    reason += `; latest emulation on ${latest.date} was not prevented (${latest.outcome})`;
  }
  const weak = ranked.filter((r) => r.control.mode !== 'block').map((r) => ({ name: r.control.name, mode: r.control.mode }));
  return { ...(platform ? { platform } : {}), score, controls: ranked.map((r) => r.control.id), weak, why: [`prevention ${score}: ${reason}`] };
}

/** The entry describing the technique: its own, else that of the id it is known under in the catalogue's version. */
function describingEntry(index: EvidenceIndex, id: string): { entry?: CatalogueTechnique; placedAs?: string } {
  const own = index.catalogueEntry(id);
  if (own) return { entry: own };
  const placed = index.crosswalk.placed(id);
  return placed ? { entry: index.catalogueEntry(placed.id), placedAs: placed.id } : {};
}

/** Can the engine judge this technique at all? Unknown to the catalogue AND no evidence → not tested. */
function judgeable(index: EvidenceIndex, id: string, rollup: boolean, placed: boolean): boolean {
  if (!index.evidence.catalogue || index.catalogueEntry(id) || placed) return true;
  return (
    ruleSplit(index, id, rollup, undefined).credited.length > 0 ||
    index.importedFor(id).length > 0 ||
    index.validationFor(id).length > 0 ||
    index.controlsFor(id).length > 0
  );
}

/** The lowest score's view (the first of equals), or undefined when none is measured. */
function weakest<T extends { score?: number }>(views: T[]): T | undefined {
  let low: T | undefined;
  for (const v of views) if (typeof v.score === 'number' && (!low || v.score < (low.score as number))) low = v;
  return low;
}

export function assessTechnique(index: EvidenceIndex, ref: TechniqueRef, options: ScoringOptions): TechniqueOutcome {
  const { rollup } = options;
  const id = ref.techniqueId;
  const warnings: string[] = [];
  const base: TechniqueAssessment = { techniqueId: id, tested: false, why: [], rules: [], controls: [], source: SOURCE };
  if (ref.stixId) base.stixId = ref.stixId;
  const { entry, placedAs } = describingEntry(index, id);
  const own = index.catalogueEntry(id);
  const name = ref.name ?? own?.name ?? ATTACK_V19_NAMES[id] ?? entry?.name;
  if (name) base.name = name;
  const attack = `ATT&CK ${index.evidence.catalogue?.version ?? ''}`.trim();
  if (own?.revoked) warnings.push(`${id} is revoked in ${attack}${own.revokedBy ? `; replaced by ${own.revokedBy}` : ''}`);
  else if (own?.deprecated) warnings.push(`${id} is deprecated in ${attack}`);
  else if (!own && placedAs && index.evidence.catalogue) warnings.push(`${id} is not in ${attack}: judged as ${placedAs}, the same technique there (rules tagged with either id count)`);

  if (!judgeable(index, id, rollup, placedAs !== undefined)) {
    base.why.push(`not tested: ${id} is unknown to the ATT&CK catalogue (${index.evidence.catalogue?.version}) and no rule, control, import or emulation mentions it`);
    warnings.push(`${id} is unknown to the ATT&CK catalogue and has no evidence: not tested`);
    return { assessment: base, warnings };
  }

  // Which of the coverage's platforms the technique runs on (ATT&CK x_mitre_platforms bounds what is assessable).
  const techniquePlatforms = normalisePlatforms(entry?.platforms?.length ? entry.platforms : ref.platforms);
  const applicable = techniquePlatforms.length > 0 ? options.platforms.filter((p) => techniquePlatforms.includes(p)) : options.platforms;
  if (options.platforms.length > 0 && applicable.length === 0) {
    base.notApplicable = true;
    base.why.push(`not applicable: ${id} runs on ${techniquePlatforms.join(', ')} (ATT&CK), none of this coverage's platforms (${options.platforms.join(', ')}); no score`);
    return { assessment: base, warnings };
  }
  const platforms: Array<string | undefined> = applicable.length > 0 ? applicable : [undefined];

  const detections = index.hasDetectionEvidence ? platforms.map((p) => detectionOn(index, id, rollup, p)) : [];
  const preventions = platforms.map((p) => preventionOn(index, id, p));
  const detection = weakest(detections);
  const prevention = weakest(preventions);
  if (!detection && !prevention) {
    base.why.push('not tested: no rule, imported score, emulation result or control inventory was loaded');
    return { assessment: base, warnings };
  }
  base.tested = true;

  const several = platforms.length > 1;
  const on = (view: { platform?: string }, lines: string[]): string[] => (several && view.platform ? lines.map((l) => `${view.platform}: ${l}`) : lines);
  const why: string[] = [];
  if (detection) {
    const p = detection.parts;
    base.detection = detection.score;
    base.detectionParts = p;
    base.rules = detections.length === 1 ? [...usableIds(detections[0].split)] : distinct(detections.flatMap((d) => d.usable.map((r) => r.rule.id)));
    why.push(`detection ${detection.score} = data source ${p.dataSource} + rule quality ${p.ruleQuality} + validation ${p.validation} + enrichment ${p.enrichment}`);
  }
  if (several) {
    const cell = (platform: string | undefined): string => {
      const d = detections.find((v) => v.platform === platform);
      const pr = preventions.find((v) => v.platform === platform);
      return `${platform} ${[d ? `detection ${d.score}` : '', typeof pr?.score === 'number' ? `prevention ${pr.score}` : ''].filter(Boolean).join(', ')}`;
    };
    why.push(`per platform: ${platforms.map(cell).join('; ')}: the weakest platform bounds each score`);
    base.platforms = platforms.map((platform): PlatformScore => {
      const d = detections.find((v) => v.platform === platform);
      const pr = preventions.find((v) => v.platform === platform);
      return { platform: platform as string, ...(d ? { detection: d.score } : {}), ...(typeof pr?.score === 'number' ? { prevention: pr.score } : {}), rules: d?.usable.length ?? 0 };
    });
  } else if (options.platforms.length > 0 && techniquePlatforms.length > 0 && options.platforms.length > applicable.length) {
    why.push(`platforms: assessed on ${applicable.join(', ')}; ${options.platforms.filter((p) => !applicable.includes(p)).join(', ')} not applicable (ATT&CK lists ${techniquePlatforms.join(', ')})`);
  }
  if (detection) why.push(...on(detection, detection.why));
  if (prevention) {
    base.prevention = prevention.score;
    // One view: its list is this call's own and has each control once (controlsFor).
    base.controls = preventions.length === 1 ? preventions[0].controls : distinct(preventions.flatMap((v) => v.controls));
    why.push(...on(prevention, prevention.why));
  }
  base.why = why;

  const usable = detection?.usable ?? [];
  const dormant = detection?.dormant ?? [];
  const split = detection?.split;
  const sources = sourcesOf(index, ref, entry, !split ? NO_FEEDS : split.usable.length > 0 ? usableFeeds(split, index) : dormantFeeds(split, index));
  base.dataSources = sources.needed;
  // The record a later run compares against to name what changed (score history, assess --baseline).
  const latest = latestValidation(index, id, rollup);
  base.evidence = techniqueEvidence({
    rules: detections.length === 1 ? splitRecords(detections[0].split, index) : ruleRecords(distinct(detections.flatMap((d) => d.split.credited)), index.evidence.hasDataSourceInventory),
    hasDataSourceInventory: index.evidence.hasDataSourceInventory,
    sources,
    controls: index.controlsFor(id),
    ...(latest ? { latest } : {}),
    imported: importedScores(index, id, rollup),
  });

  const inventory = index.evidence.hasDataSourceInventory;
  const fedOrUnknown = (r: IndexedRule): boolean => !inventory || !r.feed.declared || r.feed.fed;
  const disabled = dormant.find((r) => !r.rule.enabled && !r.rule.buildingBlock && fedOrUnknown(r));
  const retired = dormant.find((r) => r.rule.enabled && r.rule.maturity === 'deprecated' && fedOrUnknown(r));
  const starved = usable.find((r) => !r.fires);
  const tactics = entry?.tactics?.length ? entry.tactics : ref.tactics ?? [];
  const candidate: GapCandidate = {
    techniqueId: id,
    tactics,
    dormantRules: dormant.filter((r) => !r.rule.buildingBlock && fedOrUnknown(r)).length,
    weakControls: prevention?.weak.length ?? 0,
    neededSources: sources.needed,
    missingSources: sources.missing,
    usableRules: usable.length,
    validated: latest !== undefined,
    mitigations: entry?.mitigations ?? [],
  };
  if (disabled) candidate.disabledRule = disabled.rule.title;
  if (retired) candidate.deprecatedRule = retired.rule.title;
  if (starved) candidate.starvedRule = { title: starved.rule.title, source: starved.feed.missing[0] ?? (starved.feed.primary as string) };
  if (prevention?.weak[0]) candidate.weakControl = prevention.weak[0];
  if (several && detection) candidate.detectionPlatforms = detections.filter((d) => d.score === detection.score).map((d) => d.platform as string);
  if (several && prevention) candidate.preventionPlatforms = preventions.filter((v) => v.score === prevention.score).map((v) => v.platform as string);
  if (sources.share !== undefined) candidate.collectedShare = sources.share;
  if (name) candidate.name = name;
  if (base.detection !== undefined) candidate.detection = base.detection;
  if (base.prevention !== undefined) candidate.prevention = base.prevention;
  return { assessment: base, candidate, warnings };
}
