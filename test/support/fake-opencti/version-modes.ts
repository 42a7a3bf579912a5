import { v4 as uuidv4, v5 as uuidv5 } from 'uuid';
import { FAKE_OPENCTI_SDL } from './schema';
import { parseScores, type FakeCoverage, type FakeState, type Score } from './state';

/**
 * Version modes of the fake OpenCTI (protocol §11, P11). The default 6.9 mode is the fake as it
 * always was, plus `about { version }`. The 7.x mode serves the 7.x schema additions (so 6.9.17
 * rejects what 7.x accepts and vice versa, by plain GraphQL validation) and imports like 7.x:
 * pushed coverage scores go to one Security-Coverage-Result per `external_uri`, `has-covered` is
 * rewritten to start from the matching Result (its incoming id dropped), and `addExpectations` on a
 * finished work answers WORK_NOT_ALIVE. Optionally, 6.9 re-triggers an update enrichment on every
 * write that changes a coverage (pitfall P1); 7.x never does for connector writes.
 */

export type FakePlatformMode = '6.9' | '7.x';

export interface FakeVersionOptions {
  mode?: FakePlatformMode;
  /** What `about { version }` answers (default: 6.9.17 / 7.260615). */
  version?: string;
  /** 6.9 only: a write that changes a coverage publishes an update enrichment to every auto_update connector (P1). */
  retriggerOnWrite?: boolean;
}

export const DEFAULT_VERSIONS: Readonly<Record<FakePlatformMode, string>> = { '6.9': '6.9.17', '7.x': '7.260615' };

export const NO_RESULT_ERROR = 'Cannot find SecurityCoverageResult for this has-covered relationship';

/** `about { version }`: in the real 6.9.17 schema too (`Query.about: AppInfo`, `AppInfo.version: String!`). */
const ABOUT_SDL = /* GraphQL */ `
extend type Query {
  about: AppInfo
}

type AppInfo {
  version: String!
}
`;

/** The 7.x additions the connector may meet (subset of `securityCoverageResult.graphql` and the work/connector changes). */
const SEVEN_X_SDL = /* GraphQL */ `
type SecurityCoverageResult {
  id: ID!
  standard_id: String!
  entity_type: String!
  name: String!
  external_uri: String
  coverage_last_result: DateTime
  coverage_valid_from: DateTime
  coverage_valid_to: DateTime
  coverage_information: [CoverageResult!]
  resultOf: SecurityCoverage
}
`;

const SEVEN_X_REWRITES: ReadonlyArray<[string, string]> = [
  ['reportExpectation(error: WorkErrorInput): ID!', 'reportExpectation(error: WorkErrorInput, expectations: Int): ID!'],
  ['workAdd(connectorId: String!, friendlyName: String): Work!', 'workAdd(connectorId: String!, friendlyName: String, isMultiPartWork: Boolean): Work!'],
  ['connector_user_id: ID\n', 'connector_user_id: ID\n  jwks: String\n'],
];

/** The SDL the fake serves in `mode`; throws if the base schema no longer has what 7.x changes. */
export function fakeSdlFor(mode: FakePlatformMode, base: string = FAKE_OPENCTI_SDL): string {
  if (mode === '6.9') return base + ABOUT_SDL;
  let sdl = base;
  for (const [from, to] of SEVEN_X_REWRITES) {
    if (!sdl.includes(from)) throw new Error(`fake 7.x mode: base schema has no "${from.trim()}"`);
    sdl = sdl.replace(from, to);
  }
  return sdl + ABOUT_SDL + SEVEN_X_SDL;
}

export interface FakeResult {
  internalId: string;
  standardId: string;
  name: string;
  /** The per-source key ('' when the pushed coverage had none). */
  externalUri: string;
  /** Standard id of the coverage it is a result of. */
  resultOf: string;
  coverage: Score[];
  lastResult?: string;
  validFrom?: string;
  validTo?: string;
}

const results = new WeakMap<FakeState, FakeResult[]>();

/** The Security-Coverage-Results of a 7.x fake (empty in 6.9 mode). */
export function fakeResults(state: FakeState, coverageId?: string): FakeResult[] {
  const all = results.get(state) ?? [];
  return coverageId ? all.filter((r) => r.resultOf === coverageId) : all;
}

const RESULT_NAMESPACE = '00abedb4-aa42-466c-9c01-fed23315a9b7';

/** `splitSecurityCoverageInput`: the scores, dates and external_uri of a pushed coverage go to its Result for that source. */
function importCoverage7(state: FakeState, o: Record<string, unknown>, fallback: (o: Record<string, unknown>) => string | undefined): string | undefined {
  if (typeof o.name !== 'string' || typeof o.covered_ref !== 'string') return fallback(o);
  const target = [...state.coverages.values()].find((c) => c.coveredRef === o.covered_ref);
  if (!target) return `MissingReferenceError: ${String(o.covered_ref)}`;
  const scores = parseScores(o.coverage);
  if (typeof scores === 'string') return scores;
  const key = [o.tenant_name, o.external_uri, o.tenant_id].find((v): v is string => typeof v === 'string' && v.length > 0) ?? '';
  const all = results.get(state) ?? [];
  results.set(state, all);
  let result = all.find((r) => r.resultOf === target.standardId && r.externalUri === key);
  if (!result) {
    const name = `${key} Result of ${target.name}`;
    result = {
      internalId: uuidv4(),
      standardId: `security-coverage-result--${uuidv5(JSON.stringify({ name, external_uri: key, resultOf: target.standardId }), RESULT_NAMESPACE)}`,
      name,
      externalUri: key,
      resultOf: target.standardId,
      coverage: [],
    };
    all.push(result);
  }
  result.coverage = scores; // forced full replace, per Result
  for (const [k, f] of [['last_result', 'lastResult'], ['valid_from', 'validFrom'], ['valid_to', 'validTo']] as const) {
    if (typeof o[k] === 'string') result[f] = o[k] as string;
  }
  return undefined;
}

/** The has-covered source rewrite: to the Result with the relationship's external_uri, or the only Result. */
function importHasCovered7(state: FakeState, o: Record<string, unknown>): string | undefined {
  const from = String(o.source_ref);
  const to = String(o.target_ref);
  const coverage: FakeCoverage | undefined = state.coverage(from);
  const candidates = coverage ? fakeResults(state, coverage.standardId) : fakeResults(state).filter((r) => r.standardId === from);
  if (!coverage && candidates.length === 0) return `MissingReferenceError: ${from}`;
  if (!state.findAny(to)) return `MissingReferenceError: ${to}`;
  const uri = typeof o.external_uri === 'string' ? o.external_uri : undefined;
  const matching = uri !== undefined ? candidates.filter((r) => r.externalUri === uri) : candidates;
  if (matching.length !== 1) return NO_RESULT_ERROR;
  const source = matching[0];
  const scores = parseScores(o.coverage);
  if (typeof scores === 'string') return scores;
  // The incoming stix id is dropped: only (type, from, to) identifies the relationship now.
  const existing = state.relationships.find((r) => r.type === 'has-covered' && r.from === source.standardId && r.to === to);
  if (existing) existing.coverage = scores;
  else state.relationships.push({ internalId: uuidv4(), standardId: `relationship--${uuidv4()}`, type: 'has-covered', from: source.standardId, to, coverage: scores });
  return undefined;
}

/** What the fake needs to apply a version mode (the FakeOpenCti instance). */
export interface VersionedFake {
  state: FakeState;
  publishEnrichment(connectorId: string, coverage: FakeCoverage, options: { mode?: 'auto' | 'manual'; trigger?: 'create' | 'update' }): Promise<string>;
}

/** Re-triggers published by the 6.9 rule, awaited by tests through `state.changed()`. */
export interface RetriggerRecord {
  connectorId: string;
  coverageId: string;
  workId?: string;
  error?: string;
}

const retriggers = new WeakMap<FakeState, RetriggerRecord[]>();
export const fakeRetriggers = (state: FakeState): RetriggerRecord[] => retriggers.get(state) ?? [];

const scoresKey = (s: Score[] | undefined): string =>
  JSON.stringify([...(s ?? [])].map((x) => `${x.coverage_name}=${x.coverage_score}`).sort());

/** Replaces the state's import with the mode's; call once, right after the fake is built. */
export function installVersionMode(fake: VersionedFake, options: FakeVersionOptions = {}): void {
  const mode = options.mode ?? '6.9';
  const { state } = fake;
  const base = state.importObject.bind(state);
  if (mode === '7.x') {
    state.importObject = (o) => {
      if (o.type === 'security-coverage') return importCoverage7(state, o, base);
      if (o.type === 'relationship' && o.relationship_type === 'has-covered') return importHasCovered7(state, o);
      return base(o);
    };
    return;
  }
  if (!options.retriggerOnWrite) return;
  const log: RetriggerRecord[] = [];
  retriggers.set(state, log);
  state.importObject = (o) => {
    const target = o.type === 'security-coverage' ? [...state.coverages.values()].find((c) => c.coveredRef === o.covered_ref) : undefined;
    const before = target ? scoresKey(target.coverage) : undefined;
    const error = base(o);
    if (!target || error || scoresKey(target.coverage) === before) return error;
    // A real change: the platform fires an update enrichment to every auto_update connector in scope, the writer included.
    for (const c of state.connectors.values()) {
      if (!c.autoUpdate || !c.scope.some((s) => s.toLowerCase() === 'security-coverage')) continue;
      const record: RetriggerRecord = { connectorId: c.id, coverageId: target.standardId };
      log.push(record);
      fake
        .publishEnrichment(c.id, target, { mode: 'auto', trigger: 'update' })
        .then((workId) => {
          record.workId = workId;
        })
        .catch((err: unknown) => {
          record.error = err instanceof Error ? err.message : String(err);
        })
        .finally(() => state.changed());
    }
    return error;
  };
}

type Args = Record<string, unknown>;

/** Root resolvers the mode adds or changes: `about`, and 7.x's WORK_NOT_ALIVE on addExpectations. */
export function versionResolvers(state: FakeState, base: Record<string, unknown>, options: FakeVersionOptions = {}): Record<string, unknown> {
  const mode = options.mode ?? '6.9';
  const version = options.version ?? DEFAULT_VERSIONS[mode];
  const out: Record<string, unknown> = { about: () => ({ version }) };
  if (mode === '7.x') {
    const workEdit = base.workEdit as (args: Args) => Record<string, (a: Args) => unknown>;
    out.workEdit = (args: Args) => {
      const edit = workEdit(args);
      return {
        ...edit,
        addExpectations: (a: Args) => {
          const w = state.works.get(String(args.id));
          if (w && w.status === 'complete') throw Object.assign(new Error('Work is not alive'), { code: 'WORK_NOT_ALIVE' });
          return edit.addExpectations(a);
        },
      };
    };
  }
  return out;
}
