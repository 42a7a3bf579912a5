import { statSync } from 'node:fs';
import type { DetectionRule, LoadIssue } from '../../domain/evidence/evidence-types';
import { elasticRuleFromDocument } from './elastic-loader';
import type { CacheEntry, InventoryCache } from './inventory-cache';
import { fail, isRecord, parseToml, parseYaml, type Loaded } from './parse-text';
import { retiredByLocation } from './rule-common';
import { DEFAULT_MAX_RULE_FILE_BYTES, readFilesInBatches, walkRoot, type FileRead, type FoundFile } from './safe-files';
import { sigmaRuleFromDocument } from './sigma-loader';
import { looksLikeSplunkDetection, splunkRuleFromDocument } from './splunk-loader';
import { looksLikeSentinelRule, sentinelRuleFromDocument } from './sentinel-loader';
import { loadWazuhRules } from './wazuh-loader';

/**
 * Rule folders → DetectionRules. Each file is read once and parsed once; the parsed document's shape
 * picks the format: `.toml` is Elastic; YAML with `logsource` / `detection` is Sigma; YAML with
 * `search`, `tags.mitre_attack_id` or `data_source` is Splunk; YAML with `relevantTechniques`,
 * `requiredDataConnectors` or `query` + `queryFrequency` is a Sentinel template; `.xml` is a Wazuh
 * ruleset (many rules per file). Other extensions are ignored.
 */

const RULE_FILE = /\.(ya?ml|toml|xml)$/i;

export const isRuleFileName = (name: string): boolean => RULE_FILE.test(name);

/** Files stat'ed (to consult the cache) between two turns of the event loop. */
const STAT_CHUNK = 256;
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** One rule file's text → rule or issue, the format chosen from the extension and content. */
export function loadRuleFile(text: string, path: string): Loaded<DetectionRule> {
  if (/\.toml$/i.test(path)) {
    const parsed = parseToml(text);
    return parsed.ok ? elasticRuleFromDocument(parsed.value, path) : fail(path, parsed.reason);
  }
  const parsed = parseYaml(text);
  if (!parsed.ok) return fail(path, parsed.reason);
  const doc = parsed.value;
  if (!isRecord(doc)) return fail(path, 'yaml: not a rule (the document is not a mapping)');
  if ('logsource' in doc || 'detection' in doc) return sigmaRuleFromDocument(doc, path);
  if (looksLikeSentinelRule(doc)) return sentinelRuleFromDocument(doc, path);
  if (looksLikeSplunkDetection(doc)) return splunkRuleFromDocument(doc, path);
  return fail(path, 'yaml: not a rule: neither Sigma (logsource, detection), Sentinel (relevantTechniques, requiredDataConnectors) nor Splunk (search, tags.mitre_attack_id, data_source)');
}

/** What one rule file loads to: one rule, or several for the formats that hold many (Wazuh XML). */
export type FileRules = DetectionRule | DetectionRule[];

/** loadRuleFile, plus the many-rule formats. */
export function loadRuleFileRules(text: string, path: string): Loaded<FileRules> {
  return /\.xml$/i.test(path) ? loadWazuhRules(text, path) : loadRuleFile(text, path);
}

export interface RulesLoadResult {
  rules: DetectionRule[];
  issues: LoadIssue[];
  /** Rule files found (loaded + rejected). */
  files: number;
  /** Rule(s) of each file that loaded, by path as configured (FoundFile.display): what a reload may keep. */
  byFile: Map<string, FileRules>;
  /** Files whose parse result came from the cache, and how many of them were not even read (unchanged metadata). */
  cached: number;
  unread: number;
}

export interface RulesLoadOptions {
  maxRuleFileBytes?: number;
  /** Parsed results of unchanged files (inventory-cache.ts); updated with this load's files. */
  cache?: InventoryCache;
  /**
   * Rules of the previous load by file: a file that now fails (broken edit, half-written) keeps its
   * previous rule, and its issue says so.
   */
  previous?: ReadonlyMap<string, FileRules>;
}

/**
 * A copy of a parsed value whose strings are their own. The parsers cut titles, ids and tags out of
 * the file's text, and V8 keeps such a piece as a view of the whole text: 5,821 rules held 34 MB (their
 * files) instead of ~9 MB. Concatenating then slicing makes a new string: the file can go.
 */
function detached<T>(value: T): T {
  if (typeof value === 'string') return (value.length < 13 ? value : ` ${value}`.slice(1)) as T;
  if (Array.isArray(value)) return value.map(detached) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = detached((value as Record<string, unknown>)[key]);
  return out as T;
}

/** One file's read result → rule or issue (never throws). */
function parseRead(file: FoundFile, read: FileRead): Loaded<FileRules> {
  if (!read.ok) return fail(file.display, read.reason);
  let loaded: Loaded<FileRules>;
  try {
    loaded = loadRuleFileRules(read.text, file.relative);
  } catch (err) {
    // A parser bug on one odd file must not cost the other rules.
    return fail(file.display, `unexpected error: ${err instanceof Error ? err.message.split('\n', 1)[0] : String(err)}`);
  }
  // Rules keep the root-relative path; issues name the file as the operator configured it.
  return loaded.ok ? { ok: true, value: detached(retiredByLocation(loaded.value, file.absolute)) } : fail(file.display, loaded.issue.reason);
}

/**
 * Walks every folder (recursively, confined to it), then reads the files found a batch at a time and
 * parses each batch, or takes a file's result from the cache when it is unchanged.
 */
export async function loadRulesFromDirs(dirs: readonly string[], options: RulesLoadOptions = {}): Promise<RulesLoadResult> {
  const maxBytes = options.maxRuleFileBytes ?? DEFAULT_MAX_RULE_FILE_BYTES;
  const rules: DetectionRule[] = [];
  const issues: LoadIssue[] = [];
  const byFile = new Map<string, FileRules>();
  const found: FoundFile[] = [];
  for (const walked of await Promise.all(dirs.map((dir) => walkRoot(dir, isRuleFileName)))) {
    issues.push(...walked.issues);
    found.push(...walked.files);
  }
  const { cache, previous } = options;
  const loaded = new Array<Loaded<FileRules>>(found.length);
  const entries: CacheEntry[] = [];
  let cached = 0;
  let unread = 0;
  // Files the cache shows unchanged are not read at all; the others are read and hashed.
  const toRead: number[] = [];
  for (let i = 0; i < found.length; i += 1) {
    const file = found[i];
    const stats = cache ? statSync(file.absolute, { throwIfNoEntry: false }) : undefined;
    const entry = stats?.isFile()
      ? cache?.unchanged({ display: file.display, absolute: file.absolute, relative: file.relative, size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ino: stats.ino })
      : undefined;
    if (entry) {
      loaded[i] = entry.result;
      entries.push(entry);
      cached += 1;
      unread += 1;
    } else toRead.push(i);
    if (cache && i % STAT_CHUNK === STAT_CHUNK - 1) await nextTurn();
  }
  const hashedAt = Date.now();
  await readFilesInBatches(toRead.map((i) => found[i].absolute), maxBytes, (start, reads) => {
    reads.forEach((read, j) => {
      const i = toRead[start + j];
      const file = found[i];
      if (!read.ok) {
        loaded[i] = fail(file.display, read.reason);
        return;
      }
      const key = { display: file.display, absolute: file.absolute, relative: file.relative, size: read.size, mtimeMs: read.mtimeMs, ctimeMs: read.ctimeMs, ino: read.ino, hash: read.hash ?? '' };
      const hit = cache?.lookup(key);
      if (hit) cached += 1;
      const result = hit ?? parseRead(file, read);
      loaded[i] = result;
      if (cache) entries.push({ ...key, hashedAt, result });
    });
  }, { hash: cache !== undefined });
  found.forEach((file, i) => {
    const result = loaded[i];
    if (result.ok) {
      if (Array.isArray(result.value)) rules.push(...result.value);
      else rules.push(result.value);
      byFile.set(file.display, result.value);
      return;
    }
    const kept = previous?.get(file.display);
    if (kept) {
      rules.push(...[kept].flat());
      byFile.set(file.display, kept);
      issues.push({ path: result.issue.path, reason: `${result.issue.reason}; the previous version of this rule is kept until the file is fixed` });
    } else issues.push(result.issue);
  });
  // Sorted like the files so the cache file does not change with the order batches arrived in.
  if (cache) await cache.save(entries.sort((a, b) => (a.display < b.display ? -1 : a.display > b.display ? 1 : 0))).catch(() => undefined);
  return { rules, issues, files: found.length, byFile, cached, unread };
}
