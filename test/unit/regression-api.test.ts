import { readFileSync } from 'node:fs';
import { buildSchema, graphql, Kind, parse, validate, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import type { GraphQLClient } from '../../src/adapters/opencti/graphql-client';
import { createRegressionApi, REGRESSION_DOCUMENTS } from '../../src/adapters/opencti/regression-api';
import { describeWithShared, sharedPath } from '../support/env';

/**
 * The regression marks on a coverage, executed against the platform's real schemas (6.9 and
 * 7.2608) by a small in-test stub holding one coverage, its labels and notes. The stub rejects a
 * document over the platform's alias limits (each Mutation field once, each Query field twice), as
 * the platform does, and counts the writes that change the coverage (those re-trigger its enrichment).
 */

const SCHEMAS = [
  ['6.9', 'opencti-schema.graphql'],
  ['7.2608', 'opencti-schema-7.260817.graphql'],
] as const;

const COVERAGE_ID = 'c0ffee00-0000-4000-8000-000000000001';
const COVERAGE_STD = 'security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30';

/** Root field → how many times it appears in each operation of the document. */
function rootFieldCounts(source: string): Array<{ operation: string; field: string; count: number }> {
  const out: Array<{ operation: string; field: string; count: number }> = [];
  for (const def of parse(source).definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION) continue;
    const counts = new Map<string, number>();
    for (const sel of (def as OperationDefinitionNode).selectionSet.selections) if (sel.kind === Kind.FIELD) counts.set(sel.name.value, (counts.get(sel.name.value) ?? 0) + 1);
    for (const [field, count] of counts) out.push({ operation: def.operation, field, count });
  }
  return out;
}

const overAliasLimit = (source: string): string[] =>
  rootFieldCounts(source)
    .filter((c) => c.count > (c.operation === 'mutation' ? 1 : 2))
    .map((c) => `${c.operation} field ${c.field} used ${c.count} times`);

interface Note {
  id: string;
  attribute_abstract: string;
  content: string;
  objects: string[];
  labels: string[];
}

function stubPlatform(schema: GraphQLSchema) {
  const labels = new Map<string, { id: string; value: string }>();
  const coverageLabels: string[] = [];
  const notes = new Map<string, Note>();
  const calls: string[] = [];
  let coverageWrites = 0;
  let ids = 0;
  let exists = true;
  const labelRefs = (list: string[]) => list.map((id) => [...labels.values()].find((l) => l.id === id)!);

  const rootValue = {
    securityCoverage: ({ id }: { id: string }) =>
      exists && (id === COVERAGE_ID || id === COVERAGE_STD)
        ? {
            id: COVERAGE_ID,
            standard_id: COVERAGE_STD,
            objectLabel: labelRefs(coverageLabels),
            notes: () => ({ edges: [...notes.values()].filter((n) => n.objects.includes(COVERAGE_ID)).map((n) => ({ node: { ...n, objectLabel: labelRefs(n.labels) } })) }),
          }
        : null,
    labelAdd: ({ input }: { input: { value: string } }) => {
      if (!labels.has(input.value)) labels.set(input.value, { id: `label-${++ids}`, value: input.value });
      return labels.get(input.value);
    },
    stixDomainObjectEdit: ({ id }: { id: string }) => {
      if (id !== COVERAGE_ID) throw new Error(`unknown entity ${id}`);
      return {
        relationAdd: ({ input }: { input: { toId: string; relationship_type: string } }) => {
          if (input.relationship_type !== 'object-label') throw new Error('unexpected relationship');
          if (!coverageLabels.includes(input.toId)) coverageLabels.push(input.toId);
          coverageWrites += 1;
          return { id: `rel-${++ids}` };
        },
        relationDelete: ({ toId, relationship_type }: { toId: string; relationship_type: string }) => {
          if (relationship_type !== 'object-label') throw new Error('unexpected relationship');
          coverageLabels.splice(coverageLabels.indexOf(toId), 1);
          coverageWrites += 1;
          return { __typename: 'SecurityCoverage', id: COVERAGE_ID };
        },
      };
    },
    noteAdd: ({ input }: { input: { attribute_abstract: string; content: string; objects: string[]; objectLabel: string[] } }) => {
      const note: Note = { id: `note-${++ids}`, attribute_abstract: input.attribute_abstract, content: input.content, objects: input.objects, labels: input.objectLabel };
      notes.set(note.id, note);
      return { id: note.id };
    },
    noteEdit: ({ id }: { id: string }) => ({
      fieldPatch: ({ input }: { input: Array<{ key: string; value: string[] }> }) => {
        const note = notes.get(id)!;
        for (const e of input) (note as unknown as Record<string, string>)[e.key] = e.value[0];
        return { id };
      },
      delete: () => (notes.delete(id) ? id : null),
    }),
  };

  const gql: GraphQLClient = {
    async request<T>(document: string, variables: Record<string, unknown> = {}): Promise<T> {
      const problems = [...validate(schema, parse(document)).map((e) => e.message), ...overAliasLimit(document)];
      if (problems.length > 0) throw new Error(`document rejected: ${problems.join('; ')}`);
      calls.push(/\b(?:query|mutation)\s+(\w+)/.exec(document)![1]);
      const answer = await graphql({ schema, source: document, variableValues: variables, rootValue });
      if (answer.errors?.length) throw new Error(answer.errors.map((e) => e.message).join('; '));
      return answer.data as T;
    },
    close: () => undefined,
  };
  return {
    gql,
    calls,
    notes,
    coverageLabelValues: () => labelRefs(coverageLabels).map((l) => l.value),
    get coverageWrites() {
      return coverageWrites;
    },
    deleteCoverage: () => void (exists = false),
    addNote: (note: Omit<Note, 'id'>) => notes.set(`note-${++ids}`, { id: `note-${ids}`, ...note }),
    labelId: (value: string) => labels.get(value)?.id,
  };
}

it('every document keeps to the platform alias limits', () => {
  for (const [name, source] of Object.entries(REGRESSION_DOCUMENTS)) expect([name, overAliasLimit(source)]).toEqual([name, []]);
  expect(overAliasLimit('mutation M { a: labelAdd(input: {value: "x"}) { id } b: labelAdd(input: {value: "y"}) { id } }')).toEqual(['mutation field labelAdd used 2 times']);
});

describeWithShared('regression marks on a coverage', () => {
  describe.each(SCHEMAS)('OpenCTI %s schema', (_version, file) => {
    let schema: GraphQLSchema;
    beforeAll(() => {
      schema = buildSchema(readFileSync(sharedPath('reference', file), 'utf8'));
    });

    it('every document validates', () => {
      for (const [name, source] of Object.entries(REGRESSION_DOCUMENTS)) expect([name, validate(schema, parse(source)).map((e) => e.message)]).toEqual([name, []]);
    });

    it('marks once, updates only the note, clears once, and a repeated sync writes nothing', async () => {
      const platform = stubPlatform(schema);
      const api = createRegressionApi({ gql: platform.gql });
      const note = { abstract: 'Coverage regression: T1003.001 DETECTION 78 → 30', content: 'rule "LSASS Memory Access" disabled' };

      expect(await api.sync(COVERAGE_ID, note)).toEqual({ found: true, actions: ['label-added', 'note-added'] });
      expect(platform.coverageLabelValues()).toEqual(['coverage-regression']);
      const [stored] = [...platform.notes.values()];
      expect(stored).toMatchObject({ attribute_abstract: note.abstract, content: note.content, objects: [COVERAGE_ID], labels: [platform.labelId('coverage-regression')] });
      expect(platform.coverageWrites).toBe(1);

      // The re-triggered run syncs the same wish: nothing is written, so nothing re-triggers again.
      const calls = platform.calls.length;
      expect(await api.sync(COVERAGE_STD, note)).toEqual({ found: true, actions: [] });
      expect(platform.calls.slice(calls)).toEqual(['RegressionMarks']);

      // A second regression changes the note only: the coverage itself is not written.
      expect(await api.sync(COVERAGE_ID, { ...note, content: `${note.content}\ndata source windows/process_access no longer collected` })).toEqual({ found: true, actions: ['note-updated'] });
      expect(platform.coverageWrites).toBe(1);
      expect(platform.notes.size).toBe(1);

      expect(await api.sync(COVERAGE_ID, null)).toEqual({ found: true, actions: ['label-removed', 'note-deleted'] });
      expect(platform.coverageLabelValues()).toEqual([]);
      expect(platform.notes.size).toBe(0);
      expect(await api.sync(COVERAGE_ID, null)).toEqual({ found: true, actions: [] });
      expect(platform.coverageWrites).toBe(2);
    });

    it('leaves other notes and labels alone and removes a duplicate of its own note', async () => {
      const platform = stubPlatform(schema);
      const api = createRegressionApi({ gql: platform.gql, label: 'coverage-regression' });
      await api.sync(COVERAGE_ID, { abstract: 'a', content: 'one' });
      const ours = platform.labelId('coverage-regression')!;
      platform.addNote({ attribute_abstract: 'analyst', content: 'analyst note', objects: [COVERAGE_ID], labels: [] });
      platform.addNote({ attribute_abstract: 'a', content: 'one', objects: [COVERAGE_ID], labels: [ours] });
      expect(await api.sync(COVERAGE_ID, { abstract: 'a', content: 'one' })).toEqual({ found: true, actions: ['note-deleted'] });
      expect([...platform.notes.values()].map((n) => n.content).sort()).toEqual(['analyst note', 'one']);
      expect(await api.sync(COVERAGE_ID, null)).toEqual({ found: true, actions: ['label-removed', 'note-deleted'] });
      expect([...platform.notes.values()].map((n) => n.content)).toEqual(['analyst note']);
    });

    it('reports a coverage the platform no longer has', async () => {
      const platform = stubPlatform(schema);
      platform.deleteCoverage();
      expect(await createRegressionApi({ gql: platform.gql }).sync(COVERAGE_ID, { abstract: 'a', content: 'b' })).toEqual({ found: false, actions: [] });
    });
  });
});
