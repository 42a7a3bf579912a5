import { existsSync, readFileSync } from 'node:fs';
import { buildSchema, parse, specifiedRules, validate, type GraphQLSchema } from 'graphql';
import { createValidation } from 'graphql-no-alias';
import { sharedPath } from '../env';
import { FAKE_OPENCTI_SDL } from './schema';

/**
 * The three platforms the stand-in plays, fact by fact (../shared/reference/platform-behaviour.md;
 * paths relative to `opencti-platform/opencti-graphql/` of OpenCTI-Platform/opencti):
 *
 * | fact                                   | 6.9 (6.9.17)  | 7.2608 (7.260817.0) | master (8c487cd) |
 * |----------------------------------------|---------------|---------------------|------------------|
 * | schema (documents validated against)   | opencti-schema.graphql | opencti-schema-7.260817.graphql | same as 7.2608 |
 * | alias rule (src/graphql/graphql.js)    | Query 2, Mutation 1 | same          | same             |
 * | expectations added on push with work id (src/database/rabbitmq.js pushBundleToWorker) | no | no | yes, one per split part |
 * | connector user must read the entity to get auto enrichments (src/domain/enrichment.js) | no | yes | yes |
 * | re-trigger on any stored change, creation, container edit (src/database/middleware.ts) | yes | yes | yes |
 * | GraphQL push keeps the draft (src/domain/stix.js sendStixBundle) | no | no | no |
 *
 * `about { version }` answers 7.260817.0 on master too: nothing may depend on the version string.
 *
 * Where the platform's source was not read, the stand-in chooses (and says so): a draft is a copy of
 * live data taken when it is opened; changes inside a draft re-trigger nothing; deletions and notes
 * written with `opencti-draft-id` stay in that draft.
 */

export type FakePlatformVersion = '6.9' | '7.2608' | 'master';

export interface PlatformRules {
  version: FakePlatformVersion;
  about: string;
  /** The platform adds one expectation per split part to a work given with a push. */
  expectationsOnPush: boolean;
  /** Auto enrichments only go to connectors whose user can read the entity. */
  accessCheck: boolean;
  /** The real schema file documents are validated against (when ../shared is present). */
  schemaFile: string;
}

export const PLATFORM_RULES: Readonly<Record<FakePlatformVersion, PlatformRules>> = {
  '6.9': { version: '6.9', about: '6.9.17', expectationsOnPush: false, accessCheck: false, schemaFile: 'opencti-schema.graphql' },
  '7.2608': { version: '7.2608', about: '7.260817.0', expectationsOnPush: false, accessCheck: true, schemaFile: 'opencti-schema-7.260817.graphql' },
  master: { version: 'master', about: '7.260817.0', expectationsOnPush: true, accessCheck: true, schemaFile: 'opencti-schema-7.260817.graphql' },
};

export const FAKE_PLATFORM_VERSIONS: readonly FakePlatformVersion[] = ['6.9', '7.2608', 'master'];

/** `about { version }`: in the real schemas too (`Query.about: AppInfo`, `AppInfo.version: String!`). */
const ABOUT_SDL = /* GraphQL */ `
extend type Query {
  about: AppInfo
}

type AppInfo {
  version: String!
}
`;

/** What the stand-in executes (a faithful subset, checked against the real schema by test/unit/graphql-contract.test.ts). */
export const EXECUTION_SDL = FAKE_OPENCTI_SDL + ABOUT_SDL;

/** The platform's batching protection (src/graphql/graphql.js, `app:graphql:batching_protection` defaults). */
export const ALIAS_PERMISSIONS = { Query: { '*': 2, subTypes: 4 }, Mutation: { '*': 1, token: 1 } };
const aliasRule = createValidation({ permissions: ALIAS_PERMISSIONS }).validation;

const schemas = new Map<string, GraphQLSchema>();
function schemaOf(key: string, sdl: () => string): GraphQLSchema {
  let schema = schemas.get(key);
  if (!schema) {
    schema = buildSchema(sdl());
    schemas.set(key, schema);
  }
  return schema;
}

/** The schema a version validates documents with: the real one when ../shared is present, else the subset. */
export function validationSchemaOf(version: FakePlatformVersion): { schema: GraphQLSchema; real: boolean } {
  const file = sharedPath('reference', PLATFORM_RULES[version].schemaFile);
  if (existsSync(file)) return { schema: schemaOf(file, () => readFileSync(file, 'utf8')), real: true };
  return { schema: schemaOf('subset', () => EXECUTION_SDL), real: false };
}

export const executionSchema = (): GraphQLSchema => schemaOf('execution', () => EXECUTION_SDL);

/** Errors the platform would answer a document with before running it (schema + alias rule); [] = accepted. */
export function rejectDocument(version: FakePlatformVersion, source: string): string[] {
  let document;
  try {
    document = parse(source);
  } catch (err) {
    return [(err as Error).message];
  }
  return validate(validationSchemaOf(version).schema, document, [...specifiedRules, aliasRule]).map((e) => e.message);
}
