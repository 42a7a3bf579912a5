import { Command } from 'commander';
import { registerAssessCommand } from '../../src/cli/assess-command';
import { runLiveAssess } from '../../src/cli/assess-live';
import { describeWithBroker } from '../support/env';
import { createHarness, fakeAssessor, type Harness } from '../support/fake-opencti/harness';
import { envFor } from './operator-helpers';

/** `assess --coverage <id> --dry-run` against the fake platform: result and diff printed, nothing pushed. */
describeWithBroker('assess --coverage --dry-run', () => {
  /** What fakeAssessor() scores each technique with: stored as-is, the technique would not change. */
  const FAKE_SCORES = [
    { coverage_name: 'DETECTION', coverage_score: 60 },
    { coverage_name: 'PREVENTION', coverage_score: 40 },
  ];
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(() => h.close());

  async function run(coverageId: string, json: boolean): Promise<string> {
    let out = '';
    await runLiveAssess(
      { coverage: coverageId, dryRun: true, json },
      { stdout: (t) => (out += t), stderr: () => undefined, env: envFor(h.fake, h.connectorId), now: () => new Date('2026-03-01T00:00:00Z'), assessorFor: () => fakeAssessor() },
    );
    return out;
  }

  it('prints the bundle and only the scores that would change, and pushes nothing', async () => {
    const { patterns, coverage } = h.reportCoverage(['T1059', 'T1003'], { coverage: FAKE_SCORES });
    // T1059 already stored with the same scores; T1003 not yet covered.
    h.fake.state.addRelationship('has-covered', coverage.standardId, patterns[0].standardId, FAKE_SCORES);
    const result = JSON.parse(await run(coverage.standardId, true)) as { changes: unknown[]; bundle: { objects: Array<Record<string, unknown>> }; pushed: boolean };
    expect(result.pushed).toBe(false);
    const scores = [{ name: 'DETECTION', score: 60 }, { name: 'PREVENTION', score: 40 }];
    expect(result.changes).toEqual([{ target: patterns[1].standardId, before: null, after: expect.arrayContaining(scores) }]);
    expect((result.changes[0] as { after: unknown[] }).after).toHaveLength(2);
    expect(result.bundle.objects.find((o) => o.type === 'security-coverage')).toMatchObject({ covered_ref: coverage.coveredRef });
    expect(h.fake.callsOf('StixBundlePush')).toHaveLength(0);
    expect(h.fake.state.pushes).toHaveLength(0);

    const text = await run(coverage.standardId, false);
    expect(text).toContain('2 technique(s) assessed by fake; dry run, nothing pushed');
    expect(text).toContain('1 change(s) the daemon would push:');
    expect(text).toMatch(/T1003 Technique T1003: \(none\) -> (PREVENTION 40, DETECTION 60|DETECTION 60, PREVENTION 40)\n/);
    expect(text).toContain('result bundle:');
  });

  it('says nothing would change when the stored scores equal the result', async () => {
    const { patterns, coverage } = h.reportCoverage(['T1059'], { coverage: FAKE_SCORES });
    h.fake.state.addRelationship('has-covered', coverage.standardId, patterns[0].standardId, FAKE_SCORES);
    expect(await run(coverage.standardId, false)).toContain('no change: the daemon would push nothing');
  });

  it('refuses live mode without --dry-run', async () => {
    const program = new Command().exitOverride();
    registerAssessCommand(program, { stdout: () => undefined, stderr: () => undefined });
    await expect(program.parseAsync(['node', 'coverage-connector', 'assess', '--coverage', 'security-coverage--x'])).rejects.toThrow('only runs with --dry-run');
  });
});
