/**
 * What the connector knows about the OpenCTI it talks to, decided once at startup from what the
 * platform's own schema shows (docs/compatibility.md). Convergence never depends on it: the write
 * plan (src/domain/coverage/write-plan.ts) assumes every write re-triggers an enrichment, as 6.9.17
 * and 7.260817.0 do, and the work API learns who counts expectations from the work itself
 * (src/app/result-pusher.ts). The version string is only logged.
 */

export interface PlatformVersion {
  raw: string;
  major: number;
  minor: number;
  patch?: number;
}

/** What the probe read from the schema (`null` = the type is unknown to this platform). */
export interface SchemaFacts {
  /** `__type(name: "SecurityCoverage") { fields { name } }` */
  coverageFields: string[] | null;
  /** `__type(name: "SecurityCoverageResult") { name }`: the multi-source model (not in 6.9.17 nor 7.260817.0). */
  resultEntity: boolean;
}

export interface PlatformProfile {
  /** The version string as the platform reported it ("unknown" when it could not be read). */
  version: string;
  parsed?: PlatformVersion;
  /** The platform has the Security Coverage entity (6.8 and later). */
  securityCoverage: boolean;
  /** Per-source Security-Coverage-Result entities: results are still written in the released model. */
  resultEntity: boolean;
  /** What was detected and why, logged at startup. */
  notes: readonly string[];
}

/** The oldest platform with the Security Coverage entity (OpenCTI PR #12841). */
export const OLDEST_SUPPORTED = '6.8';

/** `6.9.17`, `v6.8.3`, `7.260817.0`, `7.260817.1-rc1` → parts; anything else → undefined. */
export function parsePlatformVersion(raw: string): PlatformVersion | undefined {
  const m = /^\s*v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+][0-9A-Za-z.-]*)?\s*$/.exec(raw);
  if (!m) return undefined;
  const version: PlatformVersion = { raw: raw.trim(), major: Number(m[1]), minor: Number(m[2]) };
  if (m[3] !== undefined) version.patch = Number(m[3]);
  return version;
}

/**
 * The profile from the version answer and the schema facts. Unknown or unreadable answers give the
 * safe behaviour: the released model, with a note saying what could not be read.
 */
export function platformProfileOf(rawVersion: string | undefined, facts: SchemaFacts | undefined, probeNotes: readonly string[] = []): PlatformProfile {
  const notes = [...probeNotes];
  const parsed = rawVersion ? parsePlatformVersion(rawVersion) : undefined;
  if (rawVersion && !parsed) notes.push(`version ${JSON.stringify(rawVersion)} not understood; it is only logged, behaviour comes from the schema`);
  let securityCoverage = true;
  let resultEntity = false;
  if (!facts) {
    notes.push('schema not readable: assuming the released Security Coverage model (6.9 / 7.260817)');
  } else {
    securityCoverage = facts.coverageFields !== null;
    resultEntity = facts.resultEntity;
    if (!securityCoverage) notes.push(`this platform has no SecurityCoverage type (needs OpenCTI ${OLDEST_SUPPORTED} or later): nothing can be enriched`);
    else {
      const missing = ['coverage_information', 'external_uri', 'periodicity'].filter((f) => !facts.coverageFields?.includes(f));
      if (missing.length > 0) notes.push(`SecurityCoverage lacks ${missing.join(', ')}: results may be partly dropped by this platform`);
    }
    if (resultEntity) {
      notes.push(
        'schema has SecurityCoverageResult (per-source results): results are written in the released model, which such a platform still accepts; per-source results are not read',
      );
    }
  }
  return Object.freeze({ version: rawVersion ?? 'unknown', ...(parsed ? { parsed } : {}), securityCoverage, resultEntity, notes: Object.freeze(notes) });
}

/** The profile assumed when the platform cannot be asked (tests, offline tools): the released model. */
export const BASELINE_PROFILE: PlatformProfile = Object.freeze({
  version: 'unknown',
  securityCoverage: true,
  resultEntity: false,
  notes: Object.freeze([]),
});
