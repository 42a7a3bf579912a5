import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readAttackBundle } from '../../../src/adapters/evidence/attack-catalogue-file';
import { PROJECT_DIR } from '../../support/env';

/** Small things a new user meets in the first hour: links that lead somewhere, errors that say what to do. */

const readme = readFileSync(join(PROJECT_DIR, 'README.md'), 'utf8');

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

describe('README', () => {
  it('links only to headings that exist', () => {
    const anchors = new Set([...readme.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1])));
    const links = [...readme.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(5);
    expect(links.filter((l) => !anchors.has(l))).toEqual([]);
  });

  it('keeps users\' own inputs out of git: data/ is ignored', () => {
    const ignored = readFileSync(join(PROJECT_DIR, '.gitignore'), 'utf8').split('\n').map((l) => l.trim());
    expect(ignored).toContain('/data/');
  });
});

describe('attack import of a file that is not there', () => {
  it('says where the ATT&CK bundle comes from, in one line', async () => {
    const error = await readAttackBundle(join(PROJECT_DIR, 'data/no-such-enterprise-attack.json')).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(/^ATT&CK import: \S+no-such-enterprise-attack\.json not found; download enterprise-attack-18\.1\.json from https:\/\/github\.com\/mitre-attack\/attack-stix-data/);
    expect(message).toContain('docs/getting-inputs.md');
    expect(message).not.toContain('\n');
  });
});
