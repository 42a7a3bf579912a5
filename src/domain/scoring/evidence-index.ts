import type { EvidenceRule } from '../assessment/assessment-types';
import { isSubTechnique, normaliseTechniqueId, parentOf } from '../coverage/attack-ids';
import { buildAttackCrosswalk, type AttackCrosswalk } from '../coverage/attack-versions';
import type {
  CatalogueTechnique,
  DataSourceEntry,
  DetectionRule,
  EvidenceSet,
  ImportedTechniqueScore,
  PreventionControl,
  ValidationResult,
} from '../evidence/evidence-types';
import { byDateDesc, isUsable, ruleStrength } from './scoring-rubric';

/**
 * Technique-keyed lookups over the evidence, built ONCE per assessor: the daemon reuses one
 * assessor for thousands of messages, so per-message work is proportional to the evidence of the
 * techniques asked about, never to the size of the inventory.
 */

export interface IndexedRule {
  rule: DetectionRule;
  usable: boolean;
  strength: number;
  /** Whether the inventory says the rule's data reaches the SIEM (computed once). */
  feed: RuleFeed;
  /**
   * Usable and not known to be starved: every data source the inventory lists for it is marked not
   * collected → it cannot fire, so it adds no rule quality or enrichment (docs/scoring.md §2).
   */
  fires: boolean;
  /** Rank of the rule's id among all the rules' ids (equal ids, equal ranks): sorting by it sorts by id. */
  order: number;
  /** The rule's evidence record (technique-evidence.ts), made on first use and shared: read-only. */
  record?: EvidenceRule;
}

/**
 * A rule's data-source keys are alternative names of what feeds it (Sigma: "windows/process_creation",
 * "windows", "process_creation"; Elastic: index, integration, tag). The rule is fed when one of the
 * keys the inventory knows is collected; exact entries win over parent keys, and a matched key that
 * is a "/"-prefix of another matched key is ignored (the more specific entry decides).
 */
export interface RuleFeed {
  /** The rule declares at least one data source. */
  declared: boolean;
  /** The inventory knows at least one of its keys. */
  known: boolean;
  fed: boolean;
  /** The key that names the rule's source: a matched collected key, else a matched one, else its first key. */
  primary?: string;
  /** Matched keys the inventory marks as not collected (or the first key when nothing matched). */
  missing: string[];
}

/** Whether a data source is collected: `known` is false when the inventory does not list it. */
export interface SourceStatus {
  key: string;
  collected: boolean;
  known: boolean;
}

export interface EvidenceIndex {
  evidence: EvidenceSet;
  /** Rules tagged with the technique itself, or with the same technique's id in another ATT&CK version. */
  rulesFor(techniqueId: string): IndexedRule[];
  /** Rules tagged with any sub-technique of a parent technique. */
  subRulesFor(parentId: string): IndexedRule[];
  importedFor(techniqueId: string): ImportedTechniqueScore[];
  subImportedFor(parentId: string): ImportedTechniqueScore[];
  /** Latest first. */
  validationFor(techniqueId: string): ValidationResult[];
  subValidationFor(parentId: string): ValidationResult[];
  /** Controls mapped to the technique directly, to its parent, or through an ATT&CK mitigation (read-only). */
  controlsFor(techniqueId: string): Array<{ control: PreventionControl; via: string }>;
  catalogueEntry(techniqueId: string): CatalogueTechnique | undefined;
  /** Is this ATT&CK "Data source: Data component" string collected? undefined when the inventory does not mention it. */
  componentStatus(component: string): SourceStatus | undefined;
  /** Detection can be judged at all (some rule, import or emulation result was loaded). */
  readonly hasDetectionEvidence: boolean;
  /** Prevention can be judged for every technique (a control inventory was loaded). */
  readonly hasControls: boolean;
  /** Index-time notes (e.g. mitigation mappings ignored without a catalogue, ids of other ATT&CK versions). */
  readonly notes: string[];
  /** Ids across ATT&CK versions (catalogue revocations + the v18↔v19 table). */
  readonly crosswalk: AttackCrosswalk;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function techniqueKeys(ids: string[]): string[] {
  return [...new Set(ids.map((id) => normaliseTechniqueId(id)).filter((id): id is string => !!id))];
}

export function buildEvidenceIndex(evidence: EvidenceSet): EvidenceIndex {
  // Inventory keys and aliases, lower-case. A key also covers the keys below it ("windows" covers
  // "windows/process_creation") when nothing more specific matches.
  const inventory = new Map<string, DataSourceEntry>();
  for (const entry of evidence.dataSources) {
    for (const key of [entry.id, ...(entry.aliases ?? [])]) {
      const k = key.trim().toLowerCase();
      if (k && !inventory.has(k)) inventory.set(k, entry);
    }
  }
  function parentEntry(key: string): DataSourceEntry | undefined {
    const parts = key.split('/');
    for (let i = parts.length - 1; i > 0; i--) {
      const entry = inventory.get(parts.slice(0, i).join('/'));
      if (entry) return entry;
    }
    return undefined;
  }
  function componentStatus(component: string): SourceStatus | undefined {
    const full = component.trim().toLowerCase();
    const part = full.includes(':') ? full.slice(full.indexOf(':') + 1).trim() : full;
    const entry = inventory.get(full) ?? inventory.get(part);
    return entry ? { key: full, collected: entry.collected, known: true } : undefined;
  }

  function feedOf(rule: DetectionRule): RuleFeed {
    const keys = [...new Set(rule.dataSources.map((d) => d.trim().toLowerCase()).filter(Boolean))];
    if (keys.length === 0) return { declared: false, known: false, fed: false, missing: [] };
    let matched = keys.map((key) => ({ key, entry: inventory.get(key) })).filter((m) => m.entry);
    if (matched.length === 0) matched = keys.map((key) => ({ key, entry: parentEntry(key) })).filter((m) => m.entry);
    matched = matched.filter((m) => !matched.some((o) => o.key !== m.key && o.key.startsWith(`${m.key}/`)));
    if (matched.length === 0) return { declared: true, known: false, fed: false, primary: keys[0], missing: [keys[0]] };
    const collected = matched.filter((m) => m.entry?.collected === true);
    const missing = matched.filter((m) => m.entry?.collected !== true).map((m) => m.key);
    return { declared: true, known: true, fed: collected.length > 0, primary: (collected[0] ?? matched[0]).key, missing: collected.length > 0 ? [] : missing };
  }

  const crosswalk = buildAttackCrosswalk(evidence.catalogue);
  const liveEquivalents = (id: string): string[] => crosswalk.equivalents(id).filter((e) => crosswalk.known(e.id)).map((e) => e.id);
  /** The ids and their equivalents in other ATT&CK versions: evidence for either counts for both. */
  const withEquivalents = (ids: string[]): Set<string> => {
    const out = new Set<string>();
    for (const id of ids) {
      out.add(id);
      for (const other of crosswalk.equivalents(id)) out.add(other.id);
    }
    return out;
  };
  const rules = new Map<string, IndexedRule[]>();
  const subRules = new Map<string, IndexedRule[]>();
  // Tags of other ATT&CK versions, for one note each: id → rules carrying it.
  const translated = new Map<string, number>();
  const unknownTags = new Map<string, number>();
  const sortedIds = [...new Set(evidence.rules.map((r) => r.id))].sort();
  const rank = new Map(sortedIds.map((id, i) => [id, i]));
  for (const rule of evidence.rules) {
    const usable = isUsable(rule);
    const feed = feedOf(rule);
    const fires = usable && (!evidence.hasDataSourceInventory || !feed.known || feed.fed);
    const indexed: IndexedRule = { rule, usable, strength: ruleStrength(rule), feed, fires, order: rank.get(rule.id) as number };
    const ids = techniqueKeys(rule.techniques);
    for (const id of ids) {
      if (!evidence.catalogue || crosswalk.known(id)) continue;
      const bucket = liveEquivalents(id).length > 0 ? translated : unknownTags;
      bucket.set(id, (bucket.get(id) ?? 0) + 1);
    }
    const parentsSeen = new Set<string>();
    for (const id of withEquivalents(ids)) {
      push(rules, id, indexed);
      if (isSubTechnique(id) && !parentsSeen.has(parentOf(id))) {
        parentsSeen.add(parentOf(id));
        push(subRules, parentOf(id), indexed);
      }
    }
  }

  const imported = new Map<string, ImportedTechniqueScore[]>();
  const subImported = new Map<string, ImportedTechniqueScore[]>();
  for (const score of evidence.imported) {
    const id = normaliseTechniqueId(score.techniqueId);
    if (!id) continue;
    for (const key of withEquivalents([id])) {
      push(imported, key, score);
      if (isSubTechnique(key)) push(subImported, parentOf(key), score);
    }
  }

  const validation = new Map<string, ValidationResult[]>();
  const subValidation = new Map<string, ValidationResult[]>();
  for (const result of evidence.validation) {
    const id = normaliseTechniqueId(result.techniqueId);
    if (!id) continue;
    for (const key of withEquivalents([id])) {
      push(validation, key, result);
      if (isSubTechnique(key)) push(subValidation, parentOf(key), result);
    }
  }
  for (const list of [...validation.values(), ...subValidation.values()]) list.sort(byDateDesc);

  const notes: string[] = [];
  const catalogue = evidence.catalogue;
  const attack = `ATT&CK ${catalogue?.version ?? ''}`.trim();
  if (translated.size > 0) {
    const listed = [...translated].sort().map(([id, n]) => `${id} → ${liveEquivalents(id).join(', ')} (${n} rule${n === 1 ? '' : 's'})`);
    notes.push(`rules tagged with ids ${attack} does not use are credited under the id it does: ${listed.join(', ')}`);
  }
  if (unknownTags.size > 0) {
    const listed = [...unknownTags].sort().map(([id, n]) => {
      const placed = crosswalk.placed(id);
      return `${id} (${n} rule${n === 1 ? '' : 's'}${placed ? `; a variant of what ${attack} calls ${placed.id}` : ''})`;
    });
    notes.push(`rules tagged with ids unknown to ${attack} and to the v18↔v19 table count only for those exact ids: ${listed.join(', ')}`);
  }
  const directControls = new Map<string, PreventionControl[]>();
  const mitigationControls = new Map<string, PreventionControl[]>();
  for (const control of evidence.controls) {
    for (const id of withEquivalents(techniqueKeys(control.techniques))) push(directControls, id, control);
    for (const m of control.mitigations) push(mitigationControls, m.trim().toUpperCase(), control);
    if (!catalogue && control.mitigations.length > 0) {
      notes.push(`control ${control.id} lists mitigations (${control.mitigations.join(', ')}) but no ATT&CK catalogue is loaded: only its techniques count`);
    }
  }

  // Asked for every technique of every message: each answer is kept (those with a control: the index
  // bounds them). Read-only.
  const controlsOf = new Map<string, Array<{ control: PreventionControl; via: string }>>();
  function controlsFor(techniqueId: string): Array<{ control: PreventionControl; via: string }> {
    const known = controlsOf.get(techniqueId);
    if (known) return known;
    const out = controlsMatching(techniqueId);
    if (out.length > 0) controlsOf.set(techniqueId, out);
    return out;
  }
  function controlsMatching(techniqueId: string): Array<{ control: PreventionControl; via: string }> {
    const out: Array<{ control: PreventionControl; via: string }> = [];
    const seen = new Set<string>();
    const add = (control: PreventionControl, via: string): void => {
      if (!seen.has(control.id)) {
        seen.add(control.id);
        out.push({ control, via });
      }
    };
    for (const c of directControls.get(techniqueId) ?? []) add(c, techniqueId);
    // A control on the whole technique also covers each of its variants (not the other way round).
    if (isSubTechnique(techniqueId)) for (const c of directControls.get(parentOf(techniqueId)) ?? []) add(c, parentOf(techniqueId));
    for (const m of catalogue?.techniques[techniqueId]?.mitigations ?? []) {
      for (const c of mitigationControls.get(m.toUpperCase()) ?? []) add(c, `mitigation ${m}`);
    }
    return out;
  }

  const none: never[] = [];
  return {
    evidence,
    rulesFor: (id) => rules.get(id) ?? none,
    subRulesFor: (id) => subRules.get(id) ?? none,
    importedFor: (id) => imported.get(id) ?? none,
    subImportedFor: (id) => subImported.get(id) ?? none,
    validationFor: (id) => validation.get(id) ?? none,
    subValidationFor: (id) => subValidation.get(id) ?? none,
    controlsFor,
    catalogueEntry: (id) => catalogue?.techniques[id],
    componentStatus,
    hasDetectionEvidence: evidence.rules.length > 0 || evidence.imported.length > 0 || evidence.validation.length > 0,
    hasControls: evidence.controls.length > 0,
    notes,
    crosswalk,
  };
}
