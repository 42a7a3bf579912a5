import type { DetectionRule, LoadIssue } from '../../domain/evidence/evidence-types';
import { HttpFailure } from '../http/json-http';

/**
 * A SIEM that is asked for its rules (src/adapters/kibana, splunk, sentinel, wazuh): the rules as it
 * runs them — enabled or not, failing or not — mapped onto DetectionRule so the embedded engine
 * scores them like rule files. src/app/live-rules.ts refreshes them and keeps the last good inventory.
 */

export const RULE_SOURCE_NAMES = ['kibana', 'splunk', 'sentinel', 'wazuh'] as const;
export type RuleSourceName = (typeof RULE_SOURCE_NAMES)[number];

export interface SourceInventory {
  rules: DetectionRule[];
  /** What the operator should know: rules skipped (no technique), health not readable… (one line each). */
  issues: LoadIssue[];
  /** Rules the API listed, before any was skipped. */
  listed: number;
}

export interface RuleSource {
  readonly name: RuleSourceName;
  /** Where it reads from, safe to show (no credentials): "https://kibana:5601 space default". */
  readonly target: string;
  fetch(signal?: AbortSignal): Promise<SourceInventory>;
  close(): Promise<void>;
}

/** Limits every source applies while paging. */
export interface PagingLimits {
  pageSize: number;
  /** Past this many rules the listing stops with an issue (a runaway or hostile API). */
  maxRules: number;
}

/** One issue for the rules a source skipped for want of a technique (not one per rule: thousands of reports/searches). */
export function skippedIssue(source: RuleSourceName, target: string, titles: readonly string[], why: string): LoadIssue[] {
  if (titles.length === 0) return [];
  const shown = titles.slice(0, 3).map((t) => `"${t}"`).join(', ');
  return [{ path: `${source} ${target}`, reason: `${titles.length} rule(s) ${why}, not scored (e.g. ${shown})` }];
}

/** A source error in one line, with what to fix when it is a setting. */
export function describeSourceFailure(err: unknown): { kind: 'unreachable' | 'auth' | 'rejected' | 'error'; message: string } {
  if (err instanceof HttpFailure) return { kind: err.kind, message: err.message };
  return { kind: 'error', message: err instanceof Error ? err.message : String(err) };
}

/** ISO date, or undefined for what is not one (API timestamps are trusted for nothing else). */
export function isoOrUndefined(value: unknown): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const t = typeof value === 'number' ? value * (value < 1e12 ? 1000 : 1) : Date.parse(value);
  return Number.isFinite(t) ? new Date(t).toISOString() : undefined;
}
