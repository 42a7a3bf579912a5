import { buildSchema, graphql, Kind, parse, validate, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { readFileSync } from 'node:fs';
import type { GraphQLClient } from '../../src/adapters/opencti/graphql-client';
import { sharedPath } from './env';

/**
 * A small in-process stand-in for the part of OpenCTI that regression marks touch: one coverage, its
 * labels and notes, executed against the platform's real schema (../shared). It rejects a document
 * over the platform's alias limits (each Mutation field once, each Query field twice) as the
 * platform does, and counts the writes that change the coverage (those re-trigger its enrichment).
 */

export const MARK_SCHEMAS = [
  ['6.9', 'opencti-schema.graphql'],
  ['7.2608', 'opencti-schema-7.260817.graphql'],
] as const;

export const loadMarkSchema = (file: string): GraphQLSchema => buildSchema(readFileSync(sharedPath('reference', file), 'utf8'));

export const COVERAGE_ID = 'c0ffee00-0000-4000-8000-000000000001';
export const COVERAGE_STD = 'security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30';

/** Root field → how many times it appears in each operation of the document. */
export function rootFieldCounts(source: string): Array<{ operation: string; field: string; count: number }> {
  const out: Array<{ operation: string; field: string; count: number }> = [];
  for (const def of parse(source).definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION) continue;
    const counts = new Map<string, number>();
    for (const sel of (def as OperationDefinitionNode).selectionSet.selections) if (sel.kind === Kind.FIELD) counts.set(sel.name.value, (counts.get(sel.name.value) ?? 0) + 1);
    for (const [field, count] of counts) out.push({ operation: def.operation, field, count });
  }
  return out;
}

export const overAliasLimit = (source: string): string[] =>
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

export function stubPlatform(schema: GraphQLSchema) {
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

