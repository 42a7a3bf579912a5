import { OPENCTI_MITRE_EXTENSION_ID, type StixObject } from '../stix/stix-types';

/** ATT&CK technique ids: T1059 or T1059.001 (upper case once normalised). */
export const TECHNIQUE_ID = /^T\d{4}(\.\d{3})?$/;
/** A name that starts with a technique id, as vendor bundles write it ("T1036.005: Match Legitimate Name"). */
const LEADING_ID = /^\s*(T\d{4}(?:\.\d{3})?)\b[\s:.\-–—]*/i;

/** Upper-cased, trimmed technique id, or undefined when the value is not one. */
export function normaliseTechniqueId(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const id = value.trim().toUpperCase();
  return TECHNIQUE_ID.test(id) ? id : undefined;
}

/** T1059.001 → T1059; a technique is its own parent. */
export function parentOf(techniqueId: string): string {
  const dot = techniqueId.indexOf('.');
  return dot === -1 ? techniqueId : techniqueId.slice(0, dot);
}

export const isSubTechnique = (techniqueId: string): boolean => techniqueId.includes('.');

export type IdSource = 'external_references' | 'x_mitre_id' | 'opencti_mitre_extension' | 'name';

/**
 * The ATT&CK id of an attack pattern, in this order: `external_references[source_name=mitre-*]`,
 * `x_mitre_id`, OpenCTI's MITRE extension `id` (what the platform emits), then — last resort — a
 * leading id in the name (real vendor bundles do that).
 */
export function techniqueIdOf(pattern: StixObject): { id: string; from: IdSource } | undefined {
  const refs = Array.isArray(pattern.external_references) ? (pattern.external_references as Array<Record<string, unknown>>) : [];
  for (const ref of refs) {
    const source = typeof ref?.source_name === 'string' ? ref.source_name.toLowerCase() : '';
    const id = source.startsWith('mitre-') ? normaliseTechniqueId(ref.external_id) : undefined;
    if (id) return { id, from: 'external_references' };
  }
  const xMitre = normaliseTechniqueId(pattern.x_mitre_id);
  if (xMitre) return { id: xMitre, from: 'x_mitre_id' };
  const extensions = pattern.extensions as Record<string, Record<string, unknown> | undefined> | undefined;
  const fromExtension = normaliseTechniqueId(extensions?.[OPENCTI_MITRE_EXTENSION_ID]?.id);
  if (fromExtension) return { id: fromExtension, from: 'opencti_mitre_extension' };
  const match = typeof pattern.name === 'string' ? LEADING_ID.exec(pattern.name) : null;
  const fromName = match ? normaliseTechniqueId(match[1]) : undefined;
  return fromName ? { id: fromName, from: 'name' } : undefined;
}

/** The pattern name without a leading copy of its own id ("T1489: Service Stop" → "Service Stop"). */
export function displayName(name: unknown, techniqueId: string): string | undefined {
  if (typeof name !== 'string' || name.trim() === '') return undefined;
  const match = LEADING_ID.exec(name);
  if (match && match[1].toUpperCase() === techniqueId) {
    const rest = name.slice(match[0].length).trim();
    return rest === '' ? name.trim() : rest;
  }
  return name.trim();
}
