import { techniqueIdOf } from '../../domain/coverage/attack-ids';
import type { StixObject } from '../../domain/stix/stix-types';
import type { AttackCatalogue, CatalogueTechnique } from '../../domain/evidence/evidence-types';
import { ConfigError } from '../../errors';
import { isRecord } from './parse-text';

/**
 * ATT&CK Enterprise STIX bundle → compact catalogue (pure; the file side is attack-catalogue-file.ts).
 * Handles both detection models: ATT&CK 18 (detection strategy --detects--> technique, strategy →
 * analytics → log source references → data components) and ATT&CK 10-17 (data component --detects-->
 * technique, plus `x_mitre_data_sources` strings on the technique).
 */

type Obj = StixObject & Record<string, unknown>;

const MITIGATION_ID = /^M\d{4}$/;

const externalIdOf = (o: Obj): string | undefined => {
  const refs = Array.isArray(o.external_references) ? (o.external_references as Array<Record<string, unknown>>) : [];
  const ref = refs.find((r) => r?.source_name === 'mitre-attack' && typeof r.external_id === 'string');
  return ref?.external_id as string | undefined;
};

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
const isRetired = (o: Obj): boolean => o.revoked === true || o.x_mitre_deprecated === true;
const sorted = (set: Set<string> | undefined): string[] => [...(set ?? [])].sort();

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

export interface ImportOptions {
  /** ATT&CK version to record ("18.1"); defaults to the bundle's x-mitre-collection version. */
  version?: string;
}

export function importAttackCatalogue(bundle: unknown, options: ImportOptions = {}): AttackCatalogue {
  if (!isRecord(bundle) || bundle.type !== 'bundle' || !Array.isArray(bundle.objects)) {
    throw new ConfigError('ATT&CK import: the input is not a STIX bundle (expected {"type": "bundle", "objects": [...]})');
  }
  const objects = (bundle.objects as unknown[]).filter((o): o is Obj => isRecord(o) && typeof o.id === 'string' && typeof o.type === 'string');
  const byId = new Map(objects.map((o) => [o.id, o]));

  const techniqueIdByStixId = new Map<string, string>();
  for (const o of objects) {
    if (o.type !== 'attack-pattern') continue;
    const id = techniqueIdOf(o)?.id;
    if (id) techniqueIdByStixId.set(o.id, id);
  }
  if (techniqueIdByStixId.size === 0) throw new ConfigError('ATT&CK import: the bundle holds no attack-pattern with an ATT&CK id');

  const mitigations: AttackCatalogue['mitigations'] = {};
  const mitigationIdByStixId = new Map<string, string>();
  for (const o of objects) {
    const id = o.type === 'course-of-action' ? externalIdOf(o) : undefined;
    if (!id || !MITIGATION_ID.test(id) || isRetired(o)) continue;
    mitigationIdByStixId.set(o.id, id);
    mitigations[id] = { id, name: String(o.name ?? id) };
  }

  /** "Data source: Data component" when the component names its source (≤ 17), else the component name. */
  const componentLabel = (componentId: unknown): string | undefined => {
    const component = typeof componentId === 'string' ? byId.get(componentId) : undefined;
    if (!component || component.type !== 'x-mitre-data-component' || typeof component.name !== 'string') return undefined;
    const source = typeof component.x_mitre_data_source_ref === 'string' ? byId.get(component.x_mitre_data_source_ref) : undefined;
    return typeof source?.name === 'string' ? `${source.name}: ${component.name}` : component.name;
  };
  const strategyComponents = (strategy: Obj): string[] =>
    strings(strategy.x_mitre_analytic_refs).flatMap((analyticId) => {
      const analytic = byId.get(analyticId);
      const refs = Array.isArray(analytic?.x_mitre_log_source_references) ? (analytic.x_mitre_log_source_references as unknown[]) : [];
      return refs.map((r) => (isRecord(r) ? componentLabel(r.x_mitre_data_component_ref) : undefined)).filter((l): l is string => l !== undefined);
    });

  const parents = new Map<string, string>();
  const revokedBy = new Map<string, string>();
  const mitigationsOf = new Map<string, Set<string>>();
  const componentsOf = new Map<string, Set<string>>();
  for (const rel of objects) {
    if (rel.type !== 'relationship' || isRetired(rel)) continue;
    const source = String(rel.source_ref ?? '');
    const target = techniqueIdByStixId.get(String(rel.target_ref ?? ''));
    if (!target) continue;
    switch (rel.relationship_type) {
      case 'subtechnique-of': {
        const child = techniqueIdByStixId.get(source);
        if (child) parents.set(child, target);
        break;
      }
      case 'revoked-by': {
        const old = techniqueIdByStixId.get(source);
        if (old) revokedBy.set(old, target);
        break;
      }
      case 'mitigates': {
        const mitigation = mitigationIdByStixId.get(source);
        if (mitigation) addTo(mitigationsOf, target, mitigation);
        break;
      }
      case 'detects': {
        const detector = byId.get(source);
        if (!detector || isRetired(detector)) break;
        const labels = detector.type === 'x-mitre-detection-strategy' ? strategyComponents(detector) : [componentLabel(source)].filter((l): l is string => l !== undefined);
        for (const label of labels) addTo(componentsOf, target, label);
        break;
      }
      default:
        break;
    }
  }

  const techniques: Record<string, CatalogueTechnique> = {};
  for (const [stixId, id] of techniqueIdByStixId) {
    const o = byId.get(stixId) as Obj;
    for (const legacy of strings(o.x_mitre_data_sources)) addTo(componentsOf, id, legacy);
    const phases = Array.isArray(o.kill_chain_phases) ? (o.kill_chain_phases as Array<Record<string, unknown>>) : [];
    const existing = techniques[id];
    // Two objects can share an id (a revoked one and its live successor's old copy): the live one wins.
    if (existing && !existing.revoked && !existing.deprecated) continue;
    techniques[id] = {
      id,
      name: String(o.name ?? id),
      ...(parents.has(id) ? { parent: parents.get(id) } : id.includes('.') ? { parent: id.split('.')[0] } : {}),
      tactics: [...new Set(phases.filter((p) => p?.kill_chain_name === 'mitre-attack' && typeof p.phase_name === 'string').map((p) => p.phase_name as string))],
      platforms: strings(o.x_mitre_platforms),
      dataComponents: sorted(componentsOf.get(id)),
      mitigations: sorted(mitigationsOf.get(id)),
      deprecated: o.x_mitre_deprecated === true,
      revoked: o.revoked === true,
      ...(revokedBy.has(id) ? { revokedBy: revokedBy.get(id) } : {}),
    };
  }

  const collection = objects.find((o) => o.type === 'x-mitre-collection');
  const version = options.version ?? (typeof collection?.x_mitre_version === 'string' ? collection.x_mitre_version : 'unknown');
  return { version, techniques, mitigations };
}

/** Counts for the import report. */
export function catalogueStats(catalogue: AttackCatalogue): { techniques: number; active: number; subTechniques: number; revoked: number; deprecated: number; mitigations: number } {
  const all = Object.values(catalogue.techniques);
  return {
    techniques: all.length,
    active: all.filter((t) => !t.revoked && !t.deprecated).length,
    subTechniques: all.filter((t) => t.id.includes('.')).length,
    revoked: all.filter((t) => t.revoked).length,
    deprecated: all.filter((t) => t.deprecated).length,
    mitigations: Object.keys(catalogue.mitigations).length,
  };
}
