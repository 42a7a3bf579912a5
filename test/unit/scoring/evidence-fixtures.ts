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

export { coverageRequest as request } from '../../support/coverage-request';

export const NOW = new Date('2026-02-12T09:00:00.000Z');
