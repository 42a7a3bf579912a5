import type { CoverageRequest, TechniqueRef } from '../../../src/domain/coverage/coverage-types';
import type { DetectionRule, EvidenceSet, PreventionControl } from '../../../src/domain/evidence/evidence-types';

/** Hand-made evidence for engine tests: every field explicit, defaults that score nothing extra. */

export function rule(overrides: Partial<DetectionRule> & { id: string; techniques: string[] }): DetectionRule {
  return {
    title: overrides.id,
    format: 'sigma',
    path: `rules/${overrides.id}.yml`,
    maturity: 'stable',
    enabled: true,
    dataSources: [],
    hasEnrichment: false,
    ...overrides,
  };
}

export function control(overrides: Partial<PreventionControl> & { id: string }): PreventionControl {
  return { name: overrides.id, mode: 'block', techniques: [], mitigations: [], ...overrides };
}

export function evidence(overrides: Partial<EvidenceSet> = {}): EvidenceSet {
  return {
    rules: [],
    imported: [],
    dataSources: [],
    hasDataSourceInventory: false,
    controls: [],
    validation: [],
    issues: [],
    ...overrides,
  };
}

export function request(techniques: Array<string | TechniqueRef>, overrides: Partial<CoverageRequest> = {}): CoverageRequest {
  return {
    coverageId: 'security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30',
    coverageName: 'APT-X campaign report',
    coveredRef: 'report--f2b63e80-b523-4747-a069-35c002c690db',
    techniques: techniques.map((t) => (typeof t === 'string' ? { techniqueId: t } : t)),
    unmatched: [],
    ...overrides,
  };
}

export const NOW = new Date('2026-02-12T09:00:00.000Z');
