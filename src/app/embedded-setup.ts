import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { Config } from '../../schemas/config';
import { PrioritiesFileSchema } from '../../schemas/priorities';
import type { loadEvidence } from '../adapters/evidence';
import type { Assessor } from '../domain/assessment/assessment-types';
import type { EvidenceSet, LoadIssue } from '../domain/evidence/evidence-types';
import type { PriorityOverrides } from '../domain/gaps/gap-priorities';
import { createEmbeddedAssessor } from '../domain/scoring/embedded-engine';
import { errorMessageOf } from '../errors';

/**
 * How the daemon and the live `assess --coverage` build the embedded engine from the configuration:
 * one place, so both score exactly alike.
 */

export function evidenceOptionsOf(config: Readonly<Config>): Parameters<typeof loadEvidence>[0] {
  const c = config.coverage;
  return {
    rulesDirs: [...c.rules_dirs],
    ...(c.controls_file ? { controlsFile: c.controls_file } : {}),
    ...(c.data_sources_file ? { dataSourcesFile: c.data_sources_file } : {}),
    ...(c.validation_file ? { validationFile: c.validation_file } : {}),
    layers: [...c.layers],
    ...(c.attack_catalogue ? { attackCatalogue: c.attack_catalogue } : {}),
    maxRuleFileBytes: config.limits.max_rule_file_bytes,
  };
}

/** The embedded-engine factory for `createAssessor`; reads `coverage.priorities_file` (a bad file is an issue, defaults apply). */
export async function embeddedFactoryOf(config: Readonly<Config>, issues: LoadIssue[]): Promise<(evidence: EvidenceSet) => Assessor> {
  const file = config.coverage.priorities_file;
  const priorities = file ? await readPriorities(file, issues) : undefined;
  return (evidence) =>
    createEmbeddedAssessor(evidence, {
      aggregate: config.coverage.aggregate,
      rollupSubtechniques: config.coverage.rollup_subtechniques,
      ...(priorities ? { priorities } : {}),
    });
}

/** Gap prevalence/impact overrides (schemas/priorities.ts); problems become issues and the defaults apply. */
export async function readPriorities(path: string, issues: LoadIssue[]): Promise<PriorityOverrides | undefined> {
  try {
    const parsed = PrioritiesFileSchema.safeParse(parseYaml(await readFile(path, 'utf8')) ?? {});
    if (!parsed.success) {
      issues.push({ path, reason: `invalid priorities file (${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}); default tables used` });
      return undefined;
    }
    const p = parsed.data;
    return {
      ...(p.prevalence ? { prevalence: p.prevalence } : {}),
      ...(p.impact?.tactics ? { tacticImpact: p.impact.tactics } : {}),
      ...(p.impact?.techniques ? { techniqueImpact: p.impact.techniques } : {}),
      ...(p.default_prevalence !== undefined ? { defaultPrevalence: p.default_prevalence } : {}),
      ...(p.default_impact !== undefined ? { defaultImpact: p.default_impact } : {}),
    };
  } catch (err) {
    issues.push({ path, reason: `cannot read priorities file: ${errorMessageOf(err)}; default tables used` });
    return undefined;
  }
}
