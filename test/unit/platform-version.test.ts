import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, parse, validate } from 'graphql';
import { DOCUMENTS, SEVEN_X_DOCUMENTS } from '../../src/adapters/opencti/documents';
import {
  BASELINE_PROFILE,
  capabilitiesFromSchema,
  detectPlatform,
  externalUriFor,
  lineOf,
  parsePlatformVersion,
  PLATFORM_LINES,
  resultExternalUri,
  defaultInstanceUri,
  type CapabilitiesAnswer,
  type PlatformCapabilities,
} from '../../src/adapters/opencti/platform-version';
import { PROJECT_DIR, sharedPath } from '../support/env';
import { fakeSdlFor } from '../support/fake-opencti/version-modes';

/** Version parsing, the version → capabilities map, schema feature detection, and the README table. */

const SCHEMA_69: CapabilitiesAnswer = {
  work: { fields: [{ name: 'reportExpectation', args: [{ name: 'error' }] }, { name: 'toProcessed', args: [{ name: 'message' }, { name: 'inError' }] }] },
  result: null,
  connector: { fields: [{ name: 'id' }, { name: 'connector_user_id' }] },
};
const SCHEMA_7X: CapabilitiesAnswer = {
  work: { fields: [{ name: 'reportExpectation', args: [{ name: 'error' }, { name: 'expectations' }] }] },
  result: { name: 'SecurityCoverageResult' },
  connector: { fields: [{ name: 'id' }, { name: 'jwks' }] },
};

describe('parsePlatformVersion', () => {
  it.each([
    ['6.9.17', { major: 6, minor: 9, patch: 17 }],
    ['6.8.0', { major: 6, minor: 8, patch: 0 }],
    ['v6.9.22', { major: 6, minor: 9, patch: 22 }],
    ['7.26', { major: 7, minor: 26, releaseDate: '2026' }],
    ['7.260615', { major: 7, minor: 260615, releaseDate: '2026-06-15' }],
    ['7.260615.1-rc1', { major: 7, minor: 260615, patch: 1, releaseDate: '2026-06-15' }],
  ])('reads %s', (raw, expected) => {
    expect(parsePlatformVersion(raw)).toEqual({ raw, ...expected });
  });

  it.each(['', 'develop', '6', 'six.nine', '6.9.x'])('refuses %j', (raw) => {
    expect(parsePlatformVersion(raw)).toBeUndefined();
  });

  it('puts each version on its line, and versions before 6.8 on none', () => {
    const lines = ['5.12.3', '6.7.9', '6.8.0', '6.8.12', '6.9.0', '6.9.17', '6.10.1', '7.26', '7.260615', '8.1'].map(
      (v) => [v, lineOf(parsePlatformVersion(v) as NonNullable<ReturnType<typeof parsePlatformVersion>>)],
    );
    expect(lines).toEqual([
      ['5.12.3', 'unsupported'],
      ['6.7.9', 'unsupported'],
      ['6.8.0', '6.8'],
      ['6.8.12', '6.8'],
      ['6.9.0', '6.9'],
      ['6.9.17', '6.9'],
      ['6.10.1', '6.9'],
      ['7.26', '7.x'],
      ['7.260615', '7.x'],
      ['8.1', '7.x'],
    ]);
  });
});

describe('detectPlatform', () => {
  it('6.9.17 with its schema: coverage-level scores, the loop guard, 6.9 work API', () => {
    const p = detectPlatform('6.9.17', SCHEMA_69);
    expect(p.line).toBe('6.9');
    expect(p.capabilities).toEqual(PLATFORM_LINES.find((l) => l.line === '6.9')?.capabilities);
    expect(p.capabilities).toMatchObject({ resultEntity: false, retriggersOnWrite: true, workAddMultipart: false });
    expect(p.notes).toEqual([]);
  });

  it('7.260615 with its schema: Result entity, has-covered from the Result, no re-trigger, 7.x work API', () => {
    const p = detectPlatform('7.260615', SCHEMA_7X);
    expect(p.line).toBe('7.x');
    expect(p.capabilities).toMatchObject({
      resultEntity: true,
      hasCoveredFromResult: true,
      retriggersOnWrite: false,
      keepsHasCoveredIds: false,
      workAddMultipart: true,
      reportExpectationList: true,
      connectorJwks: true,
    });
    expect(p.notes).toEqual([]);
  });

  it('trusts the schema over the version, and says so', () => {
    const p = detectPlatform('6.9.30', SCHEMA_7X);
    expect(p.line).toBe('6.9');
    expect(p.capabilities).toMatchObject({ resultEntity: true, hasCoveredFromResult: true, retriggersOnWrite: false, workAddMultipart: true });
    expect(p.notes.join(' ')).toContain('schema says resultEntity=true');
  });

  it('an unreadable version falls back to the schema, then to the 6.9 baseline', () => {
    expect(detectPlatform('develop', SCHEMA_7X)).toMatchObject({ line: '7.x', capabilities: { resultEntity: true } });
    expect(detectPlatform(undefined, SCHEMA_69)).toMatchObject({ line: '6.9', version: 'unknown', capabilities: { resultEntity: false } });
    const blind = detectPlatform(undefined, undefined, ['about { version } failed: boom']);
    expect(blind.capabilities).toEqual(BASELINE_PROFILE.capabilities);
    expect(blind.notes[0]).toBe('about { version } failed: boom');
  });

  it('warns about a platform older than 6.8 and about one newer than 7.x', () => {
    expect(detectPlatform('6.7.4').notes.join(' ')).toContain('predates the Security Coverage entity');
    const eight = detectPlatform('8.2.0');
    expect(eight.line).toBe('7.x');
    expect(eight.notes.join(' ')).toContain('newer than the last tested line');
  });

  it('a version without introspection uses the line map as is', () => {
    for (const spec of PLATFORM_LINES) {
      const version = spec.line === '7.x' ? '7.26' : `${spec.line}.3`;
      expect([version, detectPlatform(version).capabilities]).toEqual([version, spec.capabilities]);
    }
  });

  it('returns a frozen profile (passed around the daemon, never edited)', () => {
    const p = detectPlatform('7.26', SCHEMA_7X);
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.capabilities)).toBe(true);
  });
});

describe('capabilitiesFromSchema', () => {
  it('reads only what the schema can show', () => {
    expect(capabilitiesFromSchema(SCHEMA_69)).toEqual({
      resultEntity: false,
      hasCoveredFromResult: false,
      reportExpectationList: false,
      workAddMultipart: false,
      connectorJwks: false,
    });
    expect(capabilitiesFromSchema({ work: null, result: { name: 'SecurityCoverageResult' }, connector: null })).toEqual({
      resultEntity: true,
      hasCoveredFromResult: true,
    });
  });
});

describe('external_uri', () => {
  const coverage = 'security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30';
  const p69 = detectPlatform('6.9.17');
  const p7 = detectPlatform('7.26');

  it('is stable per (coverage, instance) and distinct between coverages and between instances', () => {
    const a = defaultInstanceUri('6f0c3c7e-8a1d-4f7e-9d55-2b4c1e0a9f11');
    const b = defaultInstanceUri('0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d');
    expect(resultExternalUri(a, coverage)).toBe('urn:opencti-connector:6f0c3c7e-8a1d-4f7e-9d55-2b4c1e0a9f11/coverages/08513b4e-a87f-5f2e-aeda-afc159d47d30');
    expect(resultExternalUri('https://assessor.example.org/', coverage)).toBe('https://assessor.example.org/coverages/08513b4e-a87f-5f2e-aeda-afc159d47d30');
    const uris = [resultExternalUri(a, coverage), resultExternalUri(b, coverage), resultExternalUri(a, 'security-coverage--1d7e0f0e-0000-4000-8000-000000000001')];
    expect(new Set(uris).size).toBe(uris.length);
    expect(resultExternalUri(a, coverage)).toBe(resultExternalUri(a, coverage));
  });

  it('6.x keeps the backend run link or the configured one (unchanged behaviour)', () => {
    const args = { instanceUri: 'urn:x', coverageId: coverage };
    expect(externalUriFor(p69, { ...args, backendUri: 'https://openaev/simulations/42', configuredUri: 'https://cfg' })).toBe('https://openaev/simulations/42');
    expect(externalUriFor(p69, { ...args, configuredUri: 'https://cfg' })).toBe('https://cfg');
    expect(externalUriFor(p69, args)).toBeUndefined();
  });

  it('7.x always writes the stable key, never a per-run link (a run link would create a Result per run)', () => {
    const args = { instanceUri: 'urn:x', coverageId: coverage, backendUri: 'https://openaev/simulations/42' };
    expect(externalUriFor(p7, args)).toBe('urn:x/coverages/08513b4e-a87f-5f2e-aeda-afc159d47d30');
  });
});

/** The README table under `<!-- section:compatibility` lists every line with its capabilities as yes/no. */
describe('README compatibility table', () => {
  const readme = readFileSync(join(PROJECT_DIR, 'README.md'), 'utf8');
  const start = readme.indexOf('<!-- section:compatibility');
  const end = readme.indexOf('<!-- section:', start + 10);
  const section = readme.slice(start, end);
  const rows = section
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|\s*-/.test(l))
    .map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
  const header = rows[0] ?? [];
  const body = rows.slice(1);
  const capabilityKeys = Object.keys(PLATFORM_LINES[0].capabilities) as Array<keyof PlatformCapabilities>;

  it('has one column per capability of the adapter map, named by its key', () => {
    expect(header.filter((h) => /^`\w+`$/.test(h)).map((h) => h.slice(1, -1))).toEqual(capabilityKeys);
  });

  it('has one row per platform line, with exactly the adapter map values', () => {
    const expected = PLATFORM_LINES.map((spec) => [spec.line, ...capabilityKeys.map((k) => (spec.capabilities[k] ? 'yes' : 'no'))]);
    const actual = body.map((cells) => [cells[0], ...capabilityKeys.map((k) => cells[header.indexOf(`\`${k}\``)])]);
    expect(actual).toEqual(expected);
  });
});

/** 7.x-only documents are kept out of DOCUMENTS (validated against 6.9.17); here: valid on 7.x, refused by 6.9. */
describe('7.x-only GraphQL documents', () => {
  const errorsOf = (sdl: string, source: string): string[] => validate(buildSchema(sdl), parse(source)).map((e) => e.message);
  const realFile = sharedPath('reference', 'opencti-schema.graphql');

  it.each(Object.entries(SEVEN_X_DOCUMENTS))('%s validates against the fake 7.x schema and is refused by the 6.9 one', (_name, source) => {
    expect(errorsOf(fakeSdlFor('7.x'), source)).toEqual([]);
    expect(errorsOf(fakeSdlFor('6.9'), source).join(' ')).toMatch(/Unknown argument/);
    if (existsSync(realFile)) expect(errorsOf(readFileSync(realFile, 'utf8'), source).join(' ')).toMatch(/Unknown argument/);
  });

  it('the version probe documents are ordinary 6.9.17 documents, served in both fake modes', () => {
    expect(Object.keys(DOCUMENTS)).toEqual(expect.arrayContaining(['PlatformVersion', 'PlatformCapabilities']));
    for (const mode of ['6.9', '7.x'] as const) {
      expect([mode, errorsOf(fakeSdlFor(mode), DOCUMENTS.PlatformVersion), errorsOf(fakeSdlFor(mode), DOCUMENTS.PlatformCapabilities)]).toEqual([mode, [], []]);
    }
  });
});
