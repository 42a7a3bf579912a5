import { EnrichmentMessageSchema, entityIdOf, workIdOf } from '../../schemas/message';

const coverage = {
  id: 'security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30',
  spec_version: '2.1',
  type: 'security-coverage',
  name: 'APT-X campaign report',
  covered_ref: 'report--f2b63e80-b523-4747-a069-35c002c690db',
};
const pattern = { id: 'attack-pattern--dcaa092b-7de9-4a21-977f-7fcb77e89c48', type: 'attack-pattern', name: 'PowerShell' };

/** The §3.2 body, as the platform publishes it. */
function message(overrides: { internal?: Record<string, unknown>; event?: Record<string, unknown> } = {}): Record<string, unknown> {
  return {
    internal: { work_id: 'work_6f0c3c7e_2026-02-12T10:00:00.000Z', applicant_id: null, draft_id: null, trigger: 'create', mode: 'auto', ...overrides.internal },
    event: {
      event_type: 'INTERNAL_ENRICHMENT',
      entity_id: coverage.id,
      entity_type: 'Security-Coverage',
      stix_entity: JSON.stringify(coverage),
      stix_objects: JSON.stringify({ id: '6b2d5a0e-1111-4222-8333-444455556666', spec_version: '2.1', type: 'bundle', objects: [coverage, pattern] }),
      ...overrides.event,
    },
  };
}

describe('EnrichmentMessageSchema', () => {
  it('parses the JSON strings stix_entity and stix_objects of a platform message', () => {
    const parsed = EnrichmentMessageSchema.parse(message());
    expect(parsed.event.stix_entity).toMatchObject({ id: coverage.id, covered_ref: coverage.covered_ref });
    expect(parsed.event.stix_objects?.map((o) => o.id)).toEqual([coverage.id, pattern.id]);
    expect(parsed.internal).toMatchObject({ trigger: 'create', mode: 'auto', applicant_id: null });
  });

  it('accepts stix_objects null (connector registered without stix_bundle resolution)', () => {
    expect(EnrichmentMessageSchema.parse(message({ event: { stix_objects: null } })).event.stix_objects).toBeNull();
  });

  it('accepts a manual enrichment (mode manual, trigger update) and keeps unknown keys', () => {
    const parsed = EnrichmentMessageSchema.parse(message({ internal: { mode: 'manual', trigger: 'update', extra: 1 } }));
    expect(parsed.internal.mode).toBe('manual');
    expect((parsed.internal as Record<string, unknown>).extra).toBe(1);
  });

  it('de-duplicates objects by id and skips entries without a type or an id', () => {
    const stixObjects = JSON.stringify({ type: 'bundle', objects: [pattern, pattern, { type: 'x' }, 'junk', coverage] });
    const parsed = EnrichmentMessageSchema.parse(message({ event: { stix_objects: stixObjects } }));
    expect(parsed.event.stix_objects?.map((o) => o.id)).toEqual([pattern.id, coverage.id]);
  });

  it.each([
    ['stix_entity as an object instead of a string', { event: { stix_entity: coverage } }, 'event.stix_entity'],
    ['stix_entity that is not JSON', { event: { stix_entity: '{oops' } }, 'not valid JSON'],
    ['stix_entity without an id', { event: { stix_entity: JSON.stringify({ type: 'security-coverage' }) } }, 'type and an id'],
    ['stix_objects that is not a bundle', { event: { stix_objects: JSON.stringify({ type: 'bundle' }) } }, 'objects array'],
    ['a missing entity_id', { event: { entity_id: undefined } }, 'event.entity_id'],
    [
      'an entity_id that is not the stix_entity id (one coverage read, another written)',
      { event: { entity_id: 'security-coverage--7f9b2b1e-0000-4000-8000-000000000002' } },
      'differs from stix_entity.id',
    ],
    ['an unknown mode', { internal: { mode: 'sometimes' } }, 'internal.mode'],
  ])('rejects %s', (_title, overrides, expected) => {
    const result = EnrichmentMessageSchema.safeParse(message(overrides as never));
    expect(result.success).toBe(false);
    const text = result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    expect(text).toContain(expected);
  });

  it('rejects a playbook message (no stix_entity: we register playbook_compatible false)', () => {
    const playbook = { internal: { work_id: null, playbook: { playbook_id: 'p' }, mode: 'auto' }, event: { entity_id: coverage.id, bundle: { objects: [] } } };
    expect(EnrichmentMessageSchema.safeParse(playbook).success).toBe(false);
  });
});

describe('workIdOf / entityIdOf', () => {
  it('extract ids from a body that failed validation, so the work can still be closed', () => {
    const raw = message({ event: { stix_entity: 42 } });
    expect(workIdOf(raw)).toBe('work_6f0c3c7e_2026-02-12T10:00:00.000Z');
    expect(entityIdOf(raw)).toBe(coverage.id);
    expect(workIdOf(null)).toBeUndefined();
    expect(workIdOf({ internal: { work_id: '' } })).toBeUndefined();
    expect(entityIdOf('text')).toBeUndefined();
  });
});

describe('ids that reach headers, URLs and logs', () => {
  const issuesOf = (m: Record<string, unknown>): string[] => EnrichmentMessageSchema.safeParse(m).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];

  it.each([
    ['NUL', 'a\u0000b', '\\u{0}'],
    ['CRLF (header injection)', 'd1\r\nX-Evil: 1', '\\u{d}\\u{a}'],
    ['RTL override', 'abc\u202egnp.exe', '\\u{202e}'],
    ['a space', 'draft one', '\\u'],
  ])('makes a draft_id with %s an invalid message, the value shown escaped', (_what, value, shown) => {
    const issues = issuesOf(message({ internal: { draft_id: value } }));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^internal\.draft_id: must be 1-256 letters, digits or \. _ : @ \+ -/);
    if (shown !== '\\u') expect(issues[0]).toContain(shown);
    // Nothing raw that a terminal or a header parser would act on.
    expect(issues[0]).not.toMatch(/[\u0000-\u001f\u202e]/);
  });

  it('checks work_id, applicant_id, entity_id and entity_type the same way; an empty draft or applicant id means none', () => {
    expect(issuesOf(message({ internal: { work_id: 'work\n1' } }))[0]).toMatch(/^internal\.work_id: must be/);
    expect(issuesOf(message({ internal: { applicant_id: '<script>' } }))[0]).toMatch(/^internal\.applicant_id: must be/);
    expect(issuesOf(message({ event: { entity_type: 'Security Coverage\u0000' } }))[0]).toMatch(/^event\.entity_type: must be an entity type name/);
    expect(issuesOf(message({ event: { entity_id: 'security-coverage--../../x' } })).join()).toMatch(/event\.entity_id: must be/);
    expect(EnrichmentMessageSchema.parse(message({ internal: { draft_id: '', applicant_id: '' } })).internal).toMatchObject({ draft_id: null, applicant_id: null });
  });

  it('refuses an entity_id that is not the id of stix_entity', () => {
    expect(issuesOf(message({ event: { entity_id: 'security-coverage--6f0c3c7e-8a1d-4f7e-9d55-2b4c1e0a9f11' } }))).toEqual([expect.stringMatching(/^event\.entity_id: entity_id .* differs from stix_entity\.id/)]);
  });
});
