import { OPERATOR_WORK_ADD, PLATFORM_CAPABILITIES, PLATFORM_VERSION, SEVEN_X_DOCUMENTS } from './documents';
import type { GraphQLClient, RequestOptions } from './graphql-client';

/**
 * Which OpenCTI we talk to, and what it can do (protocol §11, pitfall P11). One domain model; the
 * differences between 6.8/6.9 and 7.x are decided here, once, at startup, from `about { version }`
 * plus `__type` introspection (what OpenAEV 2.2.1 does), and handed to the job and the work API as a
 * frozen `PlatformProfile`. docs/compatibility.md and the README table are checked against
 * `PLATFORM_LINES` by test/unit/platform-version.test.ts.
 */

export interface PlatformVersion {
  raw: string;
  major: number;
  minor: number;
  patch?: number;
  /** Date-based 7.x versions: 7.26 → "2026", 7.260615 → "2026-06-15". */
  releaseDate?: string;
}

export type PlatformLine = '6.8' | '6.9' | '7.x';

export interface PlatformCapabilities {
  /** Scores live on a separate `Security-Coverage-Result` per source (keyed by `external_uri`). */
  resultEntity: boolean;
  /** `has-covered` starts from the Result; the platform rewrites our coverage-sourced ones (needs `external_uri`). */
  hasCoveredFromResult: boolean;
  /** A connector's own write-back fires an `update` enrichment again (P1): the loop guard is needed. */
  retriggersOnWrite: boolean;
  /** Incoming `has-covered` ids are kept (6.x) or dropped during the source rewrite (7.x). */
  keepsHasCoveredIds: boolean;
  /** `workAdd(isMultiPartWork:)` exists (6.9.17 rejects the argument). */
  workAddMultipart: boolean;
  /** `reportExpectation(expectations:)` exists (6.9.17 rejects the argument). */
  reportExpectationList: boolean;
  /** `Connector.jwks` (callback JWT) exists. */
  connectorJwks: boolean;
  /** `has-covered` may also target Artifact and Indicator. */
  artifactIndicatorTargets: boolean;
}

export interface PlatformLineSpec {
  line: PlatformLine;
  /** How the versions of this line are written (docs). */
  versions: string;
  capabilities: Readonly<PlatformCapabilities>;
}

const SIX: PlatformCapabilities = {
  resultEntity: false,
  hasCoveredFromResult: false,
  retriggersOnWrite: true,
  keepsHasCoveredIds: true,
  workAddMultipart: false,
  reportExpectationList: false,
  connectorJwks: false,
  artifactIndicatorTargets: false,
};

const SEVEN: PlatformCapabilities = {
  resultEntity: true,
  hasCoveredFromResult: true,
  retriggersOnWrite: false,
  keepsHasCoveredIds: false,
  workAddMultipart: true,
  reportExpectationList: true,
  connectorJwks: true,
  artifactIndicatorTargets: true,
};

/** The version → capabilities map. The README compatibility table is tested against it. */
export const PLATFORM_LINES: ReadonlyArray<PlatformLineSpec> = Object.freeze([
  { line: '6.8', versions: '6.8.x', capabilities: Object.freeze({ ...SIX }) },
  { line: '6.9', versions: '6.9.x', capabilities: Object.freeze({ ...SIX }) },
  { line: '7.x', versions: '7.YY, 7.YYMMDD (7.26, 7.260615)', capabilities: Object.freeze({ ...SEVEN }) },
]);

/** The oldest platform with the Security Coverage entity (OpenCTI PR #12841). */
export const OLDEST_SUPPORTED = '6.8';

const specOf = (line: PlatformLine): PlatformLineSpec => PLATFORM_LINES.find((l) => l.line === line) as PlatformLineSpec;

/** `6.9.17`, `v6.8.3`, `7.26`, `7.260615`, `7.260615.1-rc1` → parts; anything else → undefined. */
export function parsePlatformVersion(raw: string): PlatformVersion | undefined {
  const m = /^\s*v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+][0-9A-Za-z.-]*)?\s*$/.exec(raw);
  if (!m) return undefined;
  const version: PlatformVersion = { raw: raw.trim(), major: Number(m[1]), minor: Number(m[2]) };
  if (m[3] !== undefined) version.patch = Number(m[3]);
  // 7.x numbers its releases by date: YY or YYMMDD after the major.
  if (version.major >= 7) {
    const d = m[2];
    if (d.length === 2) version.releaseDate = `20${d}`;
    else if (d.length === 6) version.releaseDate = `20${d.slice(0, 2)}-${d.slice(2, 4)}-${d.slice(4, 6)}`;
  }
  return version;
}

/** The line a version belongs to; `unsupported` before 6.8 (no Security Coverage entity). */
export function lineOf(version: PlatformVersion): PlatformLine | 'unsupported' {
  if (version.major >= 7) return '7.x';
  if (version.major === 6 && version.minor >= 9) return '6.9';
  if (version.major === 6 && version.minor === 8) return '6.8';
  return 'unsupported';
}

/** What the P11 introspection query answers (`null` types = unknown to this platform). */
export interface CapabilitiesAnswer {
  work: { fields: Array<{ name: string; args: Array<{ name: string }> }> | null } | null;
  result: { name: string } | null;
  connector: { fields: Array<{ name: string }> | null } | null;
}

/** Only what the schema shows for certain; everything else comes from the version. */
export function capabilitiesFromSchema(answer: CapabilitiesAnswer): Partial<PlatformCapabilities> {
  const out: Partial<PlatformCapabilities> = {};
  out.resultEntity = answer.result !== null;
  out.hasCoveredFromResult = out.resultEntity;
  if (answer.work?.fields) {
    const report = answer.work.fields.find((f) => f.name === 'reportExpectation');
    out.reportExpectationList = !!report?.args.some((a) => a.name === 'expectations');
    // Same release as reportExpectation(expectations:) (§11 "Work API" row); workAdd is on Mutation,
    // whose introspection is thousands of fields: not worth it.
    out.workAddMultipart = out.reportExpectationList;
  }
  if (answer.connector?.fields) out.connectorJwks = answer.connector.fields.some((f) => f.name === 'jwks');
  return out;
}

export interface PlatformProfile {
  /** The version string as the platform reported it ("unknown" when `about` failed). */
  version: string;
  parsed?: PlatformVersion;
  line: PlatformLine;
  capabilities: Readonly<PlatformCapabilities>;
  /** Where the version and the schema disagree, or a guess was made (logged at startup). */
  notes: readonly string[];
}

/**
 * Combines the version and the introspected schema. The schema wins for what it can show (a build
 * that back-ported the Result entity, a proxy that rewrites `about`); the version decides the rest.
 * Unknown or unparsable versions: 7.x if the schema has the Result entity, else 6.9 (the baseline).
 */
export function detectPlatform(rawVersion: string | undefined, schema?: CapabilitiesAnswer, probeNotes: string[] = []): PlatformProfile {
  const notes: string[] = [...probeNotes];
  const parsed = rawVersion ? parsePlatformVersion(rawVersion) : undefined;
  const fromSchema = schema ? capabilitiesFromSchema(schema) : {};
  let line: PlatformLine;
  if (!parsed) {
    line = fromSchema.resultEntity ? '7.x' : '6.9';
    notes.push(`version ${JSON.stringify(rawVersion ?? null)} not understood; assuming ${line} from the schema`);
  } else {
    const l = lineOf(parsed);
    if (l === 'unsupported') {
      line = '6.8';
      notes.push(`OpenCTI ${parsed.raw} predates the Security Coverage entity (needs ${OLDEST_SUPPORTED}); nothing will be enriched`);
    } else {
      line = l;
    }
    if (parsed.major > 7) notes.push(`OpenCTI ${parsed.raw} is newer than the last tested line (7.x); using 7.x behaviour`);
  }
  const capabilities: PlatformCapabilities = { ...specOf(line).capabilities };
  for (const [key, value] of Object.entries(fromSchema) as Array<[keyof PlatformCapabilities, boolean]>) {
    if (capabilities[key] !== value) notes.push(`schema says ${key}=${String(value)} although ${line} says ${String(capabilities[key])}; trusting the schema`);
    capabilities[key] = value;
  }
  // The Result entity and the "no re-trigger for connector writes" fix shipped together in 7.x.
  if (capabilities.resultEntity && line !== '7.x') {
    capabilities.retriggersOnWrite = false;
    capabilities.keepsHasCoveredIds = false;
  }
  return Object.freeze({ version: rawVersion ?? 'unknown', ...(parsed ? { parsed } : {}), line, capabilities: Object.freeze(capabilities), notes: Object.freeze(notes) });
}

/** The profile assumed when the platform cannot be asked (tests, offline tools): 6.9, the baseline. */
export const BASELINE_PROFILE: PlatformProfile = Object.freeze({
  version: '6.9',
  line: '6.9' as const,
  capabilities: specOf('6.9').capabilities,
  notes: Object.freeze([]),
});

/**
 * `external_uri` on 7.x is the key of OUR Security-Coverage-Result: stable per (coverage, assessor
 * instance), never per run, or every run would create a new Result. `instanceUri` defaults to a URN
 * of the connector id (shared by the replicas of one instance, distinct between instances).
 */
export function resultExternalUri(instanceUri: string, coverageId: string): string {
  const uuid = coverageId.includes('--') ? coverageId.slice(coverageId.indexOf('--') + 2) : coverageId;
  return `${instanceUri.replace(/\/+$/, '')}/coverages/${uuid}`;
}

export const defaultInstanceUri = (connectorId: string): string => `urn:opencti-connector:${connectorId}`;

/**
 * The `external_uri` written on a result bundle. 6.x: unchanged behaviour (the backend's run link, or
 * the configured one). 7.x: always the stable per-instance key, so a second source never overwrites
 * ours and our own re-runs upsert the same Result.
 */
export function externalUriFor(
  profile: PlatformProfile,
  args: { instanceUri: string; coverageId: string; backendUri?: string; configuredUri?: string },
): string | undefined {
  if (profile.capabilities.resultEntity) return resultExternalUri(args.instanceUri, args.coverageId);
  return args.backendUri ?? args.configuredUri;
}

export interface PlatformProbe {
  /** `about { version }` + the P11 introspection; never throws (falls back to the baseline, with a note). */
  probe(options?: RequestOptions): Promise<PlatformProfile>;
}

interface VersionAnswer {
  about: { version: string } | null;
}

export function createPlatformProbe({ gql }: { gql: GraphQLClient }): PlatformProbe {
  return {
    async probe(options) {
      const [version, schema] = await Promise.allSettled([
        gql.request<VersionAnswer>(PLATFORM_VERSION, {}, options),
        gql.request<CapabilitiesAnswer>(PLATFORM_CAPABILITIES, {}, options),
      ]);
      const failure = (r: PromiseRejectedResult): string => (r.reason instanceof Error ? r.reason.message : String(r.reason));
      const notes: string[] = [];
      if (version.status === 'rejected') notes.push(`about { version } failed: ${failure(version)}`);
      if (schema.status === 'rejected') notes.push(`schema introspection failed: ${failure(schema)}`);
      const raw = version.status === 'fulfilled' ? (version.value.about?.version ?? undefined) : undefined;
      return detectPlatform(raw, schema.status === 'fulfilled' ? schema.value : undefined, notes);
    },
  };
}

export interface VersionedWorkAdd {
  /** A new work; on 7.x flagged multi-part when the results will arrive as several bundles. */
  add(connectorId: string, friendlyName: string, options?: { multipart?: boolean }): Promise<string>;
}

/** `workAdd` in the shape the platform accepts: 6.9.17 rejects `isMultiPartWork`, so it is sent only on 7.x. */
export function createVersionedWorkAdd({ gql, profile }: { gql: GraphQLClient; profile: PlatformProfile }): VersionedWorkAdd {
  return {
    async add(connectorId, friendlyName, options = {}) {
      const multipart = options.multipart === true && profile.capabilities.workAddMultipart;
      const data = multipart
        ? await gql.request<{ workAdd: { id: string } }>(SEVEN_X_DOCUMENTS.WorkAddMultipart, { connectorId, friendlyName, isMultiPartWork: true })
        : await gql.request<{ workAdd: { id: string } }>(OPERATOR_WORK_ADD, { connectorId, friendlyName });
      return data.workAdd.id;
    },
  };
}
