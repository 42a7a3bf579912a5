// The transpile cache behind test/support/ts-register.js: TypeScript's own transpileModule with the
// project's tsconfig (no type check, as `tsc --noCheck` under isolatedModules), each output kept on
// disk keyed by the file's content, so that typescript is loaded only when a file changed.
const { createHash } = require('node:crypto');
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { dirname, join, resolve } = require('node:path');

const PROJECT_DIR = resolve(__dirname, '../..');
const TSCONFIG = join(PROJECT_DIR, 'tsconfig.json');
const CACHE_DIR = join(PROJECT_DIR, 'node_modules', '.cache', 'ts-register');

let compilerOptions;
function options() {
  if (compilerOptions) return compilerOptions;
  const ts = require('typescript');
  const parsed = ts.getParsedCommandLineOfConfigFile(TSCONFIG, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); } });
  compilerOptions = { ...parsed.options, module: ts.ModuleKind.CommonJS, sourceMap: false, inlineSourceMap: true, inlineSources: false, declaration: false, noEmit: false };
  return compilerOptions;
}

// Whatever changes the output is in the key: the tsconfig, the compiler's version, the file and its text.
const salt = createHash('sha1')
  .update(readFileSync(TSCONFIG))
  .update(JSON.parse(readFileSync(require.resolve('typescript/package.json'), 'utf8')).version)
  .digest('hex');

function transpiled(filename, source) {
  const key = createHash('sha1').update(salt).update(filename).update('\0').update(source).digest('hex');
  const cached = join(CACHE_DIR, key.slice(0, 2), `${key}.js`);
  try {
    return readFileSync(cached, 'utf8');
  } catch {
    /* not cached yet */
  }
  const ts = require('typescript');
  const out = ts.transpileModule(source, { compilerOptions: options(), fileName: filename }).outputText;
  try {
    mkdirSync(dirname(cached), { recursive: true });
    // Several test workers may write the same entry: write aside, then rename (atomic).
    const tmp = `${cached}.${process.pid}.tmp`;
    writeFileSync(tmp, out);
    renameSync(tmp, cached);
  } catch {
    /* a read-only tree: run uncached */
  }
  return out;
}

module.exports = { transpiled, PROJECT_DIR };
