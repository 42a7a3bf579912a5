import type { EvidenceSet, ImportedTechniqueScore, LoadIssue } from '../../domain/evidence/evidence-types';
import { openInventoryCache, type InventoryCache } from './inventory-cache';
import { loadAttackCatalogue } from './attack-catalogue-file';
import { loadImportFile } from './import-loaders';
import { loadControls, loadDataSources, loadValidation, type InventoryResult } from './inventory-loaders';
import { loadRulesFromDirs, type FileRules } from './rule-files';
import { DEFAULT_MAX_RULE_FILE_BYTES, mapLimit, READ_CONCURRENCY, readTextBounded, walkRoot } from './safe-files';

/**
 * Evidence for the embedded engine, from files: rule folders (Sigma, Elastic, Splunk), imported
 * scores (Navigator layers, DeTT&CT), inventories (controls, data sources, validation results) and
 * the compact ATT&CK catalogue. Nothing here throws for a bad file: it becomes a LoadIssue and is
 * skipped (docs/evidence-formats.md).
 */

export interface LoadEvidenceOptions {
  rulesDirs: string[];
  controlsFile?: string;
  dataSourcesFile?: string;
  /** YAML/JSON `results:` or CSV `technique,date,outcome[,test]`. */
  validationFile?: string;
  /** Navigator layer .json files / DeTT&CT .yaml files, or folders of them. */
  layers?: string[];
  /** Compact catalogue written by `coverage-connector attack import`. */
  attackCatalogue?: string;
  /** Largest rule / layer / inventory file read (default 1 MiB); larger ones are issues. */
  maxRuleFileBytes?: number;
  /** Parsed rule files kept between runs (inventory-cache.ts): a file path, or a cache already open. */
  cacheFile?: string;
  cache?: InventoryCache;
  /** Rules of the previous load by file, kept for files that now fail (reload on change). */
  previousRules?: ReadonlyMap<string, FileRules>;
}

/** loadEvidence with what a reload needs: the rule of each file, and how much came from the cache. */
export interface EvidenceLoad {
  evidence: EvidenceSet;
  ruleFiles: Map<string, FileRules>;
  /** Rule files found, how many were not parsed because the cache had them, and how many of those were not even read. */
  files: number;
  cached: number;
  unread: number;
  /** Set when an existing cache file could not be used (it is rewritten). */
  cacheIgnored?: string;
}

async function loadInventory<T>(
  path: string | undefined,
  maxBytes: number,
  load: (text: string, path: string) => InventoryResult<T>,
): Promise<(InventoryResult<T> & { read: boolean }) | undefined> {
  if (!path) return undefined;
  const read = await readTextBounded(path, maxBytes);
  if (!read.ok) return { items: [], issues: [{ path, reason: read.reason }], read: false };
  return { ...load(read.text, path), read: true };
}

const LAYER_FILE = /\.(json|ya?ml)$/i;

/** Every layers entry (file or folder of .json / .yaml files) → imported scores. */
export async function loadImportedScores(paths: readonly string[], maxBytes = DEFAULT_MAX_RULE_FILE_BYTES): Promise<{ scores: ImportedTechniqueScore[]; issues: LoadIssue[] }> {
  const scores: ImportedTechniqueScore[] = [];
  const issues: LoadIssue[] = [];
  for (const path of paths) {
    const walked = await walkRoot(path, (name) => LAYER_FILE.test(name));
    issues.push(...walked.issues);
    const results = await mapLimit(walked.files, READ_CONCURRENCY, async (file) => {
      const read = await readTextBounded(file.absolute, maxBytes);
      return read.ok ? loadImportFile(read.text, file.display) : { scores: [], issues: [{ path: file.display, reason: read.reason }] };
    });
    for (const r of results) {
      scores.push(...r.scores);
      issues.push(...r.issues);
    }
  }
  return { scores, issues };
}

export async function loadEvidence(options: LoadEvidenceOptions): Promise<EvidenceSet> {
  return (await loadEvidenceDetailed(options)).evidence;
}

export async function loadEvidenceDetailed(options: LoadEvidenceOptions): Promise<EvidenceLoad> {
  const maxBytes = options.maxRuleFileBytes ?? DEFAULT_MAX_RULE_FILE_BYTES;
  const cache = options.cache ?? (options.cacheFile ? await openInventoryCache(options.cacheFile) : undefined);
  const cacheIgnored = cache?.ignoredBecause;
  const [rules, imported, controls, dataSources, validation, catalogue] = await Promise.all([
    loadRulesFromDirs(options.rulesDirs, { maxRuleFileBytes: maxBytes, ...(cache ? { cache } : {}), ...(options.previousRules ? { previous: options.previousRules } : {}) }),
    loadImportedScores(options.layers ?? [], maxBytes),
    loadInventory(options.controlsFile, maxBytes, loadControls),
    loadInventory(options.dataSourcesFile, maxBytes, loadDataSources),
    loadInventory(options.validationFile, maxBytes, loadValidation),
    options.attackCatalogue ? loadAttackCatalogue(options.attackCatalogue) : Promise.resolve(undefined),
  ]);
  const issues: LoadIssue[] = [
    ...rules.issues,
    ...imported.issues,
    ...(controls?.issues ?? []),
    ...(dataSources?.issues ?? []),
    ...(validation?.issues ?? []),
    ...(catalogue && !catalogue.ok ? [catalogue.issue] : []),
  ];
  const evidence: EvidenceSet = {
    rules: rules.rules,
    imported: imported.scores,
    dataSources: dataSources?.items ?? [],
    // An unreadable inventory is not an inventory: the engine then infers the data-source part.
    hasDataSourceInventory: dataSources?.read === true,
    controls: controls?.items ?? [],
    validation: validation?.items ?? [],
    ...(catalogue?.ok ? { catalogue: catalogue.value } : {}),
    issues,
  };
  return { evidence, ruleFiles: rules.byFile, files: rules.files, cached: rules.cached, unread: rules.unread, ...(cacheIgnored ? { cacheIgnored } : {}) };
}

export { importAttackCatalogue, catalogueStats } from './attack-catalogue';
export { importAttackCatalogueFile, loadAttackCatalogue, readAttackBundle } from './attack-catalogue-file';
export { loadElasticRule, elasticRuleFromDocument } from './elastic-loader';
export { loadDettectFile, loadNavigatorLayers, loadImportFile, normaliseLayerScore } from './import-loaders';
export { loadControls, loadDataSources, loadValidation, parseCsv } from './inventory-loaders';
export { loadRuleFile, loadRuleFileRules, loadRulesFromDirs, type FileRules, type RulesLoadResult } from './rule-files';
export { loadSentinelRule, sentinelRuleFromDocument } from './sentinel-loader';
export { loadWazuhRules } from './wazuh-loader';
export { openInventoryCache, type InventoryCache } from './inventory-cache';
export { watchEvidence, type EvidenceWatch } from './inventory-watch';
export { DEFAULT_MAX_RULE_FILE_BYTES, resolveWithinRoot } from './safe-files';
export { loadSigmaRule, sigmaRuleFromDocument } from './sigma-loader';
export { loadSplunkRule, splunkRuleFromDocument } from './splunk-loader';
export type { Loaded } from './parse-text';
