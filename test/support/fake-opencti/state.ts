import { EventEmitter } from 'node:events';
import { v4 as uuidv4, v5 as uuidv5 } from 'uuid';

/**
 * The stand-in platform's store and its worker's import rules. Paths in comments are relative to
 * `opencti-platform/opencti-graphql/` of OpenCTI-Platform/opencti (../shared/reference/platform-behaviour.md).
 */

export interface FakeEntity {
  internalId: string;
  standardId: string;
  entityType: 'Report' | 'Attack-Pattern' | 'Intrusion-Set' | 'Campaign' | 'Grouping' | 'Identity';
  name: string;
  xMitreId?: string;
  /** ATT&CK tactics (kill chain phases of mitre-attack) of an attack pattern. */
  tactics?: string[];
  /** Standard ids of contained objects (containers). */
  objectIds: string[];
  /** A report's publication date. */
  published?: string;
  /** An attack pattern's `x_mitre_platforms` (the platform exports them as stored). */
  platforms?: string[];
}

export interface Score {
  coverage_name: string;
  coverage_score: number;
}

/** Every stored field of a security coverage (src/modules/securityCoverage, 6.9 and 7.2608 alike). */
export interface FakeCoverage {
  internalId: string;
  standardId: string;
  name: string;
  description?: string;
  coveredRef: string;
  coverage?: Score[];
  autoEnrichmentDisable: boolean;
  periodicity?: string;
  duration?: string;
  typeAffinity?: string;
  platformsAffinity?: string[];
  externalUri?: string;
  lastResult?: string;
  validFrom?: string;
  validTo?: string;
  created: string;
  modified: string;
  /** The connector user cannot read it (outside its groups, organisation or markings). */
  hidden?: boolean;
  /** Ids of the labels on it (`objectLabel`). */
  labels?: string[];
}

export interface FakeRelationship {
  internalId: string;
  standardId: string;
  /** `x_opencti_stix_ids`: ids merged in by upserts. */
  stixIds: string[];
  type: string;
  from: string;
  to: string;
  coverage: Score[];
  description?: string;
  /** Who wrote it: a connector id, or e.g. "analyst" / "openaev". */
  writer: string;
  /** STIX created / modified (intelligence relationships: how recent a use is). */
  created?: string;
  modified?: string;
}

export interface FakeNote {
  internalId: string;
  /** Derived from the content by the platform (a Note's id contributing properties: content, created). */
  standardId: string;
  stixIds: string[];
  abstract?: string;
  content: string;
  objectRefs: string[];
  writer: string;
  labels?: string[];
}

export interface FakeLabel {
  id: string;
  value: string;
  color?: string;
}

export interface FakeWork {
  id: string;
  connectorId: string;
  /** Standard id of the enriched entity (platform-created enrichment works). */
  entityId?: string;
  timestamp: string;
  status: 'wait' | 'progress' | 'complete';
  expected: number;
  processed: number;
  messages: string[];
  errors: string[];
  received: boolean;
  processedCalls: Array<{ message: string; inError: boolean }>;
  /** `workAdd(friendlyName)` (operator tooling) or the platform's "<connector> run @ <time>". */
  name?: string;
  draftId?: string | null;
}

export interface FakeConnector {
  id: string;
  name: string;
  scope: string[];
  auto: boolean;
  autoUpdate: boolean;
  enrichmentResolution: string | null;
  playbookCompatible: boolean;
  state: string | null;
  stateReset: boolean;
  registrations: number;
  pings: number;
  /** Last register or ping (operator tooling: `connector(id) { updated_at }`). */
  updatedAt?: string;
}

export interface PushRecord {
  connectorId: string;
  workId: string | null;
  /** Draft the import goes to (null: live data). */
  draftId: string | null;
  via: 'graphql' | 'amqp';
  objects: Array<Record<string, unknown>>;
  /** The work was no longer alive when the worker got to it: dropped silently. */
  dropped: boolean;
}

/** One data space: live data, or one draft (a copy of live data taken when the draft was opened). */
export interface FakeStore {
  coverages: Map<string, FakeCoverage>;
  relationships: FakeRelationship[];
  notes: FakeNote[];
}

/** A pushed object's `coverage` list as the platform stores it, or the error text it rejects it with (non-integer score). */
export function parseScores(list: unknown): Score[] | string {
  if (list === undefined) return [];
  if (!Array.isArray(list)) return 'coverage is not a list';
  const out: Score[] = [];
  for (const s of list as Array<{ name?: unknown; score?: unknown }>) {
    if (typeof s.score !== 'number' || !Number.isInteger(s.score)) return `Int cannot represent non-integer value: ${String(s.score)}`;
    out.push({ coverage_name: String(s.name), coverage_score: s.score });
  }
  return out;
}

export const CONNECTOR_USER_ID = '88ec0c6a-13ce-5e39-b486-354fe4a7084f';

/** STIX property → stored coverage field, as pycti's reader and the platform map them (platform-behaviour.md §5). */
const COVERAGE_FIELDS: ReadonlyArray<[string, keyof FakeCoverage]> = [
  ['external_uri', 'externalUri'],
  ['last_result', 'lastResult'],
  ['valid_from', 'validFrom'],
  ['valid_to', 'validTo'],
  ['periodicity', 'periodicity'],
  ['duration', 'duration'],
  ['description', 'description'],
  ['type_affinity', 'typeAffinity'],
  ['platforms_affinity', 'platformsAffinity'],
  ['auto_enrichment_disable', 'autoEnrichmentDisable'],
  ['name', 'name'],
];

/** The stored fields whose change is an upsert event (`data.event !== null`), i.e. a re-trigger. */
export function storedFieldsKey(c: FakeCoverage): string {
  const scores = [...(c.coverage ?? [])].map((s) => `${s.coverage_name}=${s.coverage_score}`).sort();
  return JSON.stringify([scores, ...COVERAGE_FIELDS.map(([, f]) => c[f] ?? null)]);
}

function cloneCoverage(c: FakeCoverage): FakeCoverage {
  return { ...c, ...(c.coverage ? { coverage: c.coverage.map((s) => ({ ...s })) } : {}) };
}

export class FakeState extends EventEmitter implements FakeStore {
  entities = new Map<string, FakeEntity>();
  coverages = new Map<string, FakeCoverage>();
  relationships: FakeRelationship[] = [];
  notes: FakeNote[] = [];
  labels: FakeLabel[] = [];
  works = new Map<string, FakeWork>();
  connectors = new Map<string, FakeConnector>();
  pushes: PushRecord[] = [];
  drafts = new Map<string, FakeStore>();

  constructor() {
    super();
    this.setMaxListeners(100);
  }

  changed(): void {
    this.emit('change');
  }

  /** Live data (no draft) or the draft's copy. */
  store(draftId?: string | null): FakeStore {
    if (!draftId) return this;
    const draft = this.drafts.get(draftId);
    if (!draft) throw Object.assign(new Error(`Draft ${draftId} not found`), { code: 'DRAFT_NOT_FOUND' });
    return draft;
  }

  /** Opens a draft workspace: a copy of live coverages and relationships. */
  openDraft(): string {
    const id = uuidv4();
    this.drafts.set(id, {
      coverages: new Map([...this.coverages].map(([k, c]) => [k, cloneCoverage(c)])),
      relationships: this.relationships.map((r) => ({ ...r, stixIds: [...r.stixIds], coverage: r.coverage.map((s) => ({ ...s })) })),
      notes: this.notes.map((n) => ({ ...n, stixIds: [...n.stixIds], objectRefs: [...n.objectRefs] })),
    });
    return id;
  }

  addEntity(entityType: FakeEntity['entityType'], name: string, extra: Partial<FakeEntity> = {}): FakeEntity {
    const stixType = entityType.toLowerCase();
    const e: FakeEntity = { internalId: uuidv4(), standardId: `${stixType}--${uuidv4()}`, entityType, name, objectIds: [], ...extra };
    this.entities.set(e.standardId, e);
    return e;
  }

  /** A coverage stored without any enrichment being triggered (test setup); `FakeOpenCti.createCoverage` triggers like the platform. */
  addCoverage(coveredRef: string, extra: Partial<FakeCoverage> = {}): FakeCoverage {
    const now = new Date().toISOString();
    const c: FakeCoverage = {
      internalId: uuidv4(),
      standardId: `security-coverage--${uuidv4()}`,
      name: `Coverage of ${coveredRef}`,
      coveredRef,
      autoEnrichmentDisable: false,
      periodicity: 'P1D',
      duration: 'P30D',
      created: now,
      modified: now,
      ...extra,
    };
    this.coverages.set(c.standardId, c);
    return c;
  }

  addRelationship(type: string, from: string, to: string, coverage: Score[] = [], writer = 'analyst', store: FakeStore = this): FakeRelationship {
    const r: FakeRelationship = { internalId: uuidv4(), standardId: `relationship--${uuidv4()}`, stixIds: [], type, from, to, coverage, writer };
    store.relationships.push(r);
    return r;
  }

  findAny(id: string): FakeEntity | FakeCoverage | undefined {
    return (
      this.entities.get(id) ??
      this.coverages.get(id) ??
      [...this.entities.values()].find((e) => e.internalId === id) ??
      [...this.coverages.values()].find((c) => c.internalId === id)
    );
  }

  coverage(id: string, store: FakeStore = this): FakeCoverage | undefined {
    return store.coverages.get(id) ?? [...store.coverages.values()].find((c) => c.internalId === id);
  }

  createWork(connectorId: string, status: FakeWork['status'] = 'wait', entityId?: string, draftId: string | null = null): FakeWork {
    const timestamp = new Date().toISOString();
    const id = `work_${connectorId}_${timestamp}_${uuidv4().slice(0, 8)}`;
    const w: FakeWork = {
      id,
      connectorId,
      timestamp,
      ...(entityId ? { entityId } : {}),
      status,
      expected: 0,
      processed: 0,
      messages: [],
      errors: [],
      received: false,
      processedCalls: [],
      draftId,
    };
    this.works.set(id, w);
    return w;
  }

  /**
   * A work completes once `toProcessed` was called and every expected import was reported
   * (src/domain/work.js: `reportExpectation` and `toProcessed` both check processed against expected).
   */
  maybeComplete(w: FakeWork): void {
    if (w.status !== 'complete' && w.processedCalls.length > 0 && w.processed >= w.expected) w.status = 'complete';
  }

  /** STIX object of a coverage as the platform emits it (protocol §1.5). */
  stixCoverage(c: FakeCoverage): Record<string, unknown> {
    const scores = c.coverage ?? [];
    return {
      id: c.standardId,
      spec_version: '2.1',
      type: 'security-coverage',
      created: c.created,
      modified: c.modified,
      name: c.name,
      covered: scores.length > 0,
      ...(scores.length > 0 ? { coverage: scores.map((s) => ({ name: s.coverage_name, score: s.coverage_score })) } : {}),
      ...(c.periodicity ? { periodicity: c.periodicity } : {}),
      ...(c.duration ? { duration: c.duration } : {}),
      ...(c.externalUri ? { external_uri: c.externalUri } : {}),
      ...(c.lastResult ? { last_result: c.lastResult } : {}),
      ...(c.validFrom ? { valid_from: c.validFrom } : {}),
      ...(c.validTo ? { valid_to: c.validTo } : {}),
      ...(c.typeAffinity ? { type_affinity: c.typeAffinity } : {}),
      ...(c.platformsAffinity?.length ? { platforms_affinity: c.platformsAffinity } : {}),
      auto_enrichment_disable: c.autoEnrichmentDisable,
      covered_ref: c.coveredRef,
      extensions: {
        'extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba': { extension_type: 'new-sdo', id: c.internalId, type: 'Security-Coverage' },
      },
    };
  }

  stixEntity(e: FakeEntity): Record<string, unknown> {
    const base: Record<string, unknown> = { id: e.standardId, spec_version: '2.1', type: e.entityType.toLowerCase(), name: e.name };
    if (e.entityType === 'Attack-Pattern' && e.xMitreId) {
      base.x_mitre_id = e.xMitreId;
      base.external_references = [{ source_name: 'mitre-attack', external_id: e.xMitreId }];
      base.extensions = { 'extension-definition--322b8f77-262a-4cb8-a915-1e441e00329b': { extension_type: 'property-extension', id: e.xMitreId } };
      if (e.tactics?.length) base.kill_chain_phases = e.tactics.map((phase_name) => ({ kill_chain_name: 'mitre-attack', phase_name }));
      if (e.platforms?.length) base.x_mitre_platforms = e.platforms;
    }
    if (e.objectIds.length > 0) base.object_refs = e.objectIds;
    return base;
  }

  /** `securityCoverageStixBundle` (protocol §3.4): coverage, covered entity, its refs, uses/targets and their targets. */
  stixBundle(c: FakeCoverage): Record<string, unknown> {
    const objects: Array<Record<string, unknown>> = [this.stixCoverage(c)];
    const covered = this.entities.get(c.coveredRef);
    if (covered) {
      objects.push(this.stixEntity(covered));
      for (const id of covered.objectIds) {
        const o = this.entities.get(id);
        if (o) objects.push(this.stixEntity(o));
      }
      for (const r of this.relationships.filter((x) => x.from === covered.standardId && (x.type === 'uses' || x.type === 'targets'))) {
        objects.push({ id: r.standardId, type: 'relationship', spec_version: '2.1', relationship_type: r.type, source_ref: r.from, target_ref: r.to });
        const t = this.entities.get(r.to);
        if (t) objects.push(this.stixEntity(t));
      }
    }
    return { id: uuidv4(), spec_version: '2.1', type: 'bundle', objects };
  }

  /**
   * What the platform's worker does with one imported object, in `store`. Returns an error text, or
   * the coverage whose stored fields changed (an upsert event: it re-triggers enrichment).
   */
  importObject(o: Record<string, unknown>, store: FakeStore, writer: string): { error?: string; changed?: FakeCoverage } {
    if (o.type === 'security-coverage') {
      if (typeof o.name !== 'string') return { error: "KeyError: 'name'" };
      const covered = typeof o.covered_ref === 'string' ? o.covered_ref : undefined;
      if (!covered) return {}; // silently skipped (protocol §1.6)
      const target = [...store.coverages.values()].find((c) => c.coveredRef === covered);
      if (!target) return { error: `MissingReferenceError: ${covered}` };
      const scores = parseScores(o.coverage);
      if (typeof scores === 'string') return { error: scores };
      const before = storedFieldsKey(target);
      target.coverage = scores; // forced full replace: absent → wiped (protocol P5)
      for (const [k, f] of COVERAGE_FIELDS) {
        if (o[k] !== undefined) (target as unknown as Record<string, unknown>)[f] = o[k];
      }
      if (storedFieldsKey(target) === before) return {};
      target.modified = new Date().toISOString();
      return { changed: target };
    }
    if (o.type === 'relationship' && o.relationship_type === 'has-covered') {
      const from = String(o.source_ref);
      const to = String(o.target_ref);
      if (!this.coverage(from, store)) return { error: `MissingReferenceError: ${from}` };
      if (!this.findAny(to)) return { error: `MissingReferenceError: ${to}` };
      const scores = parseScores(o.coverage);
      if (typeof scores === 'string') return { error: scores };
      const id = String(o.id);
      // Relationships upsert on their id, an id merged earlier, or the same (type, from, to)
      // (src/database/middleware.ts createRelationRaw): the incoming id joins x_opencti_stix_ids.
      const existing =
        store.relationships.find((r) => r.standardId === id || r.stixIds.includes(id)) ??
        store.relationships.find((r) => r.type === 'has-covered' && r.from === from && r.to === to);
      const description = typeof o.description === 'string' ? o.description : undefined;
      if (existing) {
        if (existing.standardId !== id && !existing.stixIds.includes(id)) existing.stixIds.push(id);
        existing.coverage = scores;
        if (description !== undefined) existing.description = description;
      } else {
        store.relationships.push({ internalId: uuidv4(), standardId: id, stixIds: [], type: 'has-covered', from, to, coverage: scores, ...(description !== undefined ? { description } : {}), writer });
      }
      return {};
    }
    if (o.type === 'note') {
      if (typeof o.content !== 'string' || o.content.length === 0) return { error: 'Note without content' };
      const refs = Array.isArray(o.object_refs) ? o.object_refs.map(String) : [];
      const missing = refs.find((ref) => !this.coverage(ref, store) && !this.findAny(ref));
      if (missing) return { error: `MissingReferenceError: ${missing}` };
      const id = String(o.id);
      // The platform derives a note's standard id from its content; the pushed id is kept in x_opencti_stix_ids,
      // so a later push with the same id updates the same note.
      const derived = `note--${uuidv5(o.content, '00abedb4-aa42-466c-9c01-fed23315a9b7')}`;
      const existing = store.notes.find((n) => n.standardId === id || n.stixIds.includes(id));
      if (existing) {
        if (existing.standardId !== derived && !existing.stixIds.includes(existing.standardId)) existing.stixIds.push(existing.standardId);
        existing.standardId = derived;
        existing.content = o.content;
        if (typeof o.abstract === 'string') existing.abstract = o.abstract;
        for (const ref of refs) if (!existing.objectRefs.includes(ref)) existing.objectRefs.push(ref);
      } else {
        store.notes.push({
          internalId: uuidv4(),
          standardId: derived,
          stixIds: derived === id ? [] : [id],
          ...(typeof o.abstract === 'string' ? { abstract: o.abstract } : {}),
          content: o.content,
          objectRefs: refs,
          writer,
        });
      }
      return {};
    }
    if (o.type === 'identity') {
      if (!this.entities.has(String(o.id))) {
        this.entities.set(String(o.id), { internalId: uuidv4(), standardId: String(o.id), entityType: 'Identity', name: String(o.name), objectIds: [] });
      }
      return {};
    }
    return { error: 'Incompatible element in bundle' };
  }
}
