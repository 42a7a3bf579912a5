import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareWithBaseline, readBaseline, thresholdOf } from '../../../src/app/assess/baseline';
import { coverageRequest } from '../../support/coverage-request';
import { assessWith, edits, evidenceWith, LSASS_RULE, TECHNIQUES } from '../../support/history-fixtures';

/** Reading a result-bundle baseline: scores mapped to techniques through the assessed container. */

const dir = mkdtempSync(join(tmpdir(), 'baseline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const COVERAGE = 'security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30';
const request = coverageRequest([
  { techniqueId: 'T1003.001', stixId: 'attack-pattern--00000000-0000-4000-8000-000000000001' },
  { techniqueId: 'T1059.001', stixId: 'attack-pattern--00000000-0000-4000-8000-000000000002' },
]);

function bundleFile(objects: unknown[]): string {
  const file = join(dir, `bundle-${objects.length}.json`);
  writeFileSync(file, JSON.stringify({ type: 'bundle', id: 'bundle--1', spec_version: '2.1', objects }));
  return file;
}

const hasCovered = (target: string, detection?: number) => ({
  type: 'relationship',
  id: `relationship--${target.slice(-4)}`,
  relationship_type: 'has-covered',
  source_ref: COVERAGE,
  target_ref: target,
  ...(detection === undefined ? { covered: false } : { covered: true, coverage: [{ name: 'DETECTION', score: detection }] }),
});

describe('result-bundle baseline', () => {
  it('maps has-covered targets to the container\'s techniques and says what it could not compare', async () => {
    const file = bundleFile([
      { type: 'security-coverage', id: COVERAGE, modified: '2026-02-01T00:00:00.000Z', coverage: [{ name: 'DETECTION', score: 90 }] },
      hasCovered('attack-pattern--00000000-0000-4000-8000-000000000001', 97),
      hasCovered('attack-pattern--00000000-0000-4000-8000-000000000002'),
      hasCovered('attack-pattern--99999999-0000-4000-8000-000000000009', 50),
      { type: 'note', id: 'note--1', content: 'summary', object_refs: [COVERAGE] },
    ]);
    const baseline = await readBaseline(file, request);
    expect(baseline).toMatchObject({ format: 'result-bundle', runAt: '2026-02-01T00:00:00.000Z', coverageId: COVERAGE });
    expect(baseline.snapshot.overall).toEqual({ DETECTION: 90 });
    expect(baseline.snapshot.techniques.map((t) => [t.id, t.detection])).toEqual([
      ['T1003.001', 97],
      ['T1059.001', undefined],
    ]);
    expect(baseline.notes).toContain('1 technique(s) of the baseline are not in the assessed container and are not compared');

    const diff = compareWithBaseline(baseline, await assessWith(evidenceWith(edits.disableRule(LSASS_RULE)), TECHNIQUES), 10);
    const t = diff.changes.regressions.find((r) => r.techniqueId === 'T1003.001')!;
    expect(t.causes).toEqual([{ kind: 'rule-disabled', techniqueId: 'T1003.001', subject: LSASS_RULE, text: 'rule "LSASS Memory Access" is disabled now' }]);
  });

  it('refuses a bundle without a coverage', async () => {
    await expect(readBaseline(bundleFile([{ type: 'report', id: 'report--1' }]), request)).rejects.toThrow(/is a STIX bundle without a security-coverage object/);
  });
});

describe('thresholdOf', () => {
  it('takes the default for a bare flag and checks a given number', () => {
    expect(thresholdOf(true, 10)).toBe(10);
    expect(thresholdOf(undefined, 10)).toBe(10);
    expect(thresholdOf('25', 10)).toBe(25);
    expect(() => thresholdOf('0', 10)).toThrow('--fail-on-regression 0: the threshold must be an integer from 1 to 100 (points of score)');
    expect(() => thresholdOf('12.5', 10)).toThrow(/integer from 1 to 100/);
  });
});
