import type { CoverageRequest, TechniqueRef } from '../../src/domain/coverage/coverage-types';

/** A CoverageRequest for the sample coverage (APT-X report): techniques by id or full ref, then `overrides`. */
export function coverageRequest(techniques: Array<string | TechniqueRef>, overrides: Partial<CoverageRequest> = {}): CoverageRequest {
  return {
    coverageId: 'security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30',
    coverageName: 'APT-X campaign report',
    coveredRef: 'report--f2b63e80-b523-4747-a069-35c002c690db',
    techniques: techniques.map((t) => (typeof t === 'string' ? { techniqueId: t } : t)),
    unmatched: [],
    ...overrides,
  };
}
