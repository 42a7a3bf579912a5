import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { PROJECT_DIR } from '../../support/env';

/**
 * package.json says what the code uses, no more and no less: a runtime dependency nobody imports
 * still ships in the image (date-fns alone was 28 of 32 MB), and an import that is not declared (or
 * only declared for development) works on a developer's machine and breaks in the production image,
 * which installs `--omit=dev`.
 */

interface PackageJson {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  scripts?: Record<string, string>;
}

/** Every static import, dynamic import, require and re-export; `typeOnly` when erased at compile time. */
const IMPORT = /(^[ \t]*import\s+type\s[^'"]*?from\s*|^[ \t]*import\s[^'"]*?from\s*|^[ \t]*import\s*|require\(\s*|import\(\s*|^[ \t]*export\s+type\s[^'"]*?from\s*|^[ \t]*export\s[^'"]*?from\s*)['"]([@\w][\w.\-/@:]*)['"]/gm;
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

export interface ImportRef {
  file: string;
  pkg: string;
  typeOnly: boolean;
}

/** `lodash/fp` → lodash, `@scope/name/sub` → @scope/name; relative paths and builtins → undefined. */
export function packageOf(spec: string): string | undefined {
  if (spec.startsWith('.') || spec.startsWith('/') || BUILTINS.has(spec) || BUILTINS.has(spec.split('/')[0])) return undefined;
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

export function importsOf(file: string, source: string): ImportRef[] {
  // Comments may quote import lines (documentation); they are not imports.
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const refs: ImportRef[] = [];
  for (const match of code.matchAll(IMPORT)) {
    // A quote still open on the line before the match: the "import" is inside a string (a test's sample).
    const lineStart = code.lastIndexOf('\n', match.index) + 1;
    const before = code.slice(lineStart, match.index);
    if (((before.match(/['"`]/g) ?? []).length) % 2 === 1) continue;
    const pkg = packageOf(match[2]);
    if (pkg) refs.push({ file, pkg, typeOnly: /^\s*(import|export)\s+type\s/.test(match[1]) });
  }
  return refs;
}

function filesUnder(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    if (name === 'node_modules' || name === 'fixtures') return [];
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : /\.(ts|js|cjs|mjs)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

const importsUnder = (...dirs: string[]): ImportRef[] =>
  dirs.flatMap((d) => filesUnder(join(PROJECT_DIR, d))).flatMap((f) => importsOf(relative(PROJECT_DIR, f), readFileSync(f, 'utf8')));

/** The required (not optional) peer dependencies of an installed package: it loads them at run time. */
function requiredPeersOf(name: string): string[] {
  try {
    const manifest = JSON.parse(readFileSync(join(PROJECT_DIR, 'node_modules', name, 'package.json'), 'utf8')) as {
      peerDependencies?: Record<string, string>;
      peerDependenciesMeta?: Record<string, { optional?: boolean }>;
    };
    return Object.keys(manifest.peerDependencies ?? {}).filter((peer) => manifest.peerDependenciesMeta?.[peer]?.optional !== true);
  } catch {
    return [];
  }
}

/**
 * The problems with a package.json against the imports of production code and of tooling. `peers`
 * maps a package to the peers it requires: a runtime dependency's required peer (graphql for
 * graphql-request) is a runtime dependency even though src/ does not import it.
 */
export function dependencyProblems(pkg: PackageJson, production: ImportRef[], tooling: ImportRef[], toolingText: string, peers: Record<string, string[]> = {}): string[] {
  const deps = new Set(Object.keys(pkg.dependencies ?? {}));
  const devDeps = new Set(Object.keys(pkg.devDependencies ?? {}));
  const problems: string[] = [];

  for (const ref of production) {
    if (deps.has(ref.pkg)) continue;
    if (ref.typeOnly && devDeps.has(ref.pkg)) continue;
    problems.push(devDeps.has(ref.pkg) ? `${ref.file} imports ${ref.pkg}, a devDependency: the production image does not install it` : `${ref.file} imports ${ref.pkg}, which package.json does not declare`);
  }
  for (const ref of tooling) {
    if (!deps.has(ref.pkg) && !devDeps.has(ref.pkg)) problems.push(`${ref.file} imports ${ref.pkg}, which package.json does not declare`);
  }

  const runtimeUsed = new Set(production.filter((r) => !r.typeOnly).map((r) => r.pkg));
  const peerOfUsed = new Set([...runtimeUsed].filter((p) => deps.has(p)).flatMap((p) => peers[p] ?? []));
  for (const dep of deps) {
    if (runtimeUsed.has(dep) || peerOfUsed.has(dep)) continue;
    const elsewhere = production.some((r) => r.pkg === dep) || tooling.some((r) => r.pkg === dep);
    problems.push(elsewhere ? `dependency ${dep} is only used by tests, tooling or types: move it to devDependencies` : `dependency ${dep} is imported nowhere in src/: drop it`);
  }

  const anyUse = new Set([...production, ...tooling].map((r) => r.pkg));
  for (const dev of devDeps) {
    if (anyUse.has(dev)) continue;
    // @types/x serves x (or node itself); tools run by name from scripts and configs (jest, ts-node, tsc).
    const typed = dev.startsWith('@types/') ? dev.slice('@types/'.length).replace(/^(.+)__(.+)$/, '@$1/$2') : undefined;
    if (typed && (typed === 'node' || anyUse.has(typed) || deps.has(typed) || devDeps.has(typed))) continue;
    if (new RegExp(`(^|[^\\w@/-])${dev.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}($|[^\\w-])`).test(toolingText)) continue;
    if (dev === 'typescript' && /\btsc\b/.test(toolingText)) continue;
    problems.push(`devDependency ${dev} is used nowhere (src, test, bench, scripts, configs, npm scripts): drop it`);
  }
  return problems;
}

describe('package.json dependencies', () => {
  const pkg = JSON.parse(readFileSync(join(PROJECT_DIR, 'package.json'), 'utf8')) as PackageJson;
  const production = importsUnder('src');
  const tooling = importsUnder('test', 'bench', 'scripts', 'schemas');
  const configs = ['jest.config.js', 'tsconfig.json', 'tsconfig.build.json']
    .map((f) => {
      try {
        return readFileSync(join(PROJECT_DIR, f), 'utf8');
      } catch {
        return '';
      }
    })
    .join('\n');
  const toolingText = `${Object.values(pkg.scripts ?? {}).join('\n')}\n${configs}`;

  it('reads the imports of the production code', () => {
    expect(production.length).toBeGreaterThan(20);
    expect(production.map((r) => r.pkg)).toEqual(expect.arrayContaining(['amqplib', 'pino', 'zod']));
  });

  it('declares every import, runtime imports as dependencies, and nothing unused', () => {
    const peers = Object.fromEntries(Object.keys(pkg.dependencies ?? {}).map((dep) => [dep, requiredPeersOf(dep)]));
    expect(dependencyProblems(pkg, production, tooling, toolingText, peers)).toEqual([]);
  });

  it('counts the peer a runtime dependency requires (graphql for graphql-request) as a runtime dependency', () => {
    expect(requiredPeersOf('graphql-request')).toContain('graphql');
    const fake: PackageJson = { dependencies: { 'graphql-request': '7', graphql: '16', 'left-pad': '1' } };
    const prod = importsOf('src/a.ts', "import { GraphQLClient } from 'graphql-request';");
    const peers = { 'graphql-request': ['graphql'], 'left-pad': ['graphql'] };
    expect(dependencyProblems(fake, prod, [], '', peers)).toEqual(['dependency left-pad is imported nowhere in src/: drop it']);
    expect(dependencyProblems(fake, prod, [], '', {})).toEqual(['dependency graphql is imported nowhere in src/: drop it', 'dependency left-pad is imported nowhere in src/: drop it']);
  });

  it('catches an undeclared import, a dev-only import in src, an unused dependency and an unused dev tool', () => {
    const fake: PackageJson = {
      dependencies: { pino: '1', 'left-pad': '1', graphql: '1' },
      devDependencies: { jest: '1', 'ts-jest': '1', typescript: '1', '@types/pino': '1', '@types/gone': '1', unused: '1' },
      scripts: { test: 'jest', build: 'tsc -p .' },
    };
    const prod = [
      ...importsOf('src/a.ts', "import pino from 'pino';\nimport { z } from 'zod/v4';\nimport { x } from 'ts-jest';\n// import 'left-pad';"),
      ...importsOf('src/b.ts', "import type { DocumentNode } from 'graphql';"),
    ];
    const tool = importsOf('test/a.test.ts', `const g = ${'req'}uire('@scope/thing/sub');\nconst sample = "import x from 'left-pad';";`);
    expect(dependencyProblems(fake, prod, tool, `jest\ntsc -p .\n${JSON.stringify({ preset: 'ts-jest' })}`)).toEqual([
      'src/a.ts imports zod, which package.json does not declare',
      'src/a.ts imports ts-jest, a devDependency: the production image does not install it',
      'test/a.test.ts imports @scope/thing, which package.json does not declare',
      'dependency left-pad is imported nowhere in src/: drop it',
      'dependency graphql is only used by tests, tooling or types: move it to devDependencies',
      'devDependency @types/gone is used nowhere (src, test, bench, scripts, configs, npm scripts): drop it',
      'devDependency unused is used nowhere (src, test, bench, scripts, configs, npm scripts): drop it',
    ]);
  });
});
