import { existsSync, readFileSync } from 'node:fs';
import {
  buildSchema,
  getVariableValues,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isUnionType,
  Kind,
  parse,
  specifiedRules,
  validate,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { createValidation } from 'graphql-no-alias';
import { DOCUMENTS } from '../../src/adapters/opencti/documents';
import { ALIAS_PERMISSIONS } from '../support/fake-opencti/platform-rules';
import { FAKE_OPENCTI_SDL } from '../support/fake-opencti/schema';
import { describeWhen, sharedPath } from '../support/env';

/**
 * Every GraphQL document the connector sends validates against OpenCTI 6.9.17 and 7.260817.0
 * (../shared) with the platform's alias rule, sample variables coerce, and the stand-in platform's
 * hand-written schema is a faithful subset of the real ones.
 */

const REAL_SCHEMA_FILES = [
  ['6.9.17', sharedPath('reference', 'opencti-schema.graphql')],
  ['7.260817.0', sharedPath('reference', 'opencti-schema-7.260817.graphql')],
] as const;
const describeWithRealSchema = describeWhen(REAL_SCHEMA_FILES.every(([, f]) => existsSync(f)), 'the OpenCTI schemas under ../shared/reference are absent').each(REAL_SCHEMA_FILES);
const aliasRule = createValidation({ permissions: ALIAS_PERMISSIONS }).validation;

const fakeSchema = buildSchema(FAKE_OPENCTI_SDL);

/** Sample variables for each operation, shaped like what the connector sends. */
const SAMPLE_VARIABLES: Record<string, Record<string, unknown>> = {
  RegisterConnector: {
    input: {
      id: '6f0c3c7e-8a1d-4f7e-9d55-2b4c1e0a9f11',
      name: 'Coverage Assessor',
      type: 'INTERNAL_ENRICHMENT',
      scope: ['security-coverage'],
      auto: true,
      auto_update: true,
      enrichment_resolution: 'stix_bundle',
      only_contextual: false,
      playbook_compatible: false,
      listen_callback_uri: null,
    },
  },
  PingConnector: {
    id: '6f0c3c7e-8a1d-4f7e-9d55-2b4c1e0a9f11',
    state: null,
    connectorInfo: { run_and_terminate: false, buffering: false, queue_threshold: 500, queue_messages_size: 0, next_run_datetime: null, last_run_datetime: null },
  },
  WorkToReceived: { id: 'work_1', message: 'started' },
  WorkToProcessed: { id: 'work_1', message: 'done', inError: false },
  WorkAddExpectations: { id: 'work_1', expectations: 4 },
  WorkReceivedAddExpectations: { id: 'work_1', expectations: 4, message: 'started' },
  WorkPing: { id: 'work_1' },
  WorkExpected: { id: 'work_1' },
  CoverageState: { id: 'security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30', first: 500 },
  CoverageRelationships: { id: 'security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30', first: 500, after: null },
  ContainerAttackPatterns: { id: 'report--f2b63e80-b523-4747-a069-35c002c690db', first: 500, after: 'MQ==' },
  RelatedAttackPatterns: { fromId: ['intrusion-set--1'], first: 500, after: null },
  StixBundlePush: { connectorId: '6f0c3c7e-8a1d-4f7e-9d55-2b4c1e0a9f11', bundle: '{"type":"bundle","objects":[]}', work_id: null },
  StixBundlePushReceived: { connectorId: '6f0c3c7e-8a1d-4f7e-9d55-2b4c1e0a9f11', bundle: '{"type":"bundle","objects":[]}', work_id: 'work_1', workId: 'work_1', message: 'started' },
  // Scheduler block (src/app/scheduler/scheduler-platform.ts)
  ScheduleCoverages: { first: 100, after: null, withJobs: false },
  ScheduleCoverage: { id: 'security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30' },
  ScheduleAskEnrichment: { id: 'security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30', connectorId: '6f0c3c7e-8a1d-4f7e-9d55-2b4c1e0a9f11' },
  // Operator block (src/app/operator/operator.ts)
  OperatorConnector: { id: '6f0c3c7e-8a1d-4f7e-9d55-2b4c1e0a9f11' },
  OperatorCoverages: { first: 100, after: null },
  OperatorCoverageBundle: { id: 'security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30' },
  WorkAdd: { connectorId: '6f0c3c7e-8a1d-4f7e-9d55-2b4c1e0a9f11', friendlyName: 'Manual enrichment (coverage-connector retrigger)' },
  PlatformVersion: {},
  PlatformSchemaFacts: {},
  RelationshipDelete: { id: '5c2f1e9a-0d3b-4e7a-9f11-2b4c1e0a9f11' },
  // Gap prevalence (src/adapters/opencti/technique-prevalence-api.ts)
  TechniqueUses: { fromTypes: ['Intrusion-Set', 'Campaign'], fromId: null, first: 500, after: null },
  TargetingAdversaries: { toId: ['identity--7b82b010-b1c0-4dae-981f-7756374a17df'], first: 500, after: 'MQ==' },
  ReportTechniques: { first: 100, after: null, perReport: 500 },
};

/** True when every root field of the document exists in the fake schema (the fake serves it). */
function servedByFake(source: string): boolean {
  const op = parse(source).definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const root = op?.operation === 'mutation' ? fakeSchema.getMutationType() : fakeSchema.getQueryType();
  return !!op && !!root && op.selectionSet.selections.every((sel) => sel.kind === Kind.FIELD && !!root.getFields()[sel.name.value]);
}

function check(schema: GraphQLSchema, source: string, variables?: Record<string, unknown>): string[] {
  const document = parse(source);
  const errors = validate(schema, document, [...specifiedRules, aliasRule]).map((e) => e.message);
  const op = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (variables && op?.variableDefinitions) {
    const coerced = getVariableValues(schema, op.variableDefinitions, variables);
    if (coerced.errors) errors.push(...coerced.errors.map((e) => e.message));
  }
  return errors;
}

describe('GraphQL documents against the fake platform schema', () => {
  it('has sample variables for every document', () => {
    expect(Object.keys(SAMPLE_VARIABLES).sort()).toEqual(Object.keys(DOCUMENTS).sort());
  });

  it('serves every document the daemon sends', () => {
    for (const name of ['RegisterConnector', 'PingConnector', 'WorkToProcessed', 'CoverageState', 'ContainerAttackPatterns', 'StixBundlePush']) {
      expect([name, servedByFake(DOCUMENTS[name])]).toEqual([name, true]);
    }
  });

  it.each(Object.entries(DOCUMENTS).filter(([, source]) => servedByFake(source)))('%s validates and its variables coerce', (name, source) => {
    expect(check(fakeSchema, source, SAMPLE_VARIABLES[name])).toEqual([]);
  });
});

describeWithRealSchema('GraphQL documents against the OpenCTI %s schema and alias rule', (_version, file) => {
  // Built in beforeAll: describe.skip still runs this body, and the file is absent in a user's clone.
  let real: ReturnType<typeof buildSchema>;
  beforeAll(() => {
    real = buildSchema(readFileSync(file, 'utf8'));
  });

  it('refuses a document calling one Query field three times, as the platform does', () => {
    const source = 'query Three { a: __type(name: "Work") { name } b: __type(name: "Query") { name } c: __type(name: "Report") { name } }';
    expect(check(real, source).join(' ')).toMatch(/Allowed number of calls for Query->__type has been exceeded \(max: 2\)/);
  });

  it.each(Object.entries(DOCUMENTS))('%s validates and its variables coerce', (name, source) => {
    expect(check(real, source, SAMPLE_VARIABLES[name])).toEqual([]);
  });

  it('rejects a non-integer score, as the platform does', () => {
    const errors = check(real, 'mutation A($input: SecurityCoverageAddInput!) { securityCoverageAdd(input: $input) { id } }', {
      input: { name: 'ab', objectCovered: 'report--x', auto_enrichment_disable: false, coverage_information: [{ coverage_name: 'DETECTION', coverage_score: 66.67 }] },
    });
    expect(errors.join(' ')).toContain('Int cannot represent non-integer value');
  });

  it('the fake schema is a subset of the real one: every type, field, argument and type reference identical', () => {
    const problems: string[] = [];
    for (const type of Object.values(fakeSchema.getTypeMap())) {
      if (type.name.startsWith('__') || ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(type.name)) continue;
      const twin = real.getType(type.name);
      if (!twin) {
        problems.push(`type ${type.name} missing`);
        continue;
      }
      if (twin.constructor !== type.constructor) problems.push(`${type.name}: kind differs`);
      if (isScalarType(type)) continue;
      if (isEnumType(type) && isEnumType(twin)) {
        const realValues = twin.getValues().map((v) => v.name);
        for (const v of type.getValues()) if (!realValues.includes(v.name)) problems.push(`${type.name}.${v.name} missing`);
      }
      if (isUnionType(type) && isUnionType(twin)) {
        const members = twin.getTypes().map((t) => t.name);
        for (const m of type.getTypes()) if (!members.includes(m.name)) problems.push(`${type.name} lacks member ${m.name}`);
      }
      if (isInputObjectType(type) && isInputObjectType(twin)) {
        const fields = twin.getFields();
        for (const f of Object.values(type.getFields())) {
          if (!fields[f.name]) problems.push(`${type.name}.${f.name} missing`);
          else if (String(fields[f.name].type) !== String(f.type)) problems.push(`${type.name}.${f.name}: ${String(f.type)} ≠ ${String(fields[f.name].type)}`);
        }
        for (const f of Object.values(fields)) {
          if (isNonNullType(f.type) && f.defaultValue === undefined && !type.getFields()[f.name]) problems.push(`${type.name}.${f.name} (required) not in the fake`);
        }
      }
      if ((isObjectType(type) || isInterfaceType(type)) && (isObjectType(twin) || isInterfaceType(twin))) {
        const realInterfaces = twin.getInterfaces().map((i) => i.name);
        for (const i of type.getInterfaces()) if (!realInterfaces.includes(i.name)) problems.push(`${type.name} does not implement ${i.name}`);
        const fields = twin.getFields();
        for (const f of Object.values(type.getFields())) {
          const rf = fields[f.name];
          if (!rf) {
            problems.push(`${type.name}.${f.name} missing`);
            continue;
          }
          if (String(rf.type) !== String(f.type)) problems.push(`${type.name}.${f.name}: ${String(f.type)} ≠ ${String(rf.type)}`);
          for (const a of f.args) {
            const ra = rf.args.find((x) => x.name === a.name);
            if (!ra) problems.push(`${type.name}.${f.name}(${a.name}) missing`);
            else if (String(ra.type) !== String(a.type)) problems.push(`${type.name}.${f.name}(${a.name}): ${String(a.type)} ≠ ${String(ra.type)}`);
          }
          for (const ra of rf.args) {
            if (isNonNullType(ra.type) && ra.defaultValue === undefined && !f.args.some((a) => a.name === ra.name)) {
              problems.push(`${type.name}.${f.name}(${ra.name}) required but not in the fake`);
            }
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
