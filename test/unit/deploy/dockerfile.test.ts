import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import { promisify } from 'node:util';
import { describeOptions } from '../../../src/app/config';
import { PROJECT_DIR } from '../../support/env';
import { copyOf, envOf, execForm, parseDockerfile, projectFile, readProjectFile, SECRET_NAME } from './deploy-files';
/** The transpile cache of test/support/ts-register.js (plain JS: it runs before any TypeScript can). */
const { transpiled } = require('../../support/ts-transpile-cache') as { transpiled: (file: string, source: string) => string };

const run = promisify(execFile);
const stages = parseDockerfile(readProjectFile('Dockerfile'));
const runtime = stages[stages.length - 1];
const pkg = JSON.parse(readProjectFile('package.json')) as {
  bin: Record<string, string>;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const ops = (op: string) => runtime.instructions.filter((i) => i.op === op);
const stageNamed = (name: string) => stages.find((s) => s.name === name || String(s.index) === name);
const workdir = ops('WORKDIR').at(-1)?.args ?? '/';
const entrypoint = execForm(ops('ENTRYPOINT').at(-1)?.args ?? '') ?? [];
/** The JS file the image runs, relative to WORKDIR (e.g. dist/src/cli/index.js). */
const entryScript = posix.relative(workdir, posix.resolve(workdir, entrypoint.find((a) => a.endsWith('.js')) ?? ''));

/** A compiler option of the build tsconfig, following `extends` (a path, relative to the project). */
function buildOption(name: 'outDir' | 'rootDir'): string {
  let file = projectFile('tsconfig.build.json');
  for (let i = 0; i < 5; i++) {
    const json = JSON.parse(readFileSync(file, 'utf8')) as { extends?: string; compilerOptions?: Record<string, string> };
    if (json.compilerOptions?.[name]) return relative(PROJECT_DIR, join(dirname(file), json.compilerOptions[name]));
    if (!json.extends) break;
    file = join(dirname(file), json.extends);
  }
  throw new Error(`tsconfig.build.json has no ${name}`);
}
const buildOutDir = (): string => buildOption('outDir');

describe('Dockerfile', () => {
  it('builds in several stages, all on one Node 24 LTS slim base pinned to a patch version', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.image).toMatch(/^node:24\.\d+\.\d+-[a-z]+-slim$/);
    expect(new Set(stages.map((s) => s.image)).size).toBe(1);
  });

  it('compiles with the dev dependencies in a build stage, and ships production dependencies only', () => {
    const copies = ops('COPY').map(copyOf).filter((c) => c.from);
    const modules = copies.find((c) => c.sources.some((s) => s.endsWith('node_modules')));
    expect(modules).toBeDefined();
    const depsRuns = stageNamed(modules!.from!)!.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(depsRuns.some((r) => /npm (ci|install)\b.*--omit=dev/.test(r))).toBe(true);

    const dist = copies.find((c) => c.sources.some((s) => /\/dist$/.test(s)));
    expect(dist).toBeDefined();
    const buildRuns = stageNamed(dist!.from!)!.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(buildRuns.some((r) => /npm ci\b(?!.*--omit=dev)/.test(r))).toBe(true);
    expect(buildRuns).toContain('npm run build');
    expect(pkg.scripts.build).toBe('tsc -p tsconfig.build.json');
    // nothing else crosses from the build stage into the image (no sources, no dev node_modules)
    expect(copies.filter((c) => c.from === dist!.from).flatMap((c) => c.sources)).toEqual(['/app/dist']);
  });

  it('runs as a non-root user that owns the state directory and nothing it does not write', () => {
    const user = ops('USER').at(-1)?.args.trim();
    expect(user).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(user);
    const userIndex = runtime.instructions.findIndex((i) => i.op === 'USER');
    const entryIndex = runtime.instructions.findIndex((i) => i.op === 'ENTRYPOINT');
    expect(userIndex).toBeLessThan(entryIndex);

    const env = Object.assign({}, ...ops('ENV').map(envOf)) as Record<string, string>;
    const stateDir = posix.dirname(env.SCHEDULER_STATE_FILE);
    const chown = ops('RUN').map((i) => i.args).find((r) => new RegExp(`chown (-R )?${user}:${user} .*${stateDir}`).test(r));
    expect(chown).toBeDefined();
    expect(ops('VOLUME').map((v) => v.args).join(' ')).toContain(stateDir);
    // code and dependencies stay root-owned, so a compromised process cannot rewrite them
    for (const copy of ops('COPY').map(copyOf)) expect(copy.chown).toBe('root:root');
  });

  it('declares the rules/inventory and state directories as volumes', () => {
    const env = Object.assign({}, ...ops('ENV').map(envOf)) as Record<string, string>;
    const volumes = execForm(ops('VOLUME').at(-1)?.args ?? '') ?? [];
    for (const dir of env.COVERAGE_RULES_DIRS.split(',')) expect(volumes.some((v) => dir === v || dir.startsWith(`${v}/`))).toBe(true);
    expect(volumes).toContain(posix.dirname(env.SCHEDULER_STATE_FILE));
  });

  it('runs the connector under tini so SIGTERM reaches node and in-flight jobs drain', () => {
    expect(entrypoint.slice(0, 2)).toEqual(['/usr/bin/tini', '--']);
    expect(ops('RUN').some((r) => /apt-get install .*\btini\b/.test(r.args))).toBe(true);
    expect(entrypoint[2]).toBe('node');
    expect(execForm(ops('CMD').at(-1)?.args ?? '')).toEqual(['run']);
    expect(ops('STOPSIGNAL').at(-1)?.args).toBe('SIGTERM');
  });

  it('runs the file package.json declares as the bin, under the build outDir', () => {
    expect(entryScript).toBe(Object.values(pkg.bin)[0]);
    expect(pkg.scripts.start).toBe(`node ${entryScript} run`);
    expect(entryScript.startsWith(`${buildOutDir()}/`)).toBe(true);
    const source = entryScript.slice(buildOutDir().length + 1).replace(/\.js$/, '.ts');
    expect(existsSync(projectFile(source))).toBe(true);
  });

  it('checks its health with node against /healthz on the HTTP port, with the probe it copies', () => {
    const healthcheck = ops('HEALTHCHECK').at(-1)!;
    const cmd = execForm(healthcheck.args)!;
    expect(cmd[0]).toBe('node');
    const probe = cmd[1];
    const copied = ops('COPY').map(copyOf).find((c) => posix.resolve(workdir, c.dest) === probe);
    expect(copied).toBeDefined();
    const probeSource = readProjectFile(copied!.sources[0]);
    expect(probeSource).toContain('/healthz');
    const env = Object.assign({}, ...ops('ENV').map(envOf)) as Record<string, string>;
    const defaultPort = describeOptions().find((o) => o.env === 'HTTP_PORT')!.default;
    expect(Number(env.HTTP_PORT)).toBe(defaultPort);
    expect(ops('EXPOSE').map((e) => e.args)).toContain(String(defaultPort));
  });

  it('bakes in no secret', () => {
    for (const stage of stages) {
      for (const i of stage.instructions.filter((x) => x.op === 'ENV' || x.op === 'ARG')) {
        const names = i.op === 'ENV' ? Object.keys(envOf(i)) : [i.args.split('=')[0]];
        for (const name of names) expect({ name, secret: SECRET_NAME.test(name) }).toEqual({ name, secret: false });
      }
      for (const copy of stage.instructions.filter((x) => x.op === 'COPY').map(copyOf)) {
        for (const src of copy.sources) expect(src).not.toMatch(/(^|\/)(\.env|config\.yml)$/);
      }
    }
  });
});

describe('.dockerignore', () => {
  const patterns = readProjectFile('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const toRegExp = (p: string) => new RegExp(`^${p.replace(/^\//, '').replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/.*)?$`);
  const ignored = (path: string) => patterns.some((p) => !p.startsWith('!') && toRegExp(p).test(path));

  it('keeps secrets, local state and heavy folders out of the build context', () => {
    for (const path of ['.env', '.env.local', 'config.yml', 'node_modules', 'dist', '.git', 'test', 'coverage']) {
      expect({ path, ignored: ignored(path) }).toEqual({ path, ignored: true });
    }
  });

  it('does not exclude anything the Dockerfile copies from the context', () => {
    const sources = stages.flatMap((s) => s.instructions.filter((i) => i.op === 'COPY').map(copyOf).filter((c) => !c.from).flatMap((c) => c.sources));
    expect(sources.length).toBeGreaterThan(0);
    for (const src of sources) {
      expect({ src, ignored: ignored(src) }).toEqual({ src, ignored: false });
      expect(existsSync(projectFile(src))).toBe(true);
    }
  });
});

describe('built output', () => {
  let outDir: string;
  beforeAll(() => {
    // What `npm run build` emits, file by file: TypeScript's transpileModule with the project's
    // tsconfig is the emit of `tsc --noCheck` under isolatedModules (type errors are `npm run
    // typecheck`'s job), through the transpile cache the child processes of the tests share, so an
    // unchanged tree costs no compile.
    outDir = mkdtempSync(join(tmpdir(), 'coverage-build-'));
    const { include } = JSON.parse(readProjectFile('tsconfig.build.json')) as { include: string[] };
    const rootDir = projectFile(buildOption('rootDir'));
    const emit = (path: string): void => {
      if (statSync(path).isDirectory()) {
        for (const name of readdirSync(path)) emit(join(path, name));
      } else if (path.endsWith('.ts') && !path.endsWith('.d.ts')) {
        const target = join(outDir, relative(rootDir, path)).replace(/\.ts$/, '.js');
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, transpiled(path, readFileSync(path, 'utf8')));
      }
    };
    for (const dir of include) emit(projectFile(dir));
  });
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  const emitted = (): string => join(outDir, entryScript.slice(buildOutDir().length + 1));

  it('contains the script the image runs', () => {
    expect(existsSync(emitted())).toBe(true);
  });

  it('requires at run time only Node built-ins and production dependencies', () => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name.endsWith('.js')) files.push(path);
      }
    };
    walk(outDir);
    const builtins = new Set(builtinModules);
    const offenders: string[] = [];
    for (const file of files) {
      for (const m of readFileSync(file, 'utf8').matchAll(/require\("([^"]+)"\)/g)) {
        const spec = m[1];
        if (spec.startsWith('.') || spec.startsWith('node:') || builtins.has(spec)) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (!(name in pkg.dependencies)) offenders.push(`${relative(outDir, file)} requires ${name}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('starts and offers the `run` command', async () => {
    const { stdout } = await run(process.execPath, [emitted(), '--help'], {
      env: { ...process.env, NODE_PATH: join(PROJECT_DIR, 'node_modules') },
    });
    expect(stdout).toMatch(/^\s+run\b/m);
  });
});
