import type { PlatformBroker, PlatformTopology } from './platform-broker';
import { v4 as uuidv4, v5 as uuidv5 } from 'uuid';
import { CONNECTOR_USER_ID, type FakeCoverage, type FakeEntity, type FakeRelationship, type FakeState, type FakeStore } from './state';

/**
 * Root resolvers of the stand-in platform, with the real platform's behaviour where the connector
 * relies on it (protocol §5, §6.2): register/ping declare the queues, ping fails for a deleted connector
 * and returns "" once after a state reset, works complete as src/domain/work.js decides,
 * stixBundlePush queues the bundle for the asynchronous import. Reads and deletes honour the
 * `opencti-draft-id` header; the GraphQL push does not (src/domain/stix.js sendStixBundle).
 */

/** Per request: the draft the caller works in (header `opencti-draft-id`). */
export interface RequestContext {
  draftId: string | null;
}

/** A push as the platform receives it: queued for its workers (src/domain/stix.js sendStixBundle). */
export interface SubmittedPush {
  connectorId: string;
  objects: Array<Record<string, unknown>>;
  workId: string | null;
  draftId: string | null;
  via: 'graphql' | 'amqp';
}

export interface ResolverDeps {
  amqpUrl: string;
  topo: PlatformTopology;
  broker: PlatformBroker;
  maxPageSize: number;
  /** `askEnrichment`: the platform creates the work and publishes the message (§3.1 manual trigger). */
  askEnrichment: (coverage: FakeCoverage, connectorId: string) => Promise<string>;
  /** Queues a pushed bundle for import. */
  submitPush: (push: SubmittedPush) => void;
  /** A direct write changed a stored field of a coverage (labels): the platform re-triggers its enrichment. */
  coverageChanged: (coverage: FakeCoverage, cause: string) => Promise<void>;
}

type Args = Record<string, unknown>;

function page<T>(items: T[], args: Args, maxPageSize: number): { pageInfo: Record<string, unknown>; slice: Array<{ item: T; cursor: string }> } {
  const first = Math.min(typeof args.first === 'number' ? args.first : 500, maxPageSize);
  const start = typeof args.after === 'string' && args.after ? Number(Buffer.from(args.after, 'base64').toString('utf8')) + 1 : 0;
  const slice = items.slice(start, start + first).map((item, i) => ({ item, cursor: Buffer.from(String(start + i)).toString('base64') }));
  return {
    slice,
    pageInfo: {
      startCursor: slice[0]?.cursor ?? '',
      endCursor: slice[slice.length - 1]?.cursor ?? '',
      hasNextPage: start + first < items.length,
      hasPreviousPage: start > 0,
      globalCount: items.length,
    },
  };
}

const TYPENAME: Record<string, string> = { Report: 'Report', Grouping: 'Report', 'Attack-Pattern': 'AttackPattern', 'Intrusion-Set': 'IntrusionSet' };

const storeOf = (state: FakeState, ctx: RequestContext | undefined): FakeStore => state.store(ctx?.draftId ?? null);

export function createResolvers(state: FakeState, deps: ResolverDeps): Record<string, unknown> {
  const relConnection = (rels: FakeRelationship[], args: Args, store: FakeStore): unknown => {
    const { pageInfo, slice } = page(rels, args, deps.maxPageSize);
    return { pageInfo, edges: slice.map(({ item, cursor }) => ({ cursor, node: relationshipNode(item, store) })) };
  };

  function entityNode(e: FakeEntity, store: FakeStore = state): Record<string, unknown> {
    return {
      __typename: TYPENAME[e.entityType] ?? 'Report',
      id: e.internalId,
      standard_id: e.standardId,
      entity_type: e.entityType,
      name: e.name,
      x_mitre_id: e.xMitreId ?? null,
      published: e.published ?? null,
      killChainPhases: (e.tactics ?? []).map((phase_name) => ({ kill_chain_name: 'mitre-attack', phase_name })),
      stixCoreRelationships: (args: Args) =>
        relConnection(store.relationships.filter((r) => r.from === e.standardId && (!args.relationship_type || r.type === args.relationship_type)), args, store),
      objects: (args: Args) => {
        const types = (args.types as string[] | undefined) ?? [];
        const items = e.objectIds.map((id) => state.entities.get(id)).filter((o): o is FakeEntity => !!o && (types.length === 0 || types.includes(o.entityType)));
        const { pageInfo, slice } = page(items, args, deps.maxPageSize);
        return { pageInfo, edges: slice.map(({ item, cursor }) => ({ cursor, types: ['manual'], node: entityNode(item) })) };
      },
    };
  }

  function coverageNode(c: FakeCoverage, store: FakeStore = state): Record<string, unknown> {
    const covered = state.entities.get(c.coveredRef);
    return {
      __typename: 'SecurityCoverage',
      id: c.internalId,
      standard_id: c.standardId,
      entity_type: 'Security-Coverage',
      name: c.name,
      created_at: c.created,
      modified: c.modified,
      coverage_last_result: c.lastResult ?? null,
      jobs: (args: Args) =>
        [...state.works.values()]
          .filter((w) => w.entityId === c.standardId)
          .reverse()
          .slice(0, typeof args.first === 'number' ? args.first : 50)
          .map((w) => ({ id: w.id, timestamp: w.timestamp, status: w.status, connector: connectorNode(w.connectorId) })),
      external_uri: c.externalUri ?? null,
      periodicity: c.periodicity ?? null,
      duration: c.duration ?? null,
      auto_enrichment_disable: c.autoEnrichmentDisable,
      coverage_information: c.coverage ?? null,
      objectLabel: labelNodes(c.labels),
      notes: (args: Args) => {
        const items = store.notes.filter((n) => n.objectRefs.includes(c.standardId)).slice(0, typeof args.first === 'number' ? args.first : 100);
        const edges = items.map((n, i) => ({
          cursor: Buffer.from(String(i)).toString('base64'),
          node: { id: n.internalId, standard_id: n.standardId, x_opencti_stix_ids: n.stixIds, attribute_abstract: n.abstract ?? null, content: n.content, objectLabel: labelNodes(n.labels) },
        }));
        return { pageInfo: { startCursor: '', endCursor: '', hasNextPage: false, hasPreviousPage: false, globalCount: items.length }, edges };
      },
      objectCovered: covered ? entityNode(covered, store) : null,
      stixCoreRelationships: (args: Args) =>
        relConnection(store.relationships.filter((r) => r.from === c.standardId && (!args.relationship_type || r.type === args.relationship_type)), args, store),
      coverage_valid_from: c.validFrom ?? null,
      coverage_valid_to: c.validTo ?? null,
      toStixBundle: () => JSON.stringify(state.stixBundle(c)),
    };
  }

  function labelNodes(ids: string[] | undefined): Array<Record<string, unknown>> {
    return (ids ?? []).flatMap((id) => {
      const l = state.labels.find((x) => x.id === id);
      return l ? [{ id: l.id, value: l.value, color: l.color ?? null }] : [];
    });
  }

  function anyNode(id: string, store: FakeStore): Record<string, unknown> | null {
    const c = state.coverage(id, store);
    if (c) return coverageNode(c, store);
    const e = state.entities.get(id);
    return e ? entityNode(e, store) : null;
  }

  function relationshipNode(r: FakeRelationship, store: FakeStore): Record<string, unknown> {
    return {
      id: r.internalId,
      standard_id: r.standardId,
      x_opencti_stix_ids: r.stixIds,
      description: r.description ?? null,
      entity_type: 'stix-core-relationship',
      relationship_type: r.type,
      coverage_information: r.coverage,
      fromId: state.entities.get(r.from)?.internalId ?? r.from,
      fromType: state.entities.get(r.from)?.entityType ?? (state.coverage(r.from, store) ? 'Security-Coverage' : ''),
      created: r.created ?? null,
      modified: r.modified ?? r.created ?? null,
      from: anyNode(r.from, store),
      to: anyNode(r.to, store),
    };
  }

  function connectorNode(id: string): Record<string, unknown> {
    const c = state.connectors.get(id);
    const u = new URL(deps.amqpUrl);
    return {
      id,
      name: c?.name ?? id,
      connector_state: c?.state ?? null,
      connector_user_id: CONNECTOR_USER_ID,
      active: !!c,
      updated_at: c?.updatedAt ?? null,
      connector_info: { run_and_terminate: false, buffering: false, queue_threshold: 500, queue_messages_size: 0, next_run_datetime: null, last_run_datetime: null },
      config: {
        connection: {
          host: u.hostname,
          vhost: decodeURIComponent(u.pathname.slice(1)) || '/',
          use_ssl: u.protocol === 'amqps:',
          port: Number(u.port || 5672),
          user: decodeURIComponent(u.username),
          pass: decodeURIComponent(u.password),
        },
        listen: deps.topo.listenQueue(id),
        listen_routing: deps.topo.listenRouting(id),
        listen_exchange: deps.topo.listenExchange,
        push: deps.topo.pushQueue(id),
        push_routing: deps.topo.pushRouting(id),
        push_exchange: deps.topo.pushExchange,
        dead_letter_routing: 'listen_routing_too-large-bundle',
      },
    };
  }

  function workOrThrow(id: string) {
    const w = state.works.get(id);
    if (!w) throw new Error(`Work not found: ${id}`);
    return w;
  }

  return {
    // ---- Query
    // A coverage the connector user cannot read answers null, as a deleted one does (storeLoadById).
    securityCoverage: ({ id }: Args, ctx: RequestContext) => {
      const store = storeOf(state, ctx);
      const c = state.coverage(String(id), store);
      return c && !c.hidden ? coverageNode(c, store) : null;
    },
    securityCoverages: (args: Args, ctx: RequestContext) => {
      const store = storeOf(state, ctx);
      const items = [...store.coverages.values()].filter((c) => !c.hidden).sort((a, b) => a.created.localeCompare(b.created));
      const { pageInfo, slice } = page(items, args, deps.maxPageSize);
      return { pageInfo, edges: slice.map(({ item, cursor }) => ({ cursor, node: coverageNode(item, store) })) };
    },
    container: ({ id }: Args) => {
      const e = state.entities.get(String(id)) ?? [...state.entities.values()].find((x) => x.internalId === id);
      return e && (e.entityType === 'Report' || e.entityType === 'Grouping') ? entityNode(e) : null;
    },
    stixCoreRelationships: (args: Args, ctx: RequestContext) => {
      const store = storeOf(state, ctx);
      const from = (args.fromId as string[] | undefined) ?? [];
      const types = (args.relationship_type as string[] | undefined) ?? [];
      const toTypes = (args.toTypes as string[] | undefined) ?? [];
      const fromTypes = (args.fromTypes as string[] | undefined) ?? [];
      const to = (args.toId as string[] | undefined) ?? [];
      // Ids are internal or standard, as on the platform.
      const idMatches = (ids: string[], standardId: string): boolean => ids.length === 0 || ids.includes(standardId) || ids.includes(state.entities.get(standardId)?.internalId ?? '');
      const rels = store.relationships.filter(
        (r) =>
          idMatches(from, r.from) &&
          idMatches(to, r.to) &&
          (types.length === 0 || types.includes(r.type)) &&
          (fromTypes.length === 0 || fromTypes.includes(state.entities.get(r.from)?.entityType ?? '')) &&
          (toTypes.length === 0 || toTypes.includes(state.entities.get(r.to)?.entityType ?? '')),
      );
      return relConnection(rels, args, store);
    },
    reports: (args: Args) => {
      const items = [...state.entities.values()].filter((e) => e.entityType === 'Report').sort((a, b) => (b.published ?? '').localeCompare(a.published ?? ''));
      const { pageInfo, slice } = page(items, args, deps.maxPageSize);
      return { pageInfo, edges: slice.map(({ item, cursor }) => ({ cursor, node: entityNode(item) })) };
    },

    work: ({ id }: Args) => {
      const w = state.works.get(String(id));
      if (!w) return null;
      const tracking = { import_expected_number: w.expected, import_processed_number: w.processed, import_last_processed: null };
      return { id: w.id, name: w.name ?? null, timestamp: w.timestamp, status: w.status, connector: connectorNode(w.connectorId), tracking };
    },

    // ---- operator tooling
    connector: ({ id }: Args) => (state.connectors.has(String(id)) ? connectorNode(String(id)) : null),
    workAdd: ({ connectorId, friendlyName }: Args) => {
      const w = state.createWork(String(connectorId), 'progress');
      if (typeof friendlyName === 'string') w.name = friendlyName;
      return { id: w.id, name: w.name ?? null, timestamp: w.timestamp, status: w.status, connector: connectorNode(w.connectorId) };
    },

    // ---- Mutation
    registerConnector: async ({ input }: Args) => {
      const i = input as Record<string, unknown>;
      const id = String(i.id);
      const prev = state.connectors.get(id);
      state.connectors.set(id, {
        id,
        name: String(i.name),
        scope: (i.scope as string[]) ?? [],
        auto: i.auto === true,
        autoUpdate: i.auto_update === true,
        enrichmentResolution: (i.enrichment_resolution as string) ?? null,
        playbookCompatible: i.playbook_compatible === true,
        state: prev?.state ?? null,
        stateReset: false,
        registrations: (prev?.registrations ?? 0) + 1,
        pings: prev?.pings ?? 0,
        updatedAt: new Date().toISOString(),
      });
      await deps.broker.declare({ id, name: String(i.name), scope: (i.scope as string[]) ?? [] });
      return connectorNode(id);
    },
    pingConnector: async ({ id, state: newState }: Args) => {
      const c = state.connectors.get(String(id));
      if (!c) throw new Error('No connector found with the specified ID');
      c.pings += 1;
      c.updatedAt = new Date().toISOString();
      if (c.stateReset) {
        c.stateReset = false;
        c.state = '';
      } else {
        c.state = (newState as string | null) ?? null;
      }
      await deps.broker.declare({ id: c.id, name: c.name, scope: c.scope });
      return connectorNode(c.id);
    },
    workEdit: ({ id }: Args) => {
      const workId = String(id);
      return {
        ping: () => workOrThrow(workId).id,
        toReceived: ({ message }: Args) => {
          const w = workOrThrow(workId);
          w.status = w.status === 'complete' ? w.status : 'progress';
          w.received = true;
          if (message) w.messages.push(String(message));
          return workId;
        },
        addExpectations: ({ expectations }: Args) => {
          const w = workOrThrow(workId);
          w.expected += Number(expectations ?? 0);
          return workId;
        },
        reportExpectation: ({ error }: Args) => {
          const w = workOrThrow(workId);
          w.processed += 1;
          if (error) w.errors.push(String((error as { error?: string }).error));
          state.maybeComplete(w);
          return workId;
        },
        toProcessed: ({ message, inError }: Args) => {
          const w = workOrThrow(workId);
          w.processedCalls.push({ message: String(message ?? ''), inError: inError === true });
          (inError ? w.errors : w.messages).push(String(message ?? ''));
          state.maybeComplete(w);
          return workId;
        },
      };
    },
    stixCoreObjectEdit: ({ id }: Args) => ({
      askEnrichment: async ({ connectorId }: Args) => {
        const c = state.coverage(String(id));
        if (!c) throw new Error('Cant find element to enrich');
        const workId = await deps.askEnrichment(c, String(connectorId));
        const w = state.works.get(workId);
        return w ? { id: w.id, timestamp: w.timestamp, status: w.status, connector: connectorNode(w.connectorId) } : null;
      },
    }),
    // The draft header is not carried into the worker message (src/domain/stix.js): imports land in live data.
    stixBundlePush: ({ connectorId, bundle, work_id: workId }: Args) => {
      let parsed: { type?: unknown; objects?: unknown };
      try {
        parsed = JSON.parse(String(bundle)) as typeof parsed;
      } catch {
        throw new Error('Invalid bundle');
      }
      if (parsed.type !== 'bundle' || !Array.isArray(parsed.objects) || parsed.objects.length === 0) throw new Error('Invalid bundle');
      if (!state.connectors.has(String(connectorId))) throw new Error('Invalid bundle');
      deps.submitPush({ connectorId: String(connectorId), objects: parsed.objects as Array<Record<string, unknown>>, workId: (workId as string | null) ?? null, draftId: null, via: 'graphql' });
      return true;
    },
    // Labels and notes written directly (src/domain/label.js, src/modules/... noteAdd/noteEdit): synchronous.
    labelAdd: ({ input }: Args) => {
      const { value, color } = input as { value: string; color?: string };
      const existing = state.labels.find((l) => l.value.toLowerCase() === value.toLowerCase());
      if (existing) return existing;
      const label = { id: uuidv4(), value, ...(color ? { color } : {}) };
      state.labels.push(label);
      return label;
    },
    stixDomainObjectEdit: ({ id }: Args, ctx: RequestContext) => {
      const c = state.coverage(String(id), storeOf(state, ctx));
      if (!c) throw new Error('Cant find element to update');
      return {
        // An object-label added to or removed from the coverage changes it: the platform re-triggers.
        relationAdd: async ({ input }: Args) => {
          const { toId, relationship_type: type } = input as { toId: string; relationship_type: string };
          if (type !== 'object-label') throw new Error(`unsupported ref ${type}`);
          if (!(c.labels ?? []).includes(toId)) {
            c.labels = [...(c.labels ?? []), toId];
            c.modified = new Date().toISOString();
            await deps.coverageChanged(c, 'label added');
          }
          return { id: uuidv4() };
        },
        relationDelete: async ({ toId }: Args) => {
          if ((c.labels ?? []).includes(String(toId))) {
            c.labels = (c.labels ?? []).filter((l) => l !== toId);
            c.modified = new Date().toISOString();
            await deps.coverageChanged(c, 'label removed');
          }
          return coverageNode(c);
        },
      };
    },
    noteAdd: ({ input }: Args, ctx: RequestContext) => {
      const i = input as { content: string; attribute_abstract?: string; objects?: string[]; objectLabel?: string[] };
      const store = storeOf(state, ctx);
      const refs = (i.objects ?? []).map((ref) => state.coverage(ref, store)?.standardId ?? state.findAny(ref)?.standardId ?? ref);
      const note = {
        internalId: uuidv4(),
        standardId: `note--${uuidv5(i.content, '00abedb4-aa42-466c-9c01-fed23315a9b7')}`,
        stixIds: [],
        ...(i.attribute_abstract ? { abstract: i.attribute_abstract } : {}),
        content: i.content,
        objectRefs: refs,
        writer: 'connector',
        labels: i.objectLabel ?? [],
      };
      store.notes.push(note);
      return { id: note.internalId, standard_id: note.standardId, x_opencti_stix_ids: [], attribute_abstract: note.abstract ?? null, content: note.content, objectLabel: labelNodes(note.labels) };
    },
    noteEdit: ({ id }: Args, ctx: RequestContext) => {
      const store = storeOf(state, ctx);
      const note = store.notes.find((n) => n.internalId === id || n.standardId === id);
      if (!note) throw new Error('Cant find element to update');
      return {
        fieldPatch: ({ input }: Args) => {
          for (const { key, value } of input as Array<{ key: string; value: unknown[] }>) {
            if (key === 'content') note.content = String(value[0]);
            if (key === 'attribute_abstract') note.abstract = String(value[0]);
          }
          return { id: note.internalId, standard_id: note.standardId, content: note.content, attribute_abstract: note.abstract ?? null, objectLabel: labelNodes(note.labels) };
        },
        delete: () => {
          store.notes.splice(store.notes.indexOf(note), 1);
          return note.internalId;
        },
      };
    },
    stixCoreRelationshipEdit: ({ id }: Args, ctx: RequestContext) => ({
      delete: () => {
        const store = storeOf(state, ctx);
        const index = store.relationships.findIndex((r) => r.internalId === id || r.standardId === id);
        if (index < 0) throw Object.assign(new Error('Cant find element to delete'), { code: 'ALREADY_DELETED_ERROR' });
        store.relationships.splice(index, 1);
        return String(id);
      },
    }),
  };
}
