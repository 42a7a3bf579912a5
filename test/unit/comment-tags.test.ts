import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PROJECT_DIR } from '../support/env';

/** Comments say why, not which team or session added a line ("added by SCHEDULER", "(OPERATOR)"). */
const TAG = /\/\/.*\b(added by|owned by)\b|\/\/.*\((SCHEDULER|OPERATOR|VERSIONS|RELIABILITY|ENGINE)[;,)]|\b(RELIABILITY|VERSIONS):|\/\/\s*(VERSIONS|OPERATOR|SCHEDULER)\b|\(owned by [A-Z]+\)|\/\/ ── end [a-z ]+ ──/;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? (name === 'fixtures' ? [] : filesUnder(path)) : /\.(ts|js)$/.test(name) ? [path] : [];
  });
}

export function taggedLines(file: string, source: string): string[] {
  return source.split('\n').flatMap((line, i) => (TAG.test(line) ? [`${relative(PROJECT_DIR, file)}:${i + 1}: ${line.trim()}`] : []));
}

describe('comments without history tags', () => {
  it('finds none in src, schemas and test', () => {
    const files = ['src', 'schemas', 'test'].flatMap((d) => filesUnder(join(PROJECT_DIR, d))).filter((f) => !f.endsWith('comment-tags.test.ts'));
    expect(files.flatMap((f) => taggedLines(f, readFileSync(f, 'utf8')))).toEqual([]);
  });

  it('catches the tags it is meant to catch, not constants that contain the words', () => {
    const f = join(PROJECT_DIR, 'src/x.ts');
    const tagged = [
      '  assertX(config); // added by SCHEDULER: bad settings stop startup',
      '  // ── operator: metrics (added by OPERATOR; docs/operating.md) ──',
      '  // Secrets scrubbed (RELIABILITY: a platform error may echo the token).',
      ' * Hooked into x.ts (owned by ENGINE) by a delimited block.',
      '  x(), // operator (OPERATOR)',
      '  // ── end scheduler ──',
    ];
    expect(taggedLines(f, tagged.join('\n'))).toHaveLength(tagged.length);
    expect(taggedLines(f, "import { OPERATOR_CONNECTOR } from './documents';\nconst FAKE_PLATFORM_VERSIONS = [];")).toEqual([]);
  });
});
