import type { GraphQLClient } from './graphql-client';

/**
 * Marks a regressed coverage in OpenCTI and clears the mark when it recovers: a label (default
 * `coverage-regression`) on the coverage and one Note attached to it with the causes, the note
 * carrying the same label so we find it again. `sync` reads what the platform holds first and writes
 * only the difference, so calling it twice with the same wish writes nothing the second time.
 *
 * Adding the label changes the coverage, which re-triggers its enrichment once (platform-behaviour.md
 * §2); the caller syncs only when its regression state changed, so that run finds nothing to do.
 * Every document calls each Mutation field once and each Query field once (the platform's alias rule).
 */

export const REGRESSION_DOCUMENTS = {
  RegressionMarks: /* GraphQL */ `
    query RegressionMarks($id: String!) {
      securityCoverage(id: $id) {
        id
        standard_id
        objectLabel { id value }
        notes(first: 100) { edges { node { id attribute_abstract content objectLabel { id value } } } }
      }
    }`,
  RegressionLabelAdd: /* GraphQL */ `
    mutation RegressionLabelAdd($input: LabelAddInput!) {
      labelAdd(input: $input) { id value }
    }`,
  RegressionLabelAttach: /* GraphQL */ `
    mutation RegressionLabelAttach($id: ID!, $input: StixRefRelationshipAddInput!) {
      stixDomainObjectEdit(id: $id) { relationAdd(input: $input) { id } }
    }`,
  RegressionLabelDetach: /* GraphQL */ `
    mutation RegressionLabelDetach($id: ID!, $labelId: StixRef!) {
      stixDomainObjectEdit(id: $id) { relationDelete(toId: $labelId, relationship_type: "object-label") { id } }
    }`,
  RegressionNoteAdd: /* GraphQL */ `
    mutation RegressionNoteAdd($input: NoteAddInput!) {
      noteAdd(input: $input) { id }
    }`,
  RegressionNoteUpdate: /* GraphQL */ `
    mutation RegressionNoteUpdate($id: ID!, $input: [EditInput]!) {
      noteEdit(id: $id) { fieldPatch(input: $input) { id } }
    }`,
  RegressionNoteDelete: /* GraphQL */ `
    mutation RegressionNoteDelete($id: ID!) {
      noteEdit(id: $id) { delete }
    }`,
} as const;

export type RegressionDocumentName = keyof typeof REGRESSION_DOCUMENTS;

interface LabelRef {
  id: string;
  value: string;
}

interface MarksAnswer {
  securityCoverage: {
    id: string;
    standard_id: string;
    objectLabel?: LabelRef[] | null;
    notes?: { edges: Array<{ node: { id: string; attribute_abstract?: string | null; content: string; objectLabel?: LabelRef[] | null } }> } | null;
  } | null;
}

/** The note wanted on the coverage, or null for "no mark". */
export interface RegressionNoteText {
  abstract: string;
  content: string;
}

/** What one sync wrote, in order (empty: the platform already matched). */
export type MarkAction = 'label-added' | 'label-removed' | 'note-added' | 'note-updated' | 'note-deleted';

export interface RegressionMarker {
  /**
   * Makes the coverage carry exactly `note` (label + one labelled note), or no mark when `note` is null.
   * `coverage` is its internal or standard id. Returns false when the platform no longer has the coverage.
   */
  sync(coverage: string, note: RegressionNoteText | null): Promise<{ found: boolean; actions: MarkAction[] }>;
}

export interface RegressionApiOptions {
  gql: GraphQLClient;
  /** Label value (default `coverage-regression`). */
  label?: string;
  color?: string;
}

export const DEFAULT_REGRESSION_LABEL = 'coverage-regression';

const same = (a: string, b: string): boolean => a.trim().toLowerCase() === b.trim().toLowerCase();

export function createRegressionApi(options: RegressionApiOptions): RegressionMarker {
  const { gql } = options;
  const label = options.label ?? DEFAULT_REGRESSION_LABEL;
  const color = options.color ?? '#c62828';
  const docs = REGRESSION_DOCUMENTS;

  async function labelId(known: LabelRef | undefined): Promise<string> {
    if (known) return known.id;
    // labelAdd returns the existing label when the value is taken (the platform upserts labels by value).
    const added = await gql.request<{ labelAdd: LabelRef | null }>(docs.RegressionLabelAdd, { input: { value: label, color } });
    if (!added.labelAdd?.id) throw new Error(`labelAdd returned no label for "${label}"`);
    return added.labelAdd.id;
  }

  return {
    async sync(coverage, note) {
      const actions: MarkAction[] = [];
      const answer = await gql.request<MarksAnswer>(docs.RegressionMarks, { id: coverage });
      const current = answer.securityCoverage;
      if (!current) return { found: false, actions };
      const onCoverage = (current.objectLabel ?? []).find((l) => same(l.value, label));
      const ours = (current.notes?.edges ?? []).map((e) => e.node).filter((n) => (n.objectLabel ?? []).some((l) => same(l.value, label)));

      if (note) {
        const id = await labelId(onCoverage ?? ours.flatMap((n) => n.objectLabel ?? []).find((l) => same(l.value, label)));
        if (!onCoverage) {
          await gql.request(docs.RegressionLabelAttach, { id: current.id, input: { toId: id, relationship_type: 'object-label' } });
          actions.push('label-added');
        }
        const [keep, ...extra] = ours;
        if (!keep) {
          await gql.request(docs.RegressionNoteAdd, { input: { attribute_abstract: note.abstract, content: note.content, objects: [current.id], objectLabel: [id] } });
          actions.push('note-added');
        } else if (keep.content !== note.content || (keep.attribute_abstract ?? '') !== note.abstract) {
          await gql.request(docs.RegressionNoteUpdate, {
            id: keep.id,
            input: [
              { key: 'content', value: [note.content] },
              { key: 'attribute_abstract', value: [note.abstract] },
            ],
          });
          actions.push('note-updated');
        }
        // A crash between two writes of an earlier sync can leave a second note: one is enough.
        for (const n of extra) {
          await gql.request(docs.RegressionNoteDelete, { id: n.id });
          actions.push('note-deleted');
        }
        return { found: true, actions };
      }

      if (onCoverage) {
        await gql.request(docs.RegressionLabelDetach, { id: current.id, labelId: onCoverage.id });
        actions.push('label-removed');
      }
      for (const n of ours) {
        await gql.request(docs.RegressionNoteDelete, { id: n.id });
        actions.push('note-deleted');
      }
      return { found: true, actions };
    },
  };
}
