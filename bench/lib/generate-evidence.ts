import type {
  DataSourceEntry,
  DetectionRule,
  EvidenceSet,
  PreventionControl,
  RuleFormat,
  RuleMaturity,
  Severity,
} from '../../src/domain/evidence/evidence-types';
import type { CoverageRequest } from '../../src/domain/coverage/coverage-types';
import { createRng, type Rng } from './prng';

/**
 * Deterministic bench inputs for the engine: an ATT&CK-like technique catalogue, detection rules
 * (skewed the way real inventories are: a few techniques carry many rules), data sources, controls.
 */

export interface TechniqueCatalogue {
  /** Every id, parents and sub-techniques (T1001, T1001.002…). */
  ids: string[];
  parents: string[];
}

/** 300 parent techniques with 0-6 sub-techniques each: ~770 ids (ATT&CK Enterprise: ~200 / ~430). */
export function generateTechniques(seed: number, parents = 300): TechniqueCatalogue {
  const rng = createRng(seed);
  const ids: string[] = [];
  const parentIds: string[] = [];
  for (let i = 0; i < parents; i += 1) {
    const parent = `T${1001 + i * 3}`;
    parentIds.push(parent);
    ids.push(parent);
    const subs = rng.chance(0.45) ? rng.int(1, 6) : 0;
    for (let s = 1; s <= subs; s += 1) ids.push(`${parent}.${String(s).padStart(3, '0')}`);
  }
  return { ids, parents: parentIds };
}

export const DATA_SOURCES = [
  'windows/process_creation', 'windows/registry_set', 'windows/file_event', 'windows/network_connection',
  'windows/security', 'windows/powershell/script', 'windows/image_load', 'windows/dns_query',
  'linux/process_creation', 'linux/auditd', 'linux/file_event', 'macos/process_creation',
  'azure/activitylogs', 'aws/cloudtrail', 'gcp/gcp.audit', 'okta/okta', 'm365/threat_management',
  'logs-endpoint.events.process-*', 'logs-endpoint.events.file-*', 'logs-windows.sysmon_operational-*',
  'logs-system.security-*', 'logs-aws.cloudtrail-*', 'sysmon eventid 1', 'sysmon eventid 13',
  'windows event log security 4688', 'crowdstrike processrollup2', 'zeek conn', 'proxy', 'firewall', 'dns',
] as const;

const MATURITIES: RuleMaturity[] = ['stable', 'stable', 'stable', 'test', 'test', 'experimental', 'deprecated'];
const SEVERITIES: Severity[] = ['informational', 'low', 'medium', 'medium', 'high', 'high', 'critical'];
const FORMATS: RuleFormat[] = ['sigma', 'elastic', 'splunk'];

/** Picks techniques with a skew: the first ids of a shuffled order are much more popular. */
function skewedPicker(rng: Rng, ids: string[]): () => string {
  const order = rng.sample(ids, ids.length);
  return () => order[Math.floor(order.length * rng.next() ** 2.2)];
}

export function generateRules(seed: number, count: number, catalogue: TechniqueCatalogue): DetectionRule[] {
  const rng = createRng(seed);
  const pickTechnique = skewedPicker(rng, catalogue.ids);
  const rules: DetectionRule[] = [];
  for (let i = 0; i < count; i += 1) {
    const format = FORMATS[i % FORMATS.length];
    const techniques = [...new Set(Array.from({ length: rng.int(1, 3) }, pickTechnique))];
    const rule: DetectionRule = {
      id: rng.uuid(),
      title: `Bench ${format} rule ${i}`,
      format,
      path: `${format}/bench-${i}.${format === 'elastic' ? 'toml' : 'yml'}`,
      techniques,
      maturity: rng.pick(MATURITIES),
      enabled: rng.chance(0.9),
      severity: rng.pick(SEVERITIES),
      dataSources: rng.sample(DATA_SOURCES, rng.int(1, 2)),
      hasEnrichment: rng.chance(0.6),
    };
    if (format !== 'sigma') rule.riskScore = rng.int(10, 99);
    rules.push(rule);
  }
  return rules;
}

export function generateDataSources(seed: number): DataSourceEntry[] {
  const rng = createRng(seed);
  return DATA_SOURCES.map((id) => ({ id, name: id, collected: rng.chance(0.7), aliases: [] }));
}

export function generateControls(seed: number, count: number, catalogue: TechniqueCatalogue): PreventionControl[] {
  const rng = createRng(seed);
  const modes: PreventionControl['mode'][] = ['block', 'block', 'audit', 'disabled'];
  return Array.from({ length: count }, (_, i) => ({
    id: `control-${i}`,
    name: `Bench control ${i}`,
    mode: rng.pick(modes),
    techniques: rng.sample(catalogue.ids, rng.int(1, 8)),
    mitigations: [],
    ...(rng.chance(0.5) ? { validated: '2025-06-01' } : {}),
  }));
}

/** A full evidence set: `rules` detection rules, controls, a data-source inventory. */
export function generateEvidence(seed: number, rules: number, catalogue = generateTechniques(seed)): EvidenceSet {
  return {
    rules: generateRules(seed + 1, rules, catalogue),
    imported: [],
    dataSources: generateDataSources(seed + 2),
    hasDataSourceInventory: true,
    controls: generateControls(seed + 3, Math.max(10, Math.round(rules / 30)), catalogue),
    validation: [],
    issues: [],
  };
}

/** A coverage request over `count` distinct techniques (what technique resolution produces). */
export function generateRequest(seed: number, count: number, catalogue: TechniqueCatalogue): CoverageRequest {
  const rng = createRng(seed);
  const techniques = rng.sample(catalogue.ids, count).map((techniqueId) => ({
    techniqueId,
    stixId: `attack-pattern--${rng.uuid()}`,
    name: `Technique ${techniqueId}`,
  }));
  return {
    coverageId: `security-coverage--${rng.uuid()}`,
    coverageName: 'Bench coverage',
    coveredRef: `report--${rng.uuid()}`,
    coveredType: 'report',
    techniques,
    unmatched: [],
    periodicity: 'P1D',
  };
}
