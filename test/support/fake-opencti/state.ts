import { EventEmitter } from 'node:events';
import { v4 as uuidv4 } from 'uuid';

/** In-memory platform state of the fake OpenCTI, and the import a platform worker would do. */

export interface FakeEntity {
  internalId: string;
  standardId: string;
  entityType: 'Report' | 'Attack-Pattern' | 'Intrusion-Set' | 'Grouping';
  name: string;
  xMitreId?: string;
  /** Standard ids of contained objects (containers). */
  objectIds: string[];
}

export interface Score {
  coverage_name: string;
  coverage_score: number;
}

export interface FakeCoverage {
  internalId: string;
  standardId: string;
  name: string;
  coveredRef: string;
  coverage?: Score[];
  autoEnrichmentDisable: boolean;
  periodicity?: string;
  duration?: string;
  externalUri?: string;
  lastResult?: string;
  validFrom?: string;
  validTo?: string;
  created: string;
  modified: string;
}

export interface FakeRelationship {
  internalId: string;
  standardId: string;
  type: string;
  from: string;
  to: string;
  coverage: Score[];
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
  /** `workAdd(friendlyName)` (operator tooling). */
  name?: string;
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
  objects: Array<Record<string, unknown>>;
  /** The work was no longer alive: the platform worker drops the bundle silently. */
  dropped: boolean;
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

export class FakeState extends EventEmitter {
  entities = new Map<string, FakeEntity>();
  coverages = new Map<string, FakeCoverage>();
  relationships: FakeRelationship[] = [];
  works = new Map<string, FakeWork>();
  connectors = new Map<string, FakeConnector>();
  pushes: PushRecord[] = [];

  changed(): void {
    this.emit('change');
  }

  addEntity(entityType: FakeEntity['entityType'], name: string, extra: Partial<FakeEntity> = {}): FakeEntity {
    const stixType = entityType.toLowerCase();
    const e: FakeEntity = { internalId: uuidv4(), standardId: `${stixType}--${uuidv4()}`, entityType, name, objectIds: [], ...extra };
    this.entities.set(e.standardId, e);
    return e;
  }

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

  addRelationship(type: string, from: string, to: string, coverage: Score[] = []): FakeRelationship {
    const r: FakeRelationship = { internalId: uuidv4(), standardId: `relationship--${uuidv4()}`, type, from, to, coverage };
    this.relationships.push(r);
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

  coverage(id: string): FakeCoverage | undefined {
    return this.coverages.get(id) ?? [...this.coverages.values()].find((c) => c.internalId === id);
  }

  createWork(connectorId: string, status: FakeWork['status'] = 'wait', entityId?: string): FakeWork {
    const timestamp = new Date().toISOString();
    const id = `work_${connectorId}_${timestamp}_${uuidv4().slice(0, 8)}`;
    const w: FakeWork = { id, connectorId, timestamp, ...(entityId ? { entityId } : {}), status, expected: 0, processed: 0, messages: [], errors: [], received: false, processedCalls: [] };
    this.works.set(id, w);
    return w;
  }

  /** STIX object of a coverage as the platform emits it (protocol §1.5). */
  stixCoverage(c: FakeCoverage): Record<string, unknown> {
    return {
      id: c.standardId,
      spec_version: '2.1',
      type: 'security-coverage',
      created: c.created,
      modified: c.modified,
      name: c.name,
      covered: (c.coverage ?? []).length > 0,
      ...((c.coverage ?? []).length > 0 ? { coverage: (c.coverage ?? []).map((s) => ({ name: s.coverage_name, score: s.coverage_score })) } : {}),
      ...(c.periodicity ? { periodicity: c.periodicity } : {}),
      ...(c.duration ? { duration: c.duration } : {}),
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

  /** What pycti + the platform do with one imported object; returns an error text or undefined. */
  importObject(o: Record<string, unknown>): string | undefined {
    if (o.type === 'security-coverage') {
      if (typeof o.name !== 'string') return "KeyError: 'name'";
      const covered = typeof o.covered_ref === 'string' ? o.covered_ref : undefined;
      if (!covered) return undefined; // silently skipped (§1.6)
      const target = [...this.coverages.values()].find((c) => c.coveredRef === covered);
      if (!target) return `MissingReferenceError: ${covered}`;
      const s = parseScores(o.coverage);
      if (typeof s === 'string') return s;
      target.coverage = s; // forced full replace; absent → wiped
      for (const [k, f] of [['external_uri', 'externalUri'], ['last_result', 'lastResult'], ['valid_from', 'validFrom'], ['valid_to', 'validTo']] as const) {
        if (typeof o[k] === 'string') target[f] = o[k] as string;
      }
      target.modified = new Date().toISOString();
      return undefined;
    }
    if (o.type === 'relationship' && o.relationship_type === 'has-covered') {
      const from = String(o.source_ref);
      const to = String(o.target_ref);
      if (!this.coverage(from)) return `MissingReferenceError: ${from}`;
      if (!this.findAny(to)) return `MissingReferenceError: ${to}`;
      const s = parseScores(o.coverage);
      if (typeof s === 'string') return s;
      const existing = this.relationships.find((r) => r.standardId === o.id || (r.type === 'has-covered' && r.from === from && r.to === to));
      if (existing) existing.coverage = s;
      else this.relationships.push({ internalId: uuidv4(), standardId: String(o.id), type: 'has-covered', from, to, coverage: s });
      return undefined;
    }
    if (o.type === 'identity') {
      if (!this.entities.has(String(o.id))) {
        this.entities.set(String(o.id), { internalId: uuidv4(), standardId: String(o.id), entityType: 'Report', name: String(o.name), objectIds: [] });
      }
      return undefined;
    }
    return 'Incompatible element in bundle';
  }

  /** The platform worker importing one pushed bundle into `workId` (protocol §6.1 worker rules). */
  importBundle(connectorId: string, objects: Array<Record<string, unknown>>, workId: string | null): PushRecord {
    const work = workId ? this.works.get(workId) : this.createWork(connectorId, 'progress');
    const record: PushRecord = { connectorId, workId, objects, dropped: false };
    this.pushes.push(record);
    if (!work || work.status === 'complete') {
      record.dropped = true;
      this.changed();
      return record;
    }
    if (objects.length > 1) work.expected += objects.length; // the worker splits and adds expectations
    for (const o of objects) {
      const error = this.importObject(o);
      if (error) work.errors.push(error);
      work.processed += 1;
      if (work.processed === work.expected) work.status = 'complete';
    }
    this.changed();
    return record;
  }
}
