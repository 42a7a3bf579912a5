import {
  canonicalJson,
  deterministicBundleId,
  hasCoveredRelationshipId,
  javaNameUuid,
  securityCoverageId,
  securityPlatformIdentityId,
} from '../../../src/domain/ids/stix-ids';

describe('Deterministic STIX ids (protocol §1.4, §2.1)', () => {
  it('computes the platform\'s Security Coverage id of the example report', () => {
    expect(securityCoverageId('report--f2b63e80-b523-4747-a069-35c002c690db')).toBe('security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30');
  });

  it('computes the reference product\'s has-covered id (Java nameUUIDFromBytes of source + target)', () => {
    expect(hasCoveredRelationshipId('security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30', 'attack-pattern--dcaa092b-7de9-4a21-977f-7fcb77e89c48')).toBe(
      'relationship--10196304-5119-306b-af05-220eaafd59cc',
    );
  });

  it('computes the SecurityPlatform identity id with the name trimmed and lower-cased', () => {
    expect(securityPlatformIdentityId('CrowdStrike Falcon')).toBe('identity--fd6bb94b-46b7-5e41-90d0-2a0fcf171ca2');
    expect(securityPlatformIdentityId('  crowdstrike FALCON ')).toBe('identity--fd6bb94b-46b7-5e41-90d0-2a0fcf171ca2');
  });

  it('sets the version-3 and IETF-variant bits like java.util.UUID', () => {
    expect(javaNameUuid('anything')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-3[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('gives equal ids for equal inputs and distinct ids for distinct inputs', () => {
    const targets = Array.from({ length: 200 }, (_, i) => `attack-pattern--00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const ids = targets.map((t) => hasCoveredRelationshipId('security-coverage--a', t));
    expect(new Set(ids).size).toBe(ids.length);
    expect(targets.map((t) => hasCoveredRelationshipId('security-coverage--a', t))).toEqual(ids);
    const coverages = targets.map((t) => securityCoverageId(t.replace('attack-pattern', 'report')));
    expect(new Set(coverages).size).toBe(coverages.length);
  });

  it('derives the bundle id from the content only', () => {
    const objects = [{ type: 'x', id: 'x--1', b: 1, a: 2 }];
    expect(deterministicBundleId(objects)).toBe(deterministicBundleId([{ a: 2, b: 1, id: 'x--1', type: 'x' }]));
    expect(deterministicBundleId(objects)).not.toBe(deterministicBundleId([{ type: 'x', id: 'x--2' }]));
    expect(deterministicBundleId(objects)).toMatch(/^bundle--[0-9a-f-]{36}$/);
  });

  it('writes canonical JSON: sorted keys, no whitespace, undefined dropped', () => {
    expect(canonicalJson({ name: 'n', identity_class: 'c', x: undefined, nested: { b: [1, { d: 1, c: 2 }], a: null } })).toBe(
      '{"identity_class":"c","name":"n","nested":{"a":null,"b":[1,{"c":2,"d":1}]}}',
    );
  });
});
