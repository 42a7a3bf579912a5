import type { AssessmentResult } from '../../src/domain/assessment/assessment-types';
import type { EvidenceSet } from '../../src/domain/evidence/evidence-types';
import { createEmbeddedAssessor } from '../../src/domain/scoring/embedded-engine';
import { coverageRequest } from './coverage-request';

/**
 * A small estate for score-history tests: two techniques with rules, a data-source inventory, a
 * control and an emulation result, and the edits an estate goes through (a rule disabled, a log
 * source dropped…). Scores come from the real embedded engine, so causes are named from real records.
 */

export const LSASS_RULE = 'a8f5a3d0-0000-4000-8000-000000000001';
export const PROCDUMP_RULE = 'a8f5a3d0-0000-4000-8000-000000000002';
export const PS_RULE = 'a8f5a3d0-0000-4000-8000-000000000003';

export function baseEvidence(): EvidenceSet {
  return {
    rules: [
      {
        id: LSASS_RULE,
        title: 'LSASS Memory Access',
        format: 'sigma',
        path: 'rules/lsass.yml',
        techniques: ['T1003.001'],
        maturity: 'stable',
        enabled: true,
        severity: 'high',
        dataSources: ['windows/process_access'],
        hasEnrichment: true,
      },
      {
        id: PROCDUMP_RULE,
        title: 'Procdump LSASS Dump',
        format: 'sigma',
        path: 'rules/procdump.yml',
        techniques: ['T1003.001'],
        maturity: 'test',
        enabled: true,
        severity: 'medium',
        dataSources: ['windows/process_access'],
        hasEnrichment: false,
      },
      {
        id: PS_RULE,
        title: 'Suspicious PowerShell Download',
        format: 'sigma',
        path: 'rules/ps.yml',
        techniques: ['T1059.001'],
        maturity: 'stable',
        enabled: true,
        severity: 'medium',
        dataSources: ['windows/ps_script'],
        hasEnrichment: false,
      },
    ],
    imported: [],
    dataSources: [
      { id: 'windows/process_access', collected: true, aliases: [] },
      { id: 'windows/ps_script', collected: true, aliases: [] },
    ],
    hasDataSourceInventory: true,
    controls: [{ id: 'edr-lsass', name: 'EDR credential theft protection', mode: 'block', techniques: ['T1003.001'], mitigations: [], validated: '2026-01-10' }],
    validation: [{ techniqueId: 'T1003.001', date: '2026-01-15', outcome: 'detected', test: 'Atomic T1003.001-1' }],
    issues: [],
  };
}

type Edit = (e: EvidenceSet) => void;

export const edits = {
  disableRule: (id: string): Edit => (e) => void (e.rules.find((r) => r.id === id)!.enabled = false),
  deprecateRule: (id: string): Edit => (e) => void (e.rules.find((r) => r.id === id)!.maturity = 'deprecated'),
  removeRule: (id: string): Edit => (e) => void (e.rules = e.rules.filter((r) => r.id !== id)),
  stopCollecting: (source: string): Edit => (e) => void (e.dataSources.find((d) => d.id === source)!.collected = false),
  controlMode: (id: string, mode: 'block' | 'audit' | 'disabled'): Edit => (e) => void (e.controls.find((c) => c.id === id)!.mode = mode),
  emulation: (outcome: 'prevented' | 'detected' | 'logged' | 'none', date = '2026-02-01'): Edit => (e) =>
    void e.validation.push({ techniqueId: 'T1003.001', date, outcome, test: 'Atomic T1003.001-1' }),
};

export function evidenceWith(...changes: Edit[]): EvidenceSet {
  const e = baseEvidence();
  for (const change of changes) change(e);
  return e;
}

export const TECHNIQUES = ['T1003.001', 'T1059.001'];

export async function assessWith(evidence: EvidenceSet, techniques: string[] = TECHNIQUES, now = new Date('2026-02-12T09:00:00Z')): Promise<AssessmentResult> {
  return createEmbeddedAssessor(evidence).assess(coverageRequest(techniques), { now });
}
