import type { Severity } from '../../domain/evidence/evidence-types';

/** Helpers the three rule loaders share. */

export const SEVERITIES: readonly Severity[] = ['informational', 'low', 'medium', 'high', 'critical'];

/** "High " → 'high'; unknown words → undefined. */
export function severityFrom(value: string | undefined): Severity | undefined {
  const text = value?.trim().toLowerCase();
  return SEVERITIES.find((s) => s === text);
}

export const atLeast = (severity: Severity | undefined, floor: Severity): boolean =>
  severity !== undefined && SEVERITIES.indexOf(severity) >= SEVERITIES.indexOf(floor);

/** A path inside a `deprecated/` (or `_deprecated/`) folder: upstream repositories park retired rules there. */
export function isUnderDeprecatedFolder(path: string): boolean {
  return path.split(/[\\/]/).some((part) => /^_?deprecated$/i.test(part));
}
