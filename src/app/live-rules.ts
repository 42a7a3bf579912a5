import type { RuleSource, RuleSourceName, SourceInventory } from '../adapters/evidence/rule-source';
import { describeSourceFailure } from '../adapters/evidence/rule-source';
import type { AssessmentResult } from '../domain/assessment/assessment-types';
import type { DetectionRule, LoadIssue } from '../domain/evidence/evidence-types';
import type { Logger } from './logger';

/**
 * The SIEM rule inventories in force: read at start, re-read every `refreshMs` (LIVE_RULES_REFRESH_SECONDS).
 * A source that fails keeps its last good inventory, and says so — in /status (`rule_sources`), in the
 * evidence issues, and in the explanation of every technique one of its rules serves. A rule failing
 * on its last execution keeps the date it was first seen failing across refreshes ("failing since").
 */

export type SourceState = 'pending' | 'ok' | 'stale' | 'unavailable';

export interface RuleSourceStatus {
  source: RuleSourceName;
  target: string;
  /** ok: last read succeeded; stale: last read failed, the last good inventory is used; unavailable: never read. */
  state: SourceState;
  rules: number;
  failing_rules: number;
  listed: number;
  last_success: string | null;
  last_attempt: string | null;
  /** First failed read in the current run of failures. */
  unreachable_since: string | null;
  error: string | null;
  last_duration_ms: number | null;
}

/** What the explanation says about a source that is not fresh. */
export interface SourceNote {
  source: RuleSourceName;
  state: 'stale' | 'unavailable';
  text: string;
  /** Ids of the rules it contributed (stale: the last good inventory's). */
  ruleIds: ReadonlySet<string>;
}

export interface LiveRules {
  /** Every source's rules in force. */
  readonly rules: DetectionRule[];
  /** Every source's issues, plus one per source that is not fresh. */
  readonly issues: LoadIssue[];
  status(): RuleSourceStatus[];
  notes(): SourceNote[];
  /** Reads every source now (one refresh at a time); resolves when all have answered or failed. */
  refresh(): Promise<void>;
  /** Periodic refresh; `onRefreshed` after each one (the daemon rebuilds its engine). */
  start(onRefreshed: () => void): void;
  close(): Promise<void>;
}

export interface LiveRulesOptions {
  log: Pick<Logger, 'info' | 'warn'>;
  refreshMs: number;
  clock?: () => Date;
}

interface Slot {
  source: RuleSource;
  inventory?: SourceInventory;
  status: RuleSourceStatus;
}

/** Keeps the first date a rule was seen failing while it keeps failing. */
function carryFailingSince(next: SourceInventory, previous: SourceInventory | undefined): SourceInventory {
  if (!previous) return next;
  const before = new Map(previous.rules.filter((r) => r.failing?.since).map((r) => [r.id, r.failing?.since as string]));
  if (before.size === 0) return next;
  const rules = next.rules.map((r) => {
    const since = before.get(r.id);
    return r.failing && since && (!r.failing.since || since < r.failing.since) ? { ...r, failing: { ...r.failing, since } } : r;
  });
  return { ...next, rules };
}

export function startLiveRules(sources: readonly RuleSource[], options: LiveRulesOptions): LiveRules {
  const clock = options.clock ?? (() => new Date());
  const slots: Slot[] = sources.map((source) => ({
    source,
    status: {
      source: source.name,
      target: source.target,
      state: 'pending',
      rules: 0,
      failing_rules: 0,
      listed: 0,
      last_success: null,
      last_attempt: null,
      unreachable_since: null,
      error: null,
      last_duration_ms: null,
    },
  }));
  let rules: DetectionRule[] = [];
  let issues: LoadIssue[] = [];
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const abort = new AbortController();

  function noteOf(slot: Slot): SourceNote | undefined {
    const s = slot.status;
    if (s.state === 'stale') {
      return {
        source: s.source,
        state: 'stale',
        text: `${s.source} (${s.target}) unreachable since ${s.unreachable_since}: ${s.error}; its last good inventory (${s.rules} rule(s), read ${s.last_success}) is used`,
        ruleIds: new Set(slot.inventory?.rules.map((r) => r.id)),
      };
    }
    if (s.state === 'unavailable') {
      return { source: s.source, state: 'unavailable', text: `${s.source} (${s.target}) unreachable since ${s.unreachable_since}: ${s.error}; none of its rules could be read`, ruleIds: new Set() };
    }
    return undefined;
  }

  function rebuild(): void {
    rules = slots.flatMap((s) => s.inventory?.rules ?? []);
    issues = slots.flatMap((s) => {
      const note = noteOf(s);
      return [...(s.inventory?.issues ?? []), ...(note ? [{ path: `${s.source.name} ${s.source.target}`, reason: note.text }] : [])];
    });
  }

  async function refreshOne(slot: Slot): Promise<void> {
    const started = clock();
    slot.status.last_attempt = started.toISOString();
    try {
      const inventory = carryFailingSince(await slot.source.fetch(abort.signal), slot.inventory);
      if (closed) return;
      const recovered = slot.status.state === 'stale' || slot.status.state === 'unavailable';
      slot.inventory = inventory;
      Object.assign(slot.status, {
        state: 'ok',
        rules: inventory.rules.length,
        failing_rules: inventory.rules.filter((r) => r.enabled && r.failing).length,
        listed: inventory.listed,
        last_success: clock().toISOString(),
        unreachable_since: null,
        error: null,
        last_duration_ms: clock().getTime() - started.getTime(),
      });
      options.log.info(
        { source: slot.source.name, target: slot.source.target, rules: inventory.rules.length, listed: inventory.listed, failing: slot.status.failing_rules, ms: slot.status.last_duration_ms },
        recovered ? 'rule source reachable again; inventory refreshed' : 'rule source read',
      );
    } catch (err) {
      if (closed) return;
      const failure = describeSourceFailure(err);
      const first = slot.status.unreachable_since === null;
      Object.assign(slot.status, {
        state: slot.inventory ? 'stale' : 'unavailable',
        unreachable_since: slot.status.unreachable_since ?? started.toISOString(),
        error: failure.message,
        last_duration_ms: clock().getTime() - started.getTime(),
      });
      options.log.warn(
        { source: slot.source.name, target: slot.source.target, kind: failure.kind, err: failure.message, kept_rules: slot.inventory?.rules.length ?? 0, first_failure: first },
        slot.inventory ? 'rule source unreachable; its last good inventory is kept' : 'rule source unreachable; none of its rules are loaded',
      );
    }
  }

  const refresh = (): Promise<void> => {
    running ??= (async () => {
      try {
        await Promise.all(slots.map(refreshOne));
        rebuild();
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  return {
    get rules() {
      return rules;
    },
    get issues() {
      return issues;
    },
    status: () => slots.map((s) => ({ ...s.status })),
    notes: () => slots.map(noteOf).filter((n): n is SourceNote => n !== undefined),
    refresh,
    start(onRefreshed) {
      if (timer || closed) return;
      timer = setInterval(() => {
        void refresh().then(onRefreshed, (err: unknown) => options.log.warn({ err: describeSourceFailure(err).message }, 'rule source refresh failed'));
      }, options.refreshMs);
      timer.unref();
    },
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      abort.abort();
      await running?.catch(() => undefined);
      await Promise.all(slots.map((s) => s.source.close().catch(() => undefined)));
    },
  };
}

/**
 * The assessment with the sources' state in its explanation: every note as a warning, and on each
 * technique the notes of the sources whose rules it counted (stale) or that could not be read at all.
 */
export function withSourceNotes(result: AssessmentResult, notes: readonly SourceNote[]): AssessmentResult {
  if (notes.length === 0) return result;
  const techniques = result.techniques.map((t) => {
    const ids = new Set([...(t.rules ?? []), ...(t.evidence?.rules ?? []).map((r) => r.id)]);
    const relevant = notes.filter((n) => n.state === 'unavailable' || [...ids].some((id) => n.ruleIds.has(id)));
    return relevant.length === 0 ? t : { ...t, why: [...t.why, ...relevant.map((n) => `rule source ${n.text}`)] };
  });
  return { ...result, techniques, warnings: [...result.warnings, ...notes.map((n) => `rule source ${n.text}`)] };
}
