import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { Config } from '../../schemas/config';
import { PrioritiesFileSchema } from '../../schemas/priorities';
import { loadEvidenceDetailed, openInventoryCache, watchEvidence, type EvidenceWatch, type FileRules, type InventoryCache, type loadEvidence } from '../adapters/evidence';
import type { Assessor } from '../domain/assessment/assessment-types';
import type { EvidenceSet, LoadIssue } from '../domain/evidence/evidence-types';
import type { PriorityOverrides } from '../domain/gaps/gap-priorities';
import type { PrevalenceTable } from '../domain/gaps/prevalence';
import { createEmbeddedAssessor } from '../domain/scoring/embedded-engine';
import { errorMessageOf } from '../errors';
import type { RuleSource } from '../adapters/evidence/rule-source';
import { startLiveRules, withSourceNotes, type LiveRules, type RuleSourceStatus } from './live-rules';
import type { Logger } from './logger';
import { configuredRuleSources } from './rule-sources';

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
    // The daemon and `assess --coverage` share it (each save is an atomic rename).
    ...(c.cache_file ? { cacheFile: c.cache_file } : {}),
  };
}

/** Every configured evidence path, for the watcher. */
export function evidencePathsOf(config: Readonly<Config>): string[] {
  const c = config.coverage;
  return [...c.rules_dirs, c.controls_file, c.data_sources_file, c.validation_file, ...c.layers, c.attack_catalogue, c.priorities_file].filter(
    (p): p is string => typeof p === 'string' && p !== '',
  );
}

const MAX_LOGGED_ISSUES = 50;

/** One warning per skipped evidence file, capped so a big third-party repository cannot flood the log. */
export function logEvidenceIssues(log: Logger, issues: readonly LoadIssue[]): void {
  for (const issue of issues.slice(0, MAX_LOGGED_ISSUES)) log.warn({ path: issue.path, reason: issue.reason }, 'evidence file skipped');
  if (issues.length > MAX_LOGGED_ISSUES) {
    log.warn({ skipped: issues.length - MAX_LOGGED_ISSUES }, 'more evidence files skipped (not listed); run `coverage-connector assess` to see them all');
  }
}

export interface LiveEvidence {
  /** The evidence in force (replaced by each successful reload). */
  readonly evidence: EvidenceSet;
  /**
   * For `createAssessor`: an embedded engine that always scores with the evidence in force, so a
   * reload takes effect for the next assessment without rebuilding the other backends.
   */
  createEmbedded(evidence: EvidenceSet): Assessor;
  /** Loads the evidence again now (unchanged rule files come from the cache); one at a time. */
  reload(changed?: string[]): Promise<void>;
  /** Reloads done since start. */
  readonly reloads: number;
  /** Resolves once the watcher has scanned the files (at once when not watching). */
  readonly watching: Promise<void>;
  /** State of each SIEM rule source (live-rules.ts), for /status; absent when none is configured. */
  ruleSources?(): RuleSourceStatus[];
  /** Reads the rule sources now and rebuilds the engine (what the periodic refresh does). */
  refreshRuleSources?(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The daemon's evidence: loaded at start (through `coverage.cache_file` when set), then reloaded when
 * a configured file or folder changes (`coverage.watch`, debounced by `coverage.watch_debounce_ms`).
 * A rule file that breaks keeps its previous rule (its issue says so); a reload that fails as a whole
 * keeps the evidence in force. Only new issues are logged at a reload.
 */
export async function startLiveEvidence(
  config: Readonly<Config>,
  log: Logger,
  options: { watch?: boolean; ruleSources?: RuleSource[]; prevalence?: GapPrevalence } = {},
): Promise<LiveEvidence> {
  const started = Date.now();
  let cache: InventoryCache | undefined;
  const cacheFile = config.coverage.cache_file;
  if (cacheFile) cache = await openInventoryCache(cacheFile);
  // SIEM rule sources (Kibana, Splunk, Sentinel, Wazuh): read once before the first engine, then every
  // LIVE_RULES_REFRESH_SECONDS; their rules join the rule files' (an unreachable one keeps its last good).
  const sources = options.ruleSources ?? configuredRuleSources(config, log);
  const liveRules: LiveRules | undefined = sources.length > 0 ? startLiveRules(sources, { log, refreshMs: config.live_rules.refresh_seconds * 1000 }) : undefined;
  await liveRules?.refresh();
  const withLiveRules = (e: EvidenceSet): EvidenceSet => (liveRules ? { ...e, rules: [...e.rules, ...liveRules.rules], issues: [...e.issues, ...liveRules.issues] } : e);
  const load = async (previousRules?: ReadonlyMap<string, FileRules>) => {
    const loaded = await loadEvidenceDetailed({ ...evidenceOptionsOf(config), ...(cache ? { cache } : {}), ...(previousRules ? { previousRules } : {}) });
    // Read with the evidence: a bad `coverage.priorities_file` is one of its issues.
    const factory = await embeddedFactoryOf(config, loaded.evidence.issues, options.prevalence);
    const evidence = withLiveRules(loaded.evidence);
    return { loaded, factory, evidence, engine: factory(evidence) };
  };
  let current = await load();
  if (current.loaded.cacheIgnored) log.warn({ cache_file: cacheFile, reason: current.loaded.cacheIgnored }, 'rule cache ignored; rebuilt from the rule files');
  log.info(
    { rule_files: current.loaded.files, rules: current.loaded.evidence.rules.length, parsed: current.loaded.files - current.loaded.cached, from_cache: current.loaded.cached, ms: Date.now() - started },
    'evidence loaded',
  );
  logEvidenceIssues(log, current.evidence.issues);

  let reloads = 0;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;
  const reloadOnce = async (changed?: string[]): Promise<void> => {
    const t0 = Date.now();
    const before = new Set(current.loaded.evidence.issues.map((i) => `${i.path}\n${i.reason}`));
    try {
      const next = await load(current.loaded.ruleFiles);
      if (closed) return;
      current = next;
      reloads += 1;
      const ev = next.loaded.evidence;
      log.info(
        { rules: ev.rules.length, rule_files: next.loaded.files, parsed: next.loaded.files - next.loaded.cached, issues: ev.issues.length, ms: Date.now() - t0, ...(changed ? { changed: changed.slice(0, 10) } : {}) },
        'evidence reloaded',
      );
      logEvidenceIssues(log, ev.issues.filter((i) => !before.has(`${i.path}\n${i.reason}`)));
    } catch (err) {
      log.error({ err: errorMessageOf(err) }, 'evidence reload failed; the evidence in force is kept');
    }
  };
  const reload = (changed?: string[]): Promise<void> => {
    if (running) {
      // A change during a reload: one more pass once it is done (it reads the files again anyway).
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await reloadOnce(changed);
        } while (again && !closed);
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  const paths = evidencePathsOf(config);
  let watcher: EvidenceWatch | undefined;
  if ((options.watch ?? config.coverage.watch) && paths.length > 0) {
    watcher = watchEvidence(paths, {
      debounceMs: config.coverage.watch_debounce_ms,
      onChange: (changed) => void reload(changed),
      onError: (err) => log.warn({ err: err.message }, 'evidence watcher error; reload on change may miss some changes'),
    });
    // Not awaited: the initial scan of a big tree must not delay the start (changes during it are missed).
    void watcher.ready.then(() => log.info({ paths: paths.length, debounce_ms: config.coverage.watch_debounce_ms }, 'watching the evidence files for changes'));
  }

  const withRefreshedSources = (): void => {
    if (closed) return;
    const evidence = withLiveRules(current.loaded.evidence);
    current = { ...current, evidence, engine: current.factory(evidence) };
  };
  liveRules?.start(withRefreshedSources);

  const live: Assessor = {
    get name() {
      return current.engine.name;
    },
    assess: async (request, ctx) => {
      const result = await current.engine.assess(request, ctx);
      return liveRules ? withSourceNotes(result, liveRules.notes()) : result;
    },
    inputsVersion: (request) => {
      const engine = current.engine.inputsVersion?.(request);
      if (engine === undefined || !liveRules) return engine;
      // The rule sources' notes go into the result too.
      return `${engine} ${liveRules.notes().map((n) => `${n.state}:${n.text}`).join('|')}`;
    },
  };
  return {
    get evidence() {
      return current.evidence;
    },
    get reloads() {
      return reloads;
    },
    watching: watcher ? watcher.ready : Promise.resolve(),
    createEmbedded: () => live,
    reload,
    ...(liveRules
      ? {
          ruleSources: () => liveRules.status(),
          refreshRuleSources: async () => {
            await liveRules.refresh();
            withRefreshedSources();
          },
        }
      : {}),
    async close() {
      closed = true;
      await watcher?.close();
      await liveRules?.close();
      await running;
    },
  };
}

/** The embedded-engine factory for `createAssessor`; reads `coverage.priorities_file` (a bad file is an issue, defaults apply). */
export async function embeddedFactoryOf(config: Readonly<Config>, issues: LoadIssue[], prevalence?: GapPrevalence): Promise<(evidence: EvidenceSet) => Assessor> {
  const file = config.coverage.priorities_file;
  const priorities = file ? await readPriorities(file, issues) : undefined;
  return (evidence) =>
    createEmbeddedAssessor(evidence, {
      aggregate: config.coverage.aggregate,
      rollupSubtechniques: config.coverage.rollup_subtechniques,
      ...(priorities ? { priorities } : {}),
      ...(prevalence ? { prevalence } : {}),
    });
}

/** The gap prevalence in force (src/app/prevalence-source.ts), asked for at each assessment. */
export type GapPrevalence = () => PrevalenceTable | undefined;

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
