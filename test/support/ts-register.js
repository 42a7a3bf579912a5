// `node -r test/support/ts-register.js src/cli/index.ts …`: runs the TypeScript sources in a child
// process the way `ts-node/register/transpile-only` does (TypeScript's own transpileModule with the
// project's tsconfig, no type check), but keeps each transpiled file on disk keyed by its content.
// ts-node 10 has no cache: every child a test started transpiled the ~150 modules of the CLI again
// (3 s of CPU, 6 s under load); with the cache a child starts in about 0.4 s, and typescript itself
// is loaded only when a file changed.
const { readFileSync } = require('node:fs');
const { transpiled } = require('./ts-transpile-cache');

// Stack traces name the .ts lines (the inline source maps), as under ts-node.
process.setSourceMapsEnabled(true);

require.extensions['.ts'] = function loadTs(module, filename) {
  module._compile(transpiled(filename, readFileSync(filename, 'utf8')), filename);
};
