import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PROJECT_DIR } from '../support/env';

/**
 * jest only counts skipped tests; the reason is printed by describeWhen / itWhen (test/support/env.ts)
 * and describeWithBrowser (test/support/browser.ts). A bare .skip elsewhere would skip in silence.
 */
const BARE_SKIP = /^(?!\s*(\/\/|\*)).*(\b(describe|it|test)\.skip\b|\bx(it|describe|test)\()/;
const ALLOWED = new Set(['test/support/env.ts', 'test/support/browser.ts']);

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? (name === 'fixtures' ? [] : filesUnder(path)) : name.endsWith('.ts') ? [path] : [];
  });
}

export function bareSkips(file: string, source: string): string[] {
  return source.split('\n').flatMap((line, i) => (BARE_SKIP.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : []));
}

describe('skipped tests say why', () => {
  it('no test file skips with a bare .skip (describeWhen / itWhen print the reason)', () => {
    const files = filesUnder(join(PROJECT_DIR, 'test'))
      .map((f) => relative(PROJECT_DIR, f))
      .filter((f) => !ALLOWED.has(f) && !f.endsWith('skip-reasons.test.ts'));
    expect(files.flatMap((f) => bareSkips(f, readFileSync(join(PROJECT_DIR, f), 'utf8')))).toEqual([]);
  });

  it('catches describe.skip, it.skip, test.skip and xit, not comments that mention them', () => {
    const source = [
      "(ok ? describe : describe.skip)('TLS', () => {",
      "  it.skip('later', () => undefined);",
      "test.skip.each([[1]])('x %s', () => undefined);",
      "xit('old', () => undefined);",
      '  // describe.skip still runs the body',
      ' * it.skip in a doc comment',
      "describeWhen(hasOpenssl(), REASON)('TLS', () => {",
    ].join('\n');
    expect(bareSkips('x.test.ts', source).map((l) => l.split(':')[1])).toEqual(['1', '2', '3', '4']);
  });
});
