import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PROJECT_DIR } from '../support/env';

/**
 * Every GraphQL document and request lives under src/adapters/opencti/ (small typed functions); the
 * app and the CLI call those, so a platform change is fixed in one folder.
 */
const SRC = join(PROJECT_DIR, 'src');
const OPENCTI = join(SRC, 'adapters/opencti');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : name.endsWith('.ts') ? [path] : [];
  });
}

export function graphqlOutsideAdapter(file: string, source: string): string[] {
  const problems: string[] = [];
  const rel = relative(PROJECT_DIR, file);
  if (/from '[^']*\/opencti\/documents'/.test(source)) problems.push(`${rel} imports the GraphQL documents`);
  if (/\bgql\??\.request\s*[<(]/.test(source)) problems.push(`${rel} sends a GraphQL request itself`);
  if (/\/\*\s*GraphQL\s*\*\/\s*`/.test(source)) problems.push(`${rel} holds a GraphQL document`);
  return problems;
}

describe('GraphQL boundary', () => {
  it('keeps documents and requests in src/adapters/opencti/', () => {
    const files = filesUnder(SRC).filter((f) => !f.startsWith(`${OPENCTI}/`));
    expect(files.length).toBeGreaterThan(50);
    expect(files.flatMap((f) => graphqlOutsideAdapter(f, readFileSync(f, 'utf8')))).toEqual([]);
  });

  it('catches what it is meant to catch', () => {
    const f = join(SRC, 'app/x.ts');
    expect(graphqlOutsideAdapter(f, "import { WORK_ADD } from '../adapters/opencti/documents';")).toEqual(['src/app/x.ts imports the GraphQL documents']);
    expect(graphqlOutsideAdapter(f, 'await ctx.gql.request<{ a: 1 }>(DOC, {});')).toEqual(['src/app/x.ts sends a GraphQL request itself']);
    expect(graphqlOutsideAdapter(f, 'const Q = /* GraphQL */ `query A { a }`;')).toEqual(['src/app/x.ts holds a GraphQL document']);
    expect(graphqlOutsideAdapter(f, 'await http.request<T>("GET", "/x");')).toEqual([]);
  });
});
