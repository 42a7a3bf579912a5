import { coverageExternalUri, isOpenableUrl } from '../../src/domain/platform/external-uri';
import { BASELINE_PROFILE, parsePlatformVersion, platformProfileOf } from '../../src/domain/platform/platform-profile';

describe('parsePlatformVersion', () => {
  it.each([
    ['6.9.17', { major: 6, minor: 9, patch: 17 }],
    ['v6.8.3', { major: 6, minor: 8, patch: 3 }],
    ['7.260817.0', { major: 7, minor: 260817, patch: 0 }],
    ['7.260817.1-rc1', { major: 7, minor: 260817, patch: 1 }],
  ])('reads %s', (raw, expected) => {
    expect(parsePlatformVersion(raw)).toEqual({ raw, ...expected });
  });

  it.each(['', 'develop', '6', '6.9.x'])('refuses %j', (raw) => {
    expect(parsePlatformVersion(raw)).toBeUndefined();
  });
});

describe('platformProfileOf (behaviour from the schema, the version only logged)', () => {
  const released = { coverageFields: ['coverage_information', 'external_uri', 'periodicity'], resultEntity: false };

  it('gives the released model for 6.9.17 and 7.260817.0 alike, whatever the version string says', () => {
    const a = platformProfileOf('6.9.17', released);
    const b = platformProfileOf('7.260817.0', released);
    const c = platformProfileOf('99.1.0', released);
    for (const p of [a, b, c]) expect(p).toMatchObject({ securityCoverage: true, resultEntity: false, notes: [] });
  });

  it('notes a platform without the SecurityCoverage type, and one with per-source results', () => {
    expect(platformProfileOf('6.7.0', { coverageFields: null, resultEntity: false }).notes.join(' ')).toMatch(/no SecurityCoverage type .*6\.8/);
    const result = platformProfileOf('7.270101.0', { ...released, resultEntity: true });
    expect(result.resultEntity).toBe(true);
    expect(result.notes.join(' ')).toMatch(/SecurityCoverageResult .*released model/);
  });

  it('falls back to the safe behaviour, saying why, when nothing could be read', () => {
    const p = platformProfileOf(undefined, undefined, ['about { version } failed: HTTP 403']);
    expect(p).toMatchObject({ version: 'unknown', securityCoverage: true, resultEntity: false });
    expect(p.notes).toEqual(['about { version } failed: HTTP 403', expect.stringMatching(/schema not readable: assuming the released/)]);
    expect(BASELINE_PROFILE).toMatchObject({ securityCoverage: true, resultEntity: false });
  });
});

describe('coverage external_uri', () => {
  const coverage = { standardId: 'security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30', internalId: 'f1e2d3c4-0000-4000-8000-000000000001' };

  it('links the connector report page when a public URL is set, else the coverage page in OpenCTI', () => {
    expect(coverageExternalUri({ connectorPublicUrl: 'https://coverage.example.org/', platformPublicUrl: 'http://opencti:8080' }, coverage)).toBe(
      'https://coverage.example.org/coverages/08513b4e-a87f-5f2e-aeda-afc159d47d30',
    );
    expect(coverageExternalUri({ platformPublicUrl: 'https://opencti.example.org' }, coverage)).toBe(
      'https://opencti.example.org/dashboard/analyses/security_coverages/f1e2d3c4-0000-4000-8000-000000000001',
    );
  });

  it('is always openable, and stable for a coverage (a change would re-trigger an enrichment)', () => {
    const settings = { platformPublicUrl: 'https://opencti.example.org' };
    expect(isOpenableUrl(coverageExternalUri(settings, coverage))).toBe(true);
    expect(coverageExternalUri(settings, coverage)).toBe(coverageExternalUri(settings, coverage));
    expect(isOpenableUrl('urn:opencti-connector:x/coverages/y')).toBe(false);
    expect(isOpenableUrl('ftp://x')).toBe(false);
  });
});
