import type { DetectionRule, Severity } from '../../domain/evidence/evidence-types';

/** Helpers the three rule loaders share. */

export const SEVERITIES: readonly Severity[] = ['informational', 'low', 'medium', 'high', 'critical'];

/** "High " → 'high'; unknown words → undefined. */
export function severityFrom(value: string | undefined): Severity | undefined {
  const text = value?.trim().toLowerCase();
  return SEVERITIES.find((s) => s === text);
}

export const atLeast = (severity: Severity | undefined, floor: Severity): boolean =>
  severity !== undefined && SEVERITIES.indexOf(severity) >= SEVERITIES.indexOf(floor);

const DEPRECATED = /deprecated/i;

/** A path inside a `deprecated/` (or `_deprecated/`) folder: upstream repositories park retired rules there. */
export function isUnderDeprecatedFolder(path: string): boolean {
  // Asked twice for every rule file: the split only for the few paths that name it at all.
  return DEPRECATED.test(path) && path.split(/[\\/]/).some((part) => /^_?deprecated$/i.test(part));
}

/**
 * Rules of a file that sits under a `deprecated/` folder anywhere on its real path, not only below the
 * configured root: `--rules …/sigma/deprecated` gives root-relative paths without the folder name.
 */
export function retiredByLocation<T extends { maturity: DetectionRule['maturity'] }>(rules: T | T[], absolutePath: string): T | T[] {
  if (!isUnderDeprecatedFolder(absolutePath)) return rules;
  const retire = (r: T): T => (r.maturity === 'deprecated' ? r : { ...r, maturity: 'deprecated' });
  return Array.isArray(rules) ? rules.map(retire) : retire(rules);
}
