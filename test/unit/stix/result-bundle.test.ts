import type { AssessmentResult, TechniqueAssessment } from '../../../src/domain/assessment/assessment-types';
import { buildResultBundle } from '../../../src/domain/stix/result-bundle';
import { request } from '../scoring/evidence-fixtures';

const COVERAGE = 'security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30';
const AP = 'attack-pattern--dcaa092b-7de9-4a21-977f-7fcb77e89c48';
const AP2 = 'attack-pattern--00000000-0000-4000-8000-000000000002';
const NOW = new Date('2026-02-12T10:00:00.000Z');
const validity = { lastResult: '2026-02-12T09:00:00.000Z', validFrom: '2026-02-12T09:00:00.000Z', validTo: '2026-02-13T09:00:00.000Z' };

const technique = (overrides: Partial<TechniqueAssessment> & { techniqueId: string }): TechniqueAssessment => ({
  tested: true,
  why: [],
  rules: [],
  controls: [],
  source: 'embedded',
  ...overrides,
});

function result(techniques: TechniqueAssessment[], overall = [{ name: 'PREVENTION', score: 50 }, { name: 'DETECTION', score: 75 }]): AssessmentResult {
  return { backend: 'embedded', runAt: NOW.toISOString(), techniques, overall, gaps: [], warnings: [] };
}

const req = request(
  [
    { techniqueId: 'T1134', stixId: AP },
    { techniqueId: 'T1531', stixId: AP2 },
    { techniqueId: 'T1999' },
  ],
  { created: '2026-02-10T09:12:00.000Z', periodicity: 'P1D', duration: 'P30D', typeAffinity: 'ENDPOINT', platformsAffinity: ['windows'] },
);
const res = result([
  technique({ techniqueId: 'T1134', stixId: AP, detection: 75, prevention: 50 }),
  technique({ techniqueId: 'T1531', stixId: AP2, tested: false }),
  technique({ techniqueId: 'T1999', detection: 10 }),
]);

describe('buildResultBundle (protocol §7)', () => {
  const bundle = buildResultBundle(req, res, { now: NOW, validity, externalUri: 'https://assessor.example.org/coverages/08513b4e' });

  it('echoes the coverage with the complete integer score list, the validity window and external_uri', () => {
    expect(bundle.objects[0]).toEqual({
      type: 'security-coverage',
      spec_version: '2.1',
      id: COVERAGE,
      name: 'APT-X campaign report',
      covered_ref: 'report--f2b63e80-b523-4747-a069-35c002c690db',
      created: '2026-02-10T09:12:00.000Z',
      modified: '2026-02-12T10:00:00.000Z',
      periodicity: 'P1D',
      duration: 'P30D',
      type_affinity: 'ENDPOINT',
      platforms_affinity: ['windows'],
      external_uri: 'https://assessor.example.org/coverages/08513b4e',
      last_result: '2026-02-12T09:00:00.000Z',
      valid_from: '2026-02-12T09:00:00.000Z',
      valid_to: '2026-02-13T09:00:00.000Z',
      auto_enrichment_disable: false,
      coverage: [{ name: 'PREVENTION', score: 50 }, { name: 'DETECTION', score: 75 }],
    });
  });

  it('writes a has-covered with the deterministic id and scores for a tested technique', () => {
    expect(bundle.objects[1]).toEqual({
      type: 'relationship',
      spec_version: '2.1',
      id: 'relationship--10196304-5119-306b-af05-220eaafd59cc',
      relationship_type: 'has-covered',
      source_ref: COVERAGE,
      target_ref: AP,
      created: '2026-02-12T10:00:00.000Z',
      modified: '2026-02-12T10:00:00.000Z',
      covered: true,
      coverage: [{ name: 'PREVENTION', score: 50 }, { name: 'DETECTION', score: 75 }],
    });
  });

  it('writes covered false and no coverage property for an untested technique, and nothing for one without a platform id', () => {
    const rel = bundle.objects[2];
    expect(rel).toMatchObject({ target_ref: AP2, covered: false });
    expect(rel).not.toHaveProperty('coverage');
    expect(bundle.objects).toHaveLength(3);
    for (const o of bundle.objects) {
      expect(o.spec_version).toBe('2.1');
      expect(o).not.toHaveProperty('start_time');
      expect(o).not.toHaveProperty('stop_time');
    }
  });

  it('sends only measured types, as clamped integers', () => {
    const b = buildResultBundle(req, result([technique({ techniqueId: 'T1134', stixId: AP, detection: 66.67 })], [{ name: 'DETECTION', score: 104.2 }]), { now: NOW, validity });
    expect(b.objects[0].coverage).toEqual([{ name: 'DETECTION', score: 100 }]);
    expect(b.objects[1].coverage).toEqual([{ name: 'DETECTION', score: 67 }]);
    expect(b.objects[0]).not.toHaveProperty('external_uri');
  });

  it('omits the coverage list when nothing was measured: STIX forbids empty lists, and absent clears the stored scores', () => {
    const b = buildResultBundle(req, result([], []), { now: NOW, validity: { lastResult: validity.lastResult, validFrom: validity.validFrom } });
    expect(b.objects[0]).not.toHaveProperty('coverage');
    expect(b.objects[0]).not.toHaveProperty('valid_to');
    expect(b.objects[0].created).toBe('2026-02-10T09:12:00.000Z');
  });

  it('is byte-identical for the same inputs and gets a different id for different scores', () => {
    const again = buildResultBundle(req, res, { now: NOW, validity, externalUri: 'https://assessor.example.org/coverages/08513b4e' });
    expect(JSON.stringify(again)).toBe(JSON.stringify(bundle));
    expect(bundle.id).toMatch(/^bundle--/);
    expect(bundle.spec_version).toBe('2.1');
    const other = buildResultBundle(req, result(res.techniques, [{ name: 'DETECTION', score: 1 }]), { now: NOW, validity });
    expect(other.id).not.toBe(bundle.id);
  });

  it('adds a SecurityPlatform identity per contributing backend with its scores when asked', () => {
    const combined: AssessmentResult = {
      ...res,
      backend: 'openaev+embedded',
      techniques: [technique({ techniqueId: 'T1134', stixId: AP, detection: 100, source: 'openaev' }), technique({ techniqueId: 'T1531', stixId: AP2, detection: 20, source: 'embedded' })],
      sources: [
        { backend: 'openaev', runAt: NOW.toISOString(), techniquesScored: 1 },
        { backend: 'embedded', runAt: NOW.toISOString(), techniquesScored: 1 },
      ],
    };
    const b = buildResultBundle(req, combined, { now: NOW, validity, platformIdentities: true });
    const identities = b.objects.filter((o) => o.type === 'identity');
    expect(identities.map((i) => [i.name, i.identity_class])).toEqual([
      ['openaev', 'securityplatform'],
      ['embedded', 'securityplatform'],
    ]);
    const toOpenAev = b.objects.find((o) => o.type === 'relationship' && o.target_ref === identities[0].id);
    expect(toOpenAev?.coverage).toEqual([{ name: 'DETECTION', score: 100 }]);
  });
});
