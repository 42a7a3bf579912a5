import type { FakeCoverage, FakeState } from '../../test/support/fake-opencti/state';
import { createRng } from './prng';
import type { TechniqueCatalogue } from './generate-evidence';

/**
 * Fills the fake platform (test/support/fake-opencti) with `count` reports of `patterns` attack
 * patterns each and a Security Coverage over every report, with deterministic ids and techniques.
 */
export function addBenchCoverages(state: FakeState, options: { seed: number; count: number; patterns: number; catalogue: TechniqueCatalogue }): FakeCoverage[] {
  const rng = createRng(options.seed);
  const coverages: FakeCoverage[] = [];
  for (let c = 0; c < options.count; c += 1) {
    const patterns = rng.sample(options.catalogue.ids, options.patterns).map((t) =>
      state.addEntity('Attack-Pattern', `Technique ${t}`, { xMitreId: t, internalId: rng.uuid(), standardId: `attack-pattern--${rng.uuid()}` }),
    );
    const report = state.addEntity('Report', `Bench report ${c}`, {
      internalId: rng.uuid(),
      standardId: `report--${rng.uuid()}`,
      objectIds: patterns.map((p) => p.standardId),
    });
    coverages.push(
      state.addCoverage(report.standardId, {
        internalId: rng.uuid(),
        standardId: `security-coverage--${rng.uuid()}`,
        name: `Bench coverage ${c}`,
        created: '2026-01-01T00:00:00.000Z',
        modified: '2026-01-01T00:00:00.000Z',
      }),
    );
  }
  return coverages;
}
