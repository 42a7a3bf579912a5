import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { PROJECT_DIR } from '../support/env';

/**
 * The domain is pure (code-style.md §1): no I/O, no logger, no adapter or app imports. This test
 * reads every file under src/domain and fails on a forbidden import, naming the file and the import.
 */
const DOMAIN = join(PROJECT_DIR, 'src/domain');
const FORBIDDEN_MODULES = [/^(node:)?fs(\/.*)?$/, /^(node:)?https?$/, /^(node:)?net$/, /^(node:)?(tls|dgram|child_process|worker_threads)$/, /^amqplib(\/.*)?$/, /^graphql-request(\/.*)?$/, /^pino(\/.*)?$/];
const FORBIDDEN_DIRS = ['src/adapters', 'src/app', 'src/cli'].map((d) => join(PROJECT_DIR, d));
const IMPORT = /(?:import\s[^'"]*?from\s*|import\s*|require\(\s*|import\(\s*|export\s[^'"]*?from\s*)['"]([^'"]+)['"]/g;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : /\.(ts|js)$/.test(name) ? [path] : [];
  });
}

function forbiddenImports(file: string, source: string): string[] {
  const problems: string[] = [];
  for (const match of source.matchAll(IMPORT)) {
    const spec = match[1];
    if (FORBIDDEN_MODULES.some((re) => re.test(spec))) problems.push(`${relative(PROJECT_DIR, file)} imports ${spec}`);
    if (spec.startsWith('.')) {
      const target = resolve(dirname(file), spec);
      if (FORBIDDEN_DIRS.some((d) => target === d || target.startsWith(`${d}/`))) problems.push(`${relative(PROJECT_DIR, file)} imports ${spec} (outside the domain)`);
    }
  }
  return problems;
}

describe('Domain purity', () => {
  const files = filesUnder(DOMAIN);

  it('finds the domain files', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it('has no I/O, logger, broker, GraphQL client, adapter or app import in src/domain', () => {
    const problems = files.flatMap((f) => forbiddenImports(f, readFileSync(f, 'utf8')));
    expect(problems).toEqual([]);
  });

  it('catches the forbidden imports it is meant to catch', () => {
    const file = join(DOMAIN, 'scoring/example.ts');
    const source = [
      "import { readFileSync } from 'node:fs';",
      "import * as fs from 'fs/promises';",
      "import pino from 'pino';",
      "import { connect } from 'amqplib';",
      "const gql = require('graphql-request');",
      "import type { Broker } from '../../adapters/amqp/broker';",
      "export { main } from '../../app/main';",
      "import { createHash } from 'node:crypto';",
      "import { overallOf } from '../assessment/combine';",
    ].join('\n');
    expect(forbiddenImports(file, source)).toEqual([
      'src/domain/scoring/example.ts imports node:fs',
      'src/domain/scoring/example.ts imports fs/promises',
      'src/domain/scoring/example.ts imports pino',
      'src/domain/scoring/example.ts imports amqplib',
      'src/domain/scoring/example.ts imports graphql-request',
      'src/domain/scoring/example.ts imports ../../adapters/amqp/broker (outside the domain)',
      'src/domain/scoring/example.ts imports ../../app/main (outside the domain)',
    ]);
  });
});
