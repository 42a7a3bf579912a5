import { parse, validate, type GraphQLSchema } from 'graphql';
import { createRegressionApi, REGRESSION_DOCUMENTS } from '../../src/adapters/opencti/regression-api';
import { describeWithShared } from '../support/env';
import { COVERAGE_ID, COVERAGE_STD, loadMarkSchema, MARK_SCHEMAS, overAliasLimit, stubPlatform } from '../support/opencti-marks-stub';

/** The regression marks on a coverage, executed against the platform's real schemas (6.9 and 7.2608). */

it('every document keeps to the platform alias limits', () => {
  for (const [name, source] of Object.entries(REGRESSION_DOCUMENTS)) expect([name, overAliasLimit(source)]).toEqual([name, []]);
  expect(overAliasLimit('mutation M { a: labelAdd(input: {value: "x"}) { id } b: labelAdd(input: {value: "y"}) { id } }')).toEqual(['mutation field labelAdd used 2 times']);
});

describeWithShared('regression marks on a coverage', () => {
  describe.each(MARK_SCHEMAS)('OpenCTI %s schema', (_version, file) => {
    let schema: GraphQLSchema;
    beforeAll(() => {
      schema = loadMarkSchema(file);
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
