import type { DetectionParts, TechniqueAssessment } from '../assessment/assessment-types';
import { isSubTechnique } from '../coverage/attack-ids';
import type { TechniqueRef } from '../coverage/coverage-types';
import type { ImportedTechniqueScore, ValidationResult } from '../evidence/evidence-types';
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
import { techniqueEvidence } from './technique-evidence';

/** One technique through the rubric of docs/scoring.md. Pure; every number is explained in `why`. */

export interface TechniqueOutcome {
  assessment: TechniqueAssessment;
  /** Present when the technique was judged (input to the gap list). */
  candidate?: GapCandidate;
  warnings: string[];
}

const SOURCE = 'embedded';
const quote = (rule: IndexedRule): string => `"${rule.rule.title}" (${rule.rule.format}, ${rule.rule.maturity}${severityOf(rule.rule) ? `, ${severityOf(rule.rule)}` : ''})`;
const importLabel = (s: ImportedTechniqueScore): string => `${s.source === 'dettect' ? 'DeTT&CT' : 'Navigator'} ${s.origin}`;

function creditedRules(index: EvidenceIndex, id: string, rollup: boolean): IndexedRule[] {
  const exact = index.rulesFor(id);
  const fromSubs = rollup && !isSubTechnique(id) ? index.subRulesFor(id) : [];
  if (fromSubs.length === 0) return exact;
  const seen = new Set(exact.map((r) => r.rule));
  return [...exact, ...fromSubs.filter((r) => !seen.has(r.rule))];
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

/**
 * Data sources the technique's detections rely on: the rules' own (one per rule, its most specific
 * matched key), else the ATT&CK data components, else the pattern's `x_mitre_data_sources`; with
 * those not collected and the collected share (undefined when the inventory cannot tell).
 */
function sourcesOf(index: EvidenceIndex, ref: TechniqueRef, rules: IndexedRule[]): { needed: string[]; missing: string[]; share?: number } {
  const sorted = (list: string[]): string[] => [...new Set(list)].sort();
  const declared = rules.filter((r) => r.feed.declared);
  const inventory = index.evidence.hasDataSourceInventory;
  if (declared.length > 0) {
    const fed = declared.filter((r) => r.feed.fed).length;
    return {
      needed: sorted(declared.map((r) => r.feed.primary as string)),
      missing: sorted(declared.filter((r) => !r.feed.fed).flatMap((r) => (inventory ? r.feed.missing : [r.feed.primary as string]))),
      ...(inventory ? { share: fed / declared.length } : {}),
    };
  }
  const components = sorted((index.catalogueEntry(ref.techniqueId)?.dataComponents ?? ref.dataSources ?? []).map((c) => c.trim()).filter(Boolean));
  if (!inventory || components.length === 0) return { needed: components, missing: components };
  const missing = components.filter((c) => index.componentStatus(c)?.collected !== true);
  return { needed: components, missing, share: (components.length - missing.length) / components.length };
}

function detectionOf(index: EvidenceIndex, ref: TechniqueRef, rollup: boolean, why: string[]): { parts: DetectionParts; usable: IndexedRule[]; dormant: IndexedRule[] } {
  const id = ref.techniqueId;
  const credited = creditedRules(index, id, rollup);
  const usable = credited.filter((r) => r.usable);
  const dormant = credited.filter((r) => !r.usable);
  const imported = [...index.importedFor(id), ...(rollup && !isSubTechnique(id) ? index.subImportedFor(id) : [])];
  const parts: DetectionParts = { dataSource: 0, ruleQuality: 0, validation: 0, enrichment: 0 };

  // Rule quality: the strongest enabled rule plus a depth bonus; an imported estimate is a floor.
  const best = strongest(usable);
  if (best) {
    const bonus = depthBonus(usable.length);
    parts.ruleQuality = Math.min(PART_MAX, best.strength + bonus);
    const viaSub = best.rule.techniques.some((t) => t.toUpperCase() === id) ? '' : ' (sub-technique rule, rolled up)';
    why.push(`rule quality ${parts.ruleQuality}/25: ${quote(best)}${viaSub} is the strongest of ${usable.length} enabled rule(s)${bonus ? `, +${bonus} for depth` : ''}`);
  }
  const importedDetection = imported.filter((s) => typeof s.detection === 'number').sort((a, b) => (b.detection as number) - (a.detection as number))[0];
  if (importedDetection && proxyPart(importedDetection.detection as number) > parts.ruleQuality) {
    parts.ruleQuality = proxyPart(importedDetection.detection as number);
    why.push(`rule quality ${parts.ruleQuality}/25 from the imported detection estimate ${importedDetection.detection}/100 (${importLabel(importedDetection)})`);
  }

  // Data source: share of the enabled rules fed by a collected source.
  if (usable.length > 0) {
    const declared = usable.filter((r) => r.feed.declared);
    if (!index.evidence.hasDataSourceInventory) {
      parts.dataSource = PART_MAX;
      why.push('data source 25/25: no data-source inventory configured, so the enabled rules\' sources are assumed collected');
    } else if (declared.length === 0) {
      parts.dataSource = PART_MAX;
      why.push('data source 25/25: the enabled rules declare no data source, assumed collected');
    } else {
      const fed = declared.filter((r) => r.feed.fed);
      parts.dataSource = Math.round((PART_MAX * fed.length) / declared.length);
      const notCollected = [...new Set(declared.filter((r) => !r.feed.fed && r.feed.known).flatMap((r) => r.feed.missing))];
      const unknown = [...new Set(declared.filter((r) => !r.feed.known).map((r) => r.feed.primary as string))];
      const details = [
        fed.length > 0 ? `collected: ${[...new Set(fed.map((r) => r.feed.primary))].join(', ')}` : '',
        notCollected.length > 0 ? `not collected: ${notCollected.join(', ')}` : '',
        unknown.length > 0 ? `not in the inventory: ${unknown.join(', ')}` : '',
      ].filter(Boolean);
      why.push(`data source ${parts.dataSource}/25: ${fed.length} of ${declared.length} enabled rule(s) fed by a collected source (${details.join('; ')})`);
    }
  }
  const importedVisibility = imported.filter((s) => typeof s.visibility === 'number').sort((a, b) => (b.visibility as number) - (a.visibility as number))[0];
  if (importedVisibility && proxyPart(importedVisibility.visibility as number) > parts.dataSource) {
    parts.dataSource = proxyPart(importedVisibility.visibility as number);
    why.push(`data source ${parts.dataSource}/25 from the imported visibility ${importedVisibility.visibility}/100 (${importLabel(importedVisibility)})`);
  }

  const latest = latestValidation(index, id, rollup);
  if (latest) {
    parts.validation = VALIDATION_POINTS[latest.outcome] ?? 0;
    const which = latest.techniqueId.toUpperCase() === id ? '' : ` of ${latest.techniqueId.toUpperCase()} (rolled up)`;
    why.push(`validation ${parts.validation}/25: latest emulation${which}${latest.test ? ` "${latest.test}"` : ''} on ${latest.date}: ${latest.outcome}`);
  } else if (usable.length > 0 || imported.length > 0) {
    why.push('validation 0/25: never validated by an emulation');
  }

  const enriched = usable.find((r) => r.rule.hasEnrichment);
  if (enriched) {
    parts.enrichment = ENRICHMENT_POINTS;
    why.push(`enrichment 25/25: "${enriched.rule.title}" carries triage/risk context`);
  } else if (usable.length > 0) {
    why.push('enrichment 0/25: no enabled rule carries triage/risk context (risk score, investigation guide, false-positive notes)');
  }

  // A failing rule gets its own line: "enabled" alone would suggest it detects.
  for (const r of dormant.filter((d) => d.rule.enabled && d.rule.failing).slice(0, 5)) {
    const f = r.rule.failing as { since?: string; message?: string };
    why.push(`rule "${r.rule.title}" is enabled but failing${f.since ? ` since ${f.since}` : ''}${f.message ? ` (${f.message})` : ''}: not counted`);
  }
  if (dormant.length > 0) {
    const shown = dormant.slice(0, 5).map((r) => `"${r.rule.title}" (${!r.rule.enabled ? 'disabled' : r.rule.failing ? 'failing' : r.rule.maturity})`);
    why.push(`not counted: ${shown.join(', ')}${dormant.length > 5 ? ` and ${dormant.length - 5} more` : ''}`);
  }
  if (usable.length === 0 && imported.length === 0 && !latest) why.push('no enabled rule, imported score or emulation result: detection 0 (a real gap)');
  return { parts, usable, dormant };
}

function preventionOf(index: EvidenceIndex, id: string, why: string[]): { score?: number; controls: string[]; weak: number } {
  const emulations = index.validationFor(id);
  if (!index.hasControls && emulations.length === 0) return { controls: [], weak: 0 };
  const controls = index.controlsFor(id);
  let score = 0;
  let reason = index.hasControls ? `no control covers ${id}` : 'no control inventory';
  const ranked = controls
    .map(({ control, via }) => ({ control, via, points: controlPoints(control.mode, !!control.validated) }))
    .sort((a, b) => b.points - a.points || (a.control.id < b.control.id ? -1 : 1));
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
  why.push(`prevention ${score}: ${reason}`);
  return { score, controls: ranked.map((r) => r.control.id), weak: ranked.filter((r) => r.control.mode !== 'block').length };
}

/** Can the engine judge this technique at all? Unknown to the catalogue AND no evidence → not tested. */
function judgeable(index: EvidenceIndex, id: string, rollup: boolean): boolean {
  if (!index.evidence.catalogue || index.catalogueEntry(id)) return true;
  return (
    creditedRules(index, id, rollup).length > 0 ||
    index.importedFor(id).length > 0 ||
    index.validationFor(id).length > 0 ||
    index.controlsFor(id).length > 0
  );
}

export function assessTechnique(index: EvidenceIndex, ref: TechniqueRef, rollup: boolean): TechniqueOutcome {
  const id = ref.techniqueId;
  const warnings: string[] = [];
  const base: TechniqueAssessment = { techniqueId: id, tested: false, why: [], rules: [], controls: [], source: SOURCE };
  if (ref.stixId) base.stixId = ref.stixId;
  const entry = index.catalogueEntry(id);
  const name = ref.name ?? entry?.name;
  if (name) base.name = name;
  const attack = `ATT&CK ${index.evidence.catalogue?.version ?? ''}`.trim();
  if (entry?.revoked) warnings.push(`${id} is revoked in ${attack}${entry.revokedBy ? `; replaced by ${entry.revokedBy}` : ''}`);
  else if (entry?.deprecated) warnings.push(`${id} is deprecated in ${attack}`);

  if (!judgeable(index, id, rollup)) {
    base.why.push(`not tested: ${id} is unknown to the ATT&CK catalogue (${index.evidence.catalogue?.version}) and no rule, control, import or emulation mentions it`);
    warnings.push(`${id} is unknown to the ATT&CK catalogue and has no evidence: not tested`);
    return { assessment: base, warnings };
  }

  const why: string[] = [];
  let usable: IndexedRule[] = [];
  let dormant: IndexedRule[] = [];
  if (index.hasDetectionEvidence) {
    const detection = detectionOf(index, ref, rollup, why);
    usable = detection.usable;
    dormant = detection.dormant;
    const p = detection.parts;
    base.detection = p.dataSource + p.ruleQuality + p.validation + p.enrichment;
    base.detectionParts = p;
    base.rules = usable.map((r) => r.rule.id);
  }
  const prevention = preventionOf(index, id, why);
  if (prevention.score !== undefined) {
    base.prevention = prevention.score;
    base.controls = prevention.controls;
  }
  base.tested = base.detection !== undefined || base.prevention !== undefined;
  if (!base.tested) {
    base.why.push('not tested: no rule, imported score, emulation result or control inventory was loaded');
    return { assessment: base, warnings };
  }
  if (base.detection !== undefined) why.unshift(`detection ${base.detection} = data source ${base.detectionParts!.dataSource} + rule quality ${base.detectionParts!.ruleQuality} + validation ${base.detectionParts!.validation} + enrichment ${base.detectionParts!.enrichment}`);
  base.why = why;

  const sources = sourcesOf(index, ref, usable.length > 0 ? usable : dormant);
  base.dataSources = sources.needed;
  // The record a later run compares against to name what changed (score history, assess --baseline).
  const latest = latestValidation(index, id, rollup);
  base.evidence = techniqueEvidence({
    rules: index.hasDetectionEvidence ? creditedRules(index, id, rollup) : [],
    hasDataSourceInventory: index.evidence.hasDataSourceInventory,
    sources,
    controls: index.controlsFor(id),
    ...(latest ? { latest } : {}),
    imported: [...index.importedFor(id), ...(rollup && !isSubTechnique(id) ? index.subImportedFor(id) : [])],
  });
  const tactics = entry?.tactics?.length ? entry.tactics : ref.tactics ?? [];
  const candidate: GapCandidate = {
    techniqueId: id,
    tactics,
    dormantRules: dormant.filter((r) => !index.evidence.hasDataSourceInventory || !r.feed.declared || r.feed.fed).length,
    weakControls: prevention.weak,
    neededSources: sources.needed,
    missingSources: sources.missing,
  };
  if (sources.share !== undefined) candidate.collectedShare = sources.share;
  if (name) candidate.name = name;
  if (base.detection !== undefined) candidate.detection = base.detection;
  if (base.prevention !== undefined) candidate.prevention = base.prevention;
  return { assessment: base, candidate, warnings };
}

