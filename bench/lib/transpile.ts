import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

/**
 * Transpiles the project (src, schemas, test/support, bench) to plain JavaScript in `outDir`, file by
 * file (no type check: `npx tsc --noEmit` does that), so suite processes run without ts-node: the
 * TypeScript compiler would otherwise add ~80 MB to every RSS figure and noise to CPU profiles.
 * node_modules are found through NODE_PATH (see nodePathEnv).
 */

const DIRS = ['src', 'schemas', 'test/support', 'bench'];

function walk(dir: string, out: string[]): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (name === 'node_modules' || name === 'profiles' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else out.push(path);
  }
}

export function transpileProject(projectDir: string, outDir: string): { files: number } {
  const compilerOptions: ts.CompilerOptions = {
    module: ts.ModuleKind.CommonJS,
    target: ts.ScriptTarget.ES2022,
    esModuleInterop: true,
    resolveJsonModule: true,
    inlineSourceMap: true,
    inlineSources: false,
  };
  const files: string[] = [];
  for (const d of DIRS) walk(join(projectDir, d), files);
  let count = 0;
  for (const file of files) {
    const rel = relative(projectDir, file);
    const target = join(outDir, rel);
    mkdirSync(dirname(target), { recursive: true });
    if (file.endsWith('.ts') && !file.endsWith('.d.ts')) {
      const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions, fileName: file });
      writeFileSync(target.replace(/\.ts$/, '.js'), outputText);
      count += 1;
    } else if (/\.(js|json|ya?ml|toml|graphql)$/.test(file)) {
      copyFileSync(file, target);
    }
  }
  copyFileSync(join(projectDir, 'package.json'), join(outDir, 'package.json'));
  return { files: count };
}

/** Env for processes running transpiled code: resolve packages from the project's node_modules. */
export function nodePathEnv(projectDir: string): Record<string, string> {
  return { NODE_PATH: join(projectDir, 'node_modules') };
}
