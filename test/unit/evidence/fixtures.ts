import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_DIR } from '../../support/env';

/** Paths and text of the hand-made evidence fixtures (test/fixtures/evidence). */
export const FIXTURES = join(PROJECT_DIR, 'test/fixtures/evidence');
export const fixturePath = (...parts: string[]): string => join(FIXTURES, ...parts);
export const fixtureText = (...parts: string[]): string => readFileSync(fixturePath(...parts), 'utf8');
