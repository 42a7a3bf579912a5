import { createHash } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import { setBounded } from '../bounded-map';

/**
 * Deterministic STIX ids, computed exactly as OpenCTI and the reference product compute them
 * (opencti-connector-protocol.md §1.4 and §2.1), so a re-run upserts instead of duplicating.
 */

/** OpenCTI's `OASIS_NAMESPACE` (G/src/schema/general.js): namespace of every SDO standard id. */
export const OPENCTI_NAMESPACE = '00abedb4-aa42-466c-9c01-fed23315a9b7';

/** JSON with keys sorted at every level and no whitespace (OpenCTI hashes this form). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  // The default sort compares UTF-16 code units, as OpenCTI's key order does.
  const keys = Object.keys(value).sort();
  let out = '';
  for (const k of keys) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined) continue;
    out += `${out ? ',' : ''}${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return `{${out}}`;
}

/** `<type>--uuidv5(canonical JSON of the contributing keys)`: OpenCTI's standard-id recipe. */
export function standardId(type: string, keys: Record<string, unknown>): string {
  return `${type}--${uuidv5(canonicalJson(keys), OPENCTI_NAMESPACE)}`;
}

/**
 * The id OpenCTI gives the Security Coverage of a covered entity. Use it only for offline input
 * (no coverage object in the bundle): the daemon echoes the platform's id (protocol P6).
 */
export function securityCoverageId(coveredStandardId: string): string {
  return standardId('security-coverage', { objectCovered: coveredStandardId });
}

/** Java `UUID.nameUUIDFromBytes`: MD5 of the bytes, version 3, IETF variant. */
export function javaNameUuid(name: string): string {
  const bytes = createHash('md5').update(name, 'utf8').digest();
  bytes[6] = (bytes[6] & 0x0f) | 0x30;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Ids already computed: every run of a coverage computes the same ones twice (the result bundle, then
 * the write plan over what the platform holds), and again at the next run. Bounded (~5 MB).
 */
const hasCoveredIds = new Map<string, string>();
const MAX_REMEMBERED_IDS = 20_000;

/** `has-covered` id, stable per (source, target) like the reference product's: one relationship forever (P2). */
export function hasCoveredRelationshipId(sourceRef: string, targetRef: string): string {
  const name = sourceRef + targetRef;
  return hasCoveredIds.get(name) ?? setBounded(hasCoveredIds, name, `relationship--${javaNameUuid(name)}`, MAX_REMEMBERED_IDS);
}

/** OpenCTI standard id of a SecurityPlatform identity; the name is trimmed and lower-cased as the platform does. */
export function securityPlatformIdentityId(name: string): string {
  return standardId('identity', { identity_class: 'securityplatform', name: name.trim().toLowerCase() });
}

/** A bundle id derived from its content: the same objects always give the same id. */
export function deterministicBundleId(objects: unknown[]): string {
  const digest = createHash('sha256').update(canonicalJson(objects)).digest('hex');
  return `bundle--${uuidv5(digest, OPENCTI_NAMESPACE)}`;
}
