import { platformProfileOf, type PlatformProfile, type SchemaFacts } from '../../domain/platform/platform-profile';
import { PLATFORM_SCHEMA_FACTS, PLATFORM_VERSION } from './documents';
import type { GraphQLClient, RequestOptions } from './graphql-client';

/** Asks the platform what it is, once at startup (docs/compatibility.md). */
export interface PlatformProbe {
  /** Never throws: what could not be read becomes a note and the safe behaviour. */
  probe(options?: RequestOptions): Promise<PlatformProfile>;
}

interface VersionAnswer {
  about: { version: string } | null;
}
interface SchemaAnswer {
  coverage: { fields: Array<{ name: string }> | null } | null;
  result: { name: string } | null;
}

export function createPlatformProbe({ gql }: { gql: GraphQLClient }): PlatformProbe {
  return {
    async probe(options) {
      const [version, schema] = await Promise.allSettled([
        gql.request<VersionAnswer>(PLATFORM_VERSION, {}, options),
        gql.request<SchemaAnswer>(PLATFORM_SCHEMA_FACTS, {}, options),
      ]);
      const failure = (r: PromiseRejectedResult): string => (r.reason instanceof Error ? r.reason.message : String(r.reason));
      const notes: string[] = [];
      if (version.status === 'rejected') notes.push(`about { version } failed: ${failure(version)}`);
      if (schema.status === 'rejected') notes.push(`schema facts query failed: ${failure(schema)}`);
      const raw = version.status === 'fulfilled' ? (version.value.about?.version ?? undefined) : undefined;
      const facts: SchemaFacts | undefined =
        schema.status === 'fulfilled'
          ? {
              coverageFields: schema.value.coverage ? (schema.value.coverage.fields ?? []).map((f) => f.name) : null,
              resultEntity: schema.value.result !== null,
            }
          : undefined;
      return platformProfileOf(raw, facts, notes);
    },
  };
}
