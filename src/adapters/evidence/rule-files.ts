import type { DetectionRule, LoadIssue } from '../../domain/evidence/evidence-types';
import { elasticRuleFromDocument } from './elastic-loader';
import { fail, isRecord, parseToml, parseYaml, type Loaded } from './parse-text';
import { defaultWorkerCount, loadOnWorkers } from './parse-pool';
import { DEFAULT_MAX_RULE_FILE_BYTES, mapLimit, READ_CONCURRENCY, readTextBounded, readTextBoundedSync, walkRoot, type FoundFile } from './safe-files';
import { sigmaRuleFromDocument } from './sigma-loader';
import { looksLikeSplunkDetection, splunkRuleFromDocument } from './splunk-loader';

/**
 * Rule folders → DetectionRules. Each file is read once and parsed once; the parsed document's shape
 * picks the format: `.toml` is Elastic; YAML with `logsource` / `detection` is Sigma; YAML with
 * `search`, `tags.mitre_attack_id` or `data_source` is Splunk. Other extensions are ignored.
 */

const RULE_FILE = /\.(ya?ml|toml)$/i;

export const isRuleFileName = (name: string): boolean => RULE_FILE.test(name);

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
  if (looksLikeSplunkDetection(doc)) return splunkRuleFromDocument(doc, path);
  return fail(path, 'yaml: not a rule: neither Sigma (logsource, detection) nor Splunk (search, tags.mitre_attack_id, data_source)');
}

export interface RulesLoadResult {
  rules: DetectionRule[];
  issues: LoadIssue[];
  /** Rule files found (loaded + rejected). */
  files: number;
}

export interface RulesLoadOptions {
  maxRuleFileBytes?: number;
  /** Files read at once per thread (default 32). */
  concurrency?: number;
  /** Extra parser threads: 0 parses on the event loop only; default: cores - 1 (max 3) from 400 files up. */
  workers?: number;
}

type ReadResult = { ok: true; text: string } | { ok: false; reason: string };

async function loadFound(file: FoundFile, maxBytes: number): Promise<Loaded<DetectionRule>> {
  return parseRead(file, await readTextBounded(file.absolute, maxBytes));
}

function parseRead(file: FoundFile, read: ReadResult): Loaded<DetectionRule> {
  if (!read.ok) return fail(file.display, read.reason);
  let loaded: Loaded<DetectionRule>;
  try {
    loaded = loadRuleFile(read.text, file.relative);
  } catch (err) {
    // A parser bug on one odd file must not cost the other rules.
    return fail(file.display, `unexpected error: ${err instanceof Error ? err.message.split('\n', 1)[0] : String(err)}`);
  }
  // Rules keep the root-relative path; issues name the file as the operator configured it.
  return loaded.ok ? loaded : fail(file.display, loaded.issue.reason);
}

/** Reads and parses found files in this thread, at most `concurrency` at a time, results in order. */
export function loadFoundRuleFiles(files: readonly FoundFile[], maxBytes: number, concurrency = READ_CONCURRENCY): Promise<Array<Loaded<DetectionRule>>> {
  return mapLimit(files, concurrency, (file) => loadFound(file, maxBytes));
}

/** Blocking variant for worker threads (parse-worker.ts): same results as loadFoundRuleFiles. */
export function loadFoundRuleFilesSync(files: readonly FoundFile[], maxBytes: number): Array<Loaded<DetectionRule>> {
  return files.map((file) => parseRead(file, readTextBoundedSync(file.absolute, maxBytes)));
}

/**
 * Walks every folder (recursively, confined to it), then reads and parses the files found; a large
 * set is spread over worker threads (parse-pool.ts).
 */
export async function loadRulesFromDirs(dirs: readonly string[], options: RulesLoadOptions = {}): Promise<RulesLoadResult> {
  const maxBytes = options.maxRuleFileBytes ?? DEFAULT_MAX_RULE_FILE_BYTES;
  const rules: DetectionRule[] = [];
  const issues: LoadIssue[] = [];
  // Walk every root first so that one pool serves all of them.
  const found: FoundFile[] = [];
  for (const walked of await Promise.all(dirs.map((dir) => walkRoot(dir, isRuleFileName)))) {
    issues.push(...walked.issues);
    found.push(...walked.files);
  }
  const inThread = (batch: readonly FoundFile[]) => loadFoundRuleFiles(batch, maxBytes, options.concurrency);
  const workers = options.workers ?? defaultWorkerCount(found.length);
  const loaded = workers > 0 ? await loadOnWorkers(found, maxBytes, workers, inThread) : await inThread(found);
  for (const result of loaded) {
    if (result.ok) rules.push(result.value);
    else issues.push(result.issue);
  }
  return { rules, issues, files: found.length };
}
