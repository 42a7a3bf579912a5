import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PROJECT_DIR } from '../../support/env';

/** `npm run demo` runs the built CLI (about a second), rebuilding only when a source is newer. */

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { staleReason } = require(join(PROJECT_DIR, 'scripts/built-cli.js')) as { staleReason: (root: string) => 'missing' | 'changed' | undefined };

describe('npm run demo', () => {
  it('runs scripts/demo.js (the built CLI), not ts-node, with the README example inputs', () => {
    const pkg = JSON.parse(readFileSync(join(PROJECT_DIR, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.demo).toBe('node scripts/demo.js');
    const demo = readFileSync(join(PROJECT_DIR, 'scripts/demo.js'), 'utf8');
    expect(demo).not.toMatch(/ts-node/);
    for (const input of ['config/examples/report-apt-example.json', 'config/examples/rules', 'config/examples/controls.yml', 'config/examples/data-sources.yml', 'config/examples/validation.yml']) {
      expect(demo).toContain(`'${input}'`);
    }
  });

  describe('rebuilds only when needed', () => {
    const root = mkdtempSync(join(tmpdir(), 'built-cli-'));
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    const write = (path: string, at: number): void => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), '');
      utimesSync(join(root, path), at, at);
    };

    it('builds when dist/ is missing, not when it is newer than every source, again after a source changes', () => {
      write('src/cli/index.ts', 1000);
      write('schemas/config.ts', 1000);
      write('package.json', 1000);
      expect(staleReason(root)).toBe('missing');
      write('dist/src/cli/index.js', 2000);
      expect(staleReason(root)).toBeUndefined();
      write('src/domain/deep/file.ts', 3000);
      expect(staleReason(root)).toBe('changed');
    });
  });
});
