import type { FakeCoverage, FakeState } from '../../test/support/fake-opencti/state';
import { createRng } from './prng';
import type { TechniqueCatalogue } from './generate-evidence';

/**
 * Fills the fake platform (test/support/fake-opencti) with `count` reports of `patterns` attack
 * patterns each and a Security Coverage over every report, with deterministic ids and techniques.
 * One Attack-Pattern entity per technique, shared by the reports that name it, as on the platform:
 * an attack pattern's standard id comes from its ATT&CK id (its name when it has none), so imports
 * of the same technique meet on one entity (opencti-graphql/src/schema/identifier.js).
 */
export function addBenchCoverages(state: FakeState, options: { seed: number; count: number; patterns: number; catalogue: TechniqueCatalogue }): FakeCoverage[] {
  const rng = createRng(options.seed);
  const coverages: FakeCoverage[] = [];
  const attackPatterns = new Map<string, ReturnType<FakeState['addEntity']>>();
  const attackPattern = (t: string): ReturnType<FakeState['addEntity']> => {
    let entity = attackPatterns.get(t);
    if (!entity) {
      entity = state.addEntity('Attack-Pattern', `Technique ${t}`, { xMitreId: t, internalId: rng.uuid(), standardId: `attack-pattern--${rng.uuid()}` });
      attackPatterns.set(t, entity);
    }
    return entity;
  };
  for (let c = 0; c < options.count; c += 1) {
    const patterns = rng.sample(options.catalogue.ids, options.patterns).map(attackPattern);
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
