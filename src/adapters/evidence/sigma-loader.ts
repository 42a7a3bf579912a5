import { SigmaRuleSchema, type SigmaRule } from '../../../schemas/evidence';
import { normaliseTechniqueId } from '../../domain/coverage/attack-ids';
import type { DetectionRule, RuleMaturity, Severity } from '../../domain/evidence/evidence-types';
import { fail, parseYaml, unique, zodReason, type Loaded } from './parse-text';
import { atLeast, isUnderDeprecatedFolder, severityFrom } from './rule-common';
import { sigmaPlatforms } from './rule-platforms';

/**
 * SigmaHQ rules. Techniques come from `attack.tNNNN[.NNN]` tags (any case); tactic, group, software,
 * CVE and `detection.*` tags are ignored. docs/evidence-formats.md lists every mapping.
 */

const TECHNIQUE_TAG = /^attack\.(t\d{4}(?:\.\d{3})?)$/i;

const MATURITY: Record<string, RuleMaturity> = {
  stable: 'stable',
  test: 'test',
  experimental: 'experimental',
  deprecated: 'deprecated',
  unsupported: 'deprecated',
};

/** False-positive notes that give a triager nothing to work with. */
const EMPTY_FALSE_POSITIVES = /^(unknown|none|n\/a|unlikely|-)?$/i;

export function sigmaTechniques(tags: ReadonlyArray<string> | undefined): string[] {
  const ids: string[] = [];
  for (const tag of tags ?? []) {
    const match = TECHNIQUE_TAG.exec(tag.trim());
    const id = match ? normaliseTechniqueId(match[1]) : undefined;
    if (id) ids.push(id);
  }
  return unique(ids);
}

/** "windows/process_creation" plus each part alone, so inventories can match coarse or fine. */
export function sigmaDataSources(logsource: SigmaRule['logsource']): string[] {
  const parts = [logsource.product, logsource.category, logsource.service]
    .filter((p): p is string => typeof p === 'string' && p.trim() !== '')
    .map((p) => p.trim().toLowerCase());
  if (parts.length === 0) return [];
  return unique(parts.length > 1 ? [parts.join('/'), ...parts] : parts);
}

/** Enrichment: real false-positive guidance on a rule that alerts at medium or above. */
function hasTriageContext(rule: SigmaRule, severity: Severity | undefined): boolean {
  const fps = rule.falsepositives;
  const notes = (Array.isArray(fps) ? fps : fps ? [fps] : []).map((f) => String(f ?? '').trim()).filter((f) => !EMPTY_FALSE_POSITIVES.test(f));
  return notes.length > 0 && atLeast(severity, 'medium');
}

/** An already-parsed Sigma document → rule (the dispatcher parses each file once). */
export function sigmaRuleFromDocument(doc: unknown, path: string): Loaded<DetectionRule> {
  const parsed = SigmaRuleSchema.safeParse(doc);
  if (!parsed.success) return fail(path, zodReason('sigma', parsed.error));
  const rule = parsed.data;
  const techniques = sigmaTechniques(rule.tags);
  if (techniques.length === 0) return fail(path, 'sigma: tags contain no ATT&CK technique');
  const status = rule.status?.trim().toLowerCase();
  const maturity: RuleMaturity = isUnderDeprecatedFolder(path) ? 'deprecated' : (status && MATURITY[status]) || 'experimental';
  const severity = severityFrom(rule.level);
  const platforms = sigmaPlatforms(rule.logsource);
  return {
    ok: true,
    value: {
      id: rule.id?.trim() || path,
      title: rule.title,
      format: 'sigma',
      path,
      techniques,
      maturity,
      enabled: true,
      ...(severity ? { severity } : {}),
      dataSources: sigmaDataSources(rule.logsource),
      hasEnrichment: hasTriageContext(rule, severity),
      ...(platforms.length > 0 ? { platforms } : {}),
    },
  };
}

/** Sigma YAML text → rule, or the issue that replaces it. */
export function loadSigmaRule(text: string, path: string): Loaded<DetectionRule> {
  const parsed = parseYaml(text);
  if (!parsed.ok) return fail(path, parsed.reason);
  return sigmaRuleFromDocument(parsed.value, path);
}
