import type { EvidenceRule, TechniqueEvidence } from '../assessment/assessment-types';
import type { ImportedTechniqueScore, PreventionControl, ValidationResult } from '../evidence/evidence-types';
import type { IndexedRule } from './evidence-index';

/**
 * The evidence record of one technique (TechniqueAssessment.evidence): what a later run compares
 * against to name the cause of a score change. Sorted, so the same evidence gives the same record.
 */

export interface EvidenceInputs {
  /** The credited rules' records (ruleRecords); copied, never changed. */
  rules: readonly EvidenceRule[];
  hasDataSourceInventory: boolean;
  /** Data sources the technique relies on and those of them not collected (technique-scoring's sourcesOf). */
  sources: { needed: string[]; missing: string[] };
  controls: Array<{ control: PreventionControl; via: string }>;
  latest?: ValidationResult;
  imported: ImportedTechniqueScore[];
}

const byId = <T extends { id: string }>(a: T, b: T): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * A rule's record depends only on the rule and the inventory, both fixed for the life of an index:
 * built once and shared by every technique and run that credits the rule (the daemon assesses
 * thousands of coverages with one index). Records are read-only.
 */
function ruleRecord(r: IndexedRule, inventory: boolean): EvidenceRule {
  if (r.record) return r.record;
  const out: EvidenceRule = {
    id: r.rule.id,
    title: r.rule.title,
    state: r.usable ? 'counted' : !r.rule.enabled ? 'disabled' : r.rule.failing ? 'failing' : r.rule.buildingBlock && r.rule.maturity !== 'deprecated' ? 'building-block' : 'deprecated',
    maturity: r.rule.maturity,
  };
  if (r.feed.primary) out.source = r.feed.primary;
  if (inventory && r.feed.declared && r.feed.known) out.fed = r.feed.fed;
  r.record = out;
  return out;
}

/** Each value once, sorted; a list that already is comes back as it is (the usual case). */
function sortedDistinct(values: readonly string[]): readonly string[] {
  for (let i = 1; i < values.length; i += 1) if (!(values[i - 1] < values[i])) return [...new Set(values)].sort();
  return values;
}

/** One record per rule id (the first rule carrying it), sorted by id. */
export function ruleRecords(credited: readonly IndexedRule[], inventory: boolean): EvidenceRule[] {
  const seen = new Set<number>();
  const unique: IndexedRule[] = [];
  for (const r of credited) {
    if (seen.has(r.order)) continue;
    seen.add(r.order);
    unique.push(r);
  }
  return unique.sort((a, b) => a.order - b.order).map((r) => ruleRecord(r, inventory));
}

export function techniqueEvidence(input: EvidenceInputs): TechniqueEvidence {
  const missing = new Set(input.sources.missing);
  const evidence: TechniqueEvidence = {
    rules: [...input.rules],
    dataSources: sortedDistinct(input.sources.needed).map((id) => (input.hasDataSourceInventory ? { id, collected: !missing.has(id) } : { id })),
    controls: input.controls
      .map(({ control }) => ({ id: control.id, name: control.name, mode: control.mode, validated: !!control.validated }))
      .filter((c, i, all) => all.findIndex((o) => o.id === c.id) === i),
  };
  if (evidence.controls.length > 1) evidence.controls.sort(byId);
  if (input.latest) {
    evidence.emulation = { outcome: input.latest.outcome, date: input.latest.date, ...(input.latest.test ? { test: input.latest.test } : {}) };
  }
  if (input.imported.length > 0) {
    evidence.imported = input.imported
      .map((s) => ({
        origin: `${s.source === 'dettect' ? 'DeTT&CT' : 'Navigator'} ${s.origin}`,
        ...(typeof s.detection === 'number' ? { detection: s.detection } : {}),
        ...(typeof s.visibility === 'number' ? { visibility: s.visibility } : {}),
      }))
      .sort((a, b) => (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0));
  }
  return evidence;
}
