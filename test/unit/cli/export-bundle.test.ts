import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAssess } from '../../../src/app/assess/assess';
import { runLiveAssess } from '../../../src/cli/assess-live';
import { envFor } from '../../integration/operator-helpers';
import { describeWithBroker, PROJECT_DIR } from '../../support/env';
import { createHarness, fakeAssessor, type Harness } from '../../support/fake-opencti/harness';

/**
 * Getting a container's STIX bundle out of OpenCTI with one command
 * (`assess --coverage <id> --dry-run --export-bundle <file>`), then assessing it offline.
 */
describeWithBroker('assess --coverage --dry-run --export-bundle', () => {
  let h: Harness;
  const dir = mkdtempSync(join(tmpdir(), 'export-bundle-'));
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the bundle the platform sends, which the offline assess then scores', async () => {
    const { coverage } = h.reportCoverage(['T1059.001', 'T1003.001']);
    const file = join(dir, 'report.json');
    let stderr = '';
    await runLiveAssess(
      { coverage: coverage.standardId, dryRun: true, json: true, exportBundle: file },
      { stdout: () => undefined, stderr: (t) => (stderr += t), env: envFor(h.fake, h.connectorId, { OPENCTI_TIMEOUT_MS: '30000' }), assessorFor: () => fakeAssessor() },
    );
    expect(stderr).toMatch(new RegExp(`^wrote ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(\\d+ STIX objects\\): \`coverage-connector assess`, 'm'));
    const bundle = JSON.parse(readFileSync(file, 'utf8')) as { objects: Array<{ type: string }> };
    expect(bundle.objects.filter((o) => o.type === 'attack-pattern')).toHaveLength(2);

    const offline = await runAssess({ bundleFile: file, rulesDirs: [join(PROJECT_DIR, 'config/examples/rules')] });
    expect(offline.request.coveredRef).toBe(coverage.coveredRef);
    expect(offline.result.techniques.map((t) => t.techniqueId).sort()).toEqual(['T1003.001', 'T1059.001']);
    expect(offline.result.techniques.every((t) => t.tested)).toBe(true);
  });
});
