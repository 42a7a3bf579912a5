import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES } from '../../src/errors';
import { PROJECT_DIR } from '../support/env';

/** Every error code operators can meet is explained in the README's error table (fastify's errors test). */
describe('README error table', () => {
  const readme = readFileSync(join(PROJECT_DIR, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('<!-- section:errors'));

  it.each(ERROR_CODES.map((c) => [c]))('documents %s in the errors section', (code) => {
    expect(section).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|`));
  });
});
