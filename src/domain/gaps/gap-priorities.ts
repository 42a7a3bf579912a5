import { parentOf } from '../coverage/attack-ids';

/**
 * Default priority tables (0-10 each) for ranking gaps: priority = prevalence × impact × feasibility.
 * The defaults are an informed starting point, not measurements: prevalence follows the techniques
 * public threat reports keep ranking highest (e.g. Red Canary's Threat Detection Report top-10
 * lists), impact follows the tactic. Every value can be overridden (`coverage.priorities_file`).
 */

export interface PriorityOverrides {
  /** Technique id → prevalence 0-10 (a parent's value also applies to its sub-techniques). */
  prevalence?: Record<string, number>;
  /** ATT&CK tactic short name (`credential-access`) → impact 0-10. */
  tacticImpact?: Record<string, number>;
  /** Technique id → impact 0-10, wins over the tactic table. */
  techniqueImpact?: Record<string, number>;
  defaultPrevalence?: number;
  defaultImpact?: number;
}

export interface PriorityTables {
  prevalence: Record<string, number>;
  /** The prevalence entries the operator set (priorities file): they win over any intelligence. */
  prevalenceOverrides: Record<string, number>;
  tacticImpact: Record<string, number>;
  techniqueImpact: Record<string, number>;
  defaultPrevalence: number;
  defaultImpact: number;
}

export const DEFAULT_PREVALENCE: Record<string, number> = {
  T1059: 10, // Command and Scripting Interpreter
  T1003: 9, // OS Credential Dumping
  T1078: 9, // Valid Accounts
  T1566: 9, // Phishing
  T1105: 8, // Ingress Tool Transfer
  T1218: 8, // System Binary Proxy Execution
  T1027: 8, // Obfuscated Files or Information
  T1036: 8, // Masquerading
  T1055: 8, // Process Injection
  T1547: 7, // Boot or Logon Autostart Execution
  T1053: 7, // Scheduled Task/Job
  T1543: 7, // Create or Modify System Process
  T1021: 7, // Remote Services
  T1047: 7, // Windows Management Instrumentation
  T1562: 7, // Impair Defenses
  T1486: 7, // Data Encrypted for Impact
  T1490: 7, // Inhibit System Recovery
  T1190: 7, // Exploit Public-Facing Application
  T1204: 7, // User Execution
  T1071: 6, // Application Layer Protocol
  T1569: 6, // System Services
  T1070: 6, // Indicator Removal
  T1112: 6, // Modify Registry
  T1133: 6, // External Remote Services
  T1114: 6, // Email Collection
};

export const DEFAULT_TACTIC_IMPACT: Record<string, number> = {
  impact: 10,
  exfiltration: 9,
  'credential-access': 8,
  'lateral-movement': 8,
  'privilege-escalation': 7,
  'initial-access': 7,
  execution: 7,
  'command-and-control': 7,
  persistence: 6,
  'defense-evasion': 6,
  // ATT&CK v19 split Defense Evasion into these two.
  stealth: 6,
  'defense-impairment': 6,
  collection: 5,
  discovery: 3,
  reconnaissance: 2,
  'resource-development': 2,
};

const clamp10 = (v: number): number => (Number.isFinite(v) ? Math.min(10, Math.max(0, v)) : 0);
const upperKeys = (r: Record<string, number> = {}): Record<string, number> =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k.trim().toUpperCase(), clamp10(v)]));
const lowerKeys = (r: Record<string, number> = {}): Record<string, number> =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k.trim().toLowerCase(), clamp10(v)]));

/** Defaults merged with overrides (an override replaces one entry; the rest of the table stays). */
export function priorityTables(overrides: PriorityOverrides = {}): PriorityTables {
  return {
    prevalence: { ...DEFAULT_PREVALENCE, ...upperKeys(overrides.prevalence) },
    prevalenceOverrides: upperKeys(overrides.prevalence),
    tacticImpact: { ...DEFAULT_TACTIC_IMPACT, ...lowerKeys(overrides.tacticImpact) },
    techniqueImpact: upperKeys(overrides.techniqueImpact),
    defaultPrevalence: clamp10(overrides.defaultPrevalence ?? 5),
    defaultImpact: clamp10(overrides.defaultImpact ?? 5),
  };
}

export function prevalenceOf(techniqueId: string, tables: PriorityTables): number {
  return tables.prevalence[techniqueId] ?? tables.prevalence[parentOf(techniqueId)] ?? tables.defaultPrevalence;
}

/** Technique override, else the highest impact among its tactics, else the default. */
export function impactOf(techniqueId: string, tactics: string[], tables: PriorityTables): number {
  const own = tables.techniqueImpact[techniqueId] ?? tables.techniqueImpact[parentOf(techniqueId)];
  if (own !== undefined) return own;
  const byTactic = tactics.map((t) => tables.tacticImpact[t.toLowerCase()]).filter((v): v is number => v !== undefined);
  return byTactic.length > 0 ? Math.max(...byTactic) : tables.defaultImpact;
}

/** A technique's prevalence and where it came from (the explanation names the source of every rank). */
export interface RankedPrevalence {
  value: number;
  source: string;
}

/**
 * Prevalence in this order: the operator's own entry (priorities file); the intelligence table
 * (OpenCTI or a bundle), read under the technique's id or any of its ids in other ATT&CK versions —
 * a technique it does not list is used by none of its adversaries (1); the shipped table; the default.
 */
export function rankedPrevalence(
  techniqueId: string,
  tables: PriorityTables,
  intelligence?: { values: Record<string, number>; describe: (id: string) => string },
  equivalents: string[] = [],
): RankedPrevalence {
  const own = tables.prevalenceOverrides[techniqueId] ?? tables.prevalenceOverrides[parentOf(techniqueId)];
  if (own !== undefined) return { value: own, source: 'your priorities file' };
  if (intelligence) {
    const ids = [techniqueId, ...equivalents];
    const found = ids.filter((id) => intelligence.values[id] !== undefined).sort((a, b) => intelligence.values[b] - intelligence.values[a])[0];
    return found ? { value: intelligence.values[found], source: intelligence.describe(found) } : { value: 1, source: intelligence.describe(techniqueId) };
  }
  const shipped = tables.prevalence[techniqueId] ?? tables.prevalence[parentOf(techniqueId)];
  return shipped !== undefined ? { value: shipped, source: 'shipped table' } : { value: tables.defaultPrevalence, source: 'default (not in the shipped table)' };
}
