import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHarness, type Harness } from '../support/fake-opencti/harness';
import { describeWithBroker, PROJECT_DIR } from '../support/env';

/**
 * End to end with the REAL embedded engine and the shipped example evidence (config/examples): the
 * daemon loads the evidence at startup, assesses the example report's techniques and pushes integer
 * scores; a second request for the same content pushes nothing (deterministic engine + loop guard).
 */

const EXAMPLES = join(PROJECT_DIR, 'config', 'examples');
const MITRE_EXTENSION = 'extension-definition--322b8f77-262a-4cb8-a915-1e441e00329b';

function exampleTechniques(): string[] {
  const bundle = JSON.parse(readFileSync(join(EXAMPLES, 'report-apt-example.json'), 'utf8')) as { objects?: Array<Record<string, unknown>> };
  const ids = new Set<string>();
  for (const o of bundle.objects ?? []) {
    if (o.type !== 'attack-pattern') continue;
    const ext = (o.extensions as Record<string, { id?: string }> | undefined)?.[MITRE_EXTENSION]?.id;
    const ref = (o.external_references as Array<{ source_name?: string; external_id?: string }> | undefined)?.find((r) => r.source_name === 'mitre-attack')?.external_id;
    const id = ext ?? ref ?? (o.x_mitre_id as string | undefined);
    if (id) ids.add(id.toUpperCase());
  }
  return [...ids];
}

const fileIf = (name: string): string | undefined => (existsSync(join(EXAMPLES, name)) ? join(EXAMPLES, name) : undefined);

describeWithBroker('daemon: real embedded engine on config/examples', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('assesses the example report with the shipped evidence and pushes integer scores once', async () => {
    const techniques = exampleTechniques();
    expect(techniques.length).toBeGreaterThan(0);
    const { coverage, patterns } = h.reportCoverage(techniques);
    const controls = fileIf('controls.yml');
    const dataSources = fileIf('data-sources.yml');
    const validation = fileIf('validation.yml');
    await h.start({
      config: {
        coverage: {
          rules_dirs: [join(EXAMPLES, 'rules')],
          ...(controls ? { controls_file: controls } : {}),
          ...(dataSources ? { data_sources_file: dataSources } : {}),
          ...(validation ? { validation_file: validation } : {}),
        },
      },
      // No assessor override: main.ts loads the evidence and builds the embedded engine.
      assessor: null,
    });
    const first = await h.fake.publishEnrichment(h.connectorId, coverage);
    const work = await h.fake.until(() => {
      const w = h.fake.state.works.get(first);
      return w && w.processedCalls.length > 0 ? w : undefined;
    }, 20000, 'the work');
    expect(work.processedCalls[0].inError).toBe(false);
    const objects = h.fake.state.pushes.filter((p) => p.workId === first).flatMap((p) => p.objects);
    const cov = objects.find((o) => o.type === 'security-coverage') as { coverage?: Array<{ name: string; score: number }> };
    expect(cov.coverage?.length).toBeGreaterThan(0);
    for (const s of cov.coverage ?? []) {
      expect(Number.isInteger(s.score)).toBe(true);
      expect(s.score).toBeGreaterThanOrEqual(0);
      expect(s.score).toBeLessThanOrEqual(100);
    }
    const targets = objects.filter((o) => o.relationship_type === 'has-covered').map((o) => o.target_ref);
    expect(new Set(targets)).toEqual(new Set(patterns.map((p) => p.standardId)));
    expect(work.errors).toEqual([]);

    const pushes = h.fake.state.pushes.length;
    const second = await h.fake.publishEnrichment(h.connectorId, coverage, { trigger: 'update' });
    const again = await h.fake.until(() => {
      const w = h.fake.state.works.get(second);
      return w && w.processedCalls.length > 0 ? w : undefined;
    }, 20000, 'the second work');
    expect(again.processedCalls[0].message).toMatch(/unchanged/i);
    expect(h.fake.state.pushes.length).toBe(pushes);
  }, 40000);
});
