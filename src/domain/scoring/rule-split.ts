import type { EvidenceRule } from '../assessment/assessment-types';
import { isSubTechnique } from '../coverage/attack-ids';
import { runsOn } from '../coverage/platforms';
import { setBounded } from '../bounded-map';
import type { EvidenceIndex, IndexedRule } from './evidence-index';
import { ruleRecords } from './technique-evidence';

/**
 * The rules credited to a technique, split by what they can do, with what the scoring reads of them
 * (technique-scoring.ts). Pure, and kept per index: see ruleSplit.
 */

function creditedRules(index: EvidenceIndex, id: string, rollup: boolean): IndexedRule[] {
  const exact = index.rulesFor(id);
  const fromSubs = rollup && !isSubTechnique(id) ? index.subRulesFor(id) : [];
  if (fromSubs.length === 0) return exact;
  const seen = new Set(exact.map((r) => r.rule));
  return [...exact, ...fromSubs.filter((r) => !seen.has(r.rule))];
}

/** The rules credited to a technique on one platform (undefined: every rule), split by what they can do. */
export interface RuleSplit {
  /** Credited rules that run on the platform (usable or not). */
  credited: IndexedRule[];
  usable: IndexedRule[];
  dormant: IndexedRule[];
  /** Usable and fed (or not known to be starved): only these add rule quality and enrichment. */
  firing: IndexedRule[];
  starved: IndexedRule[];
  /** The evidence records of `credited`, one per rule id, sorted (built on first use). */
  records?: EvidenceRule[];
  /** The ids of `usable`, each once (built on first use). */
  usableIds?: string[];
  /** What feeds `usable`, and `dormant` (built on first use). */
  usableFeeds?: Feeds;
  dormantFeeds?: Feeds;
  /** The data sources the starved rules lack, each once (built on first use). */
  starvedNeeds?: string;
}

/** The data sources of a list of rules: which feed them, which they lack. */
export interface Feeds {
  /** Rules that declare a data source, and of those, the fed ones. */
  declared: number;
  fed: number;
  /** Distinct, first-seen order: the fed rules' sources; the known sources not collected; the sources the inventory lacks. */
  collected: string[];
  notCollected: string[];
  unknown: string[];
  /** Sorted: each declaring rule's source; the sources missing for the unfed ones. */
  needed: string[];
  missing: string[];
}

function feedsOf(rules: IndexedRule[], inventory: boolean): Feeds {
  let declared = 0;
  let fed = 0;
  const collected = new Set<string>();
  const notCollected = new Set<string>();
  const unknown = new Set<string>();
  const needed = new Set<string>();
  const missing = new Set<string>();
  for (const { feed } of rules) {
    if (!feed.declared) continue;
    declared += 1;
    const primary = feed.primary as string;
    needed.add(primary);
    if (feed.fed) {
      fed += 1;
      collected.add(primary);
      continue;
    }
    if (feed.known) for (const m of feed.missing) notCollected.add(m);
    else unknown.add(primary);
    if (inventory) for (const m of feed.missing) missing.add(m);
    else missing.add(primary);
  }
  return { declared, fed, collected: [...collected], notCollected: [...notCollected], unknown: [...unknown], needed: [...needed].sort(), missing: [...missing].sort() };
}

export const NO_FEEDS: Feeds = { declared: 0, fed: 0, collected: [], notCollected: [], unknown: [], needed: [], missing: [] };

/**
 * A split depends only on the index and (technique, roll-up, platform): made once per index and shared
 * by every assessment that asks for the same technique (the daemon assesses thousands of coverages,
 * over the same few hundred techniques, with one index). Splits are read-only. A technique no rule
 * credits shares one empty split, and the oldest splits go past MAX_SPLITS (platform names come from
 * the coverages, so the keys are not bounded by the index alone).
 */
const splits = new WeakMap<EvidenceIndex, Map<string, RuleSplit>>();
const MAX_SPLITS = 20_000;
const EMPTY_SPLIT: RuleSplit = { credited: [], usable: [], dormant: [], firing: [], starved: [], records: [], usableIds: [], usableFeeds: NO_FEEDS, dormantFeeds: NO_FEEDS };

export function ruleSplit(index: EvidenceIndex, id: string, rollup: boolean, platform: string | undefined): RuleSplit {
  let byKey = splits.get(index);
  if (!byKey) splits.set(index, (byKey = new Map()));
  const key = `${rollup ? '+' : '-'}${platform ?? ''} ${id}`;
  const cached = byKey.get(key);
  if (cached) return cached;
  const all = creditedRules(index, id, rollup);
  if (all.length === 0) return EMPTY_SPLIT;
  const credited: IndexedRule[] = [];
  const usable: IndexedRule[] = [];
  const dormant: IndexedRule[] = [];
  const firing: IndexedRule[] = [];
  const starved: IndexedRule[] = [];
  for (const r of all) {
    if (platform && !runsOn(r.rule.platforms, platform)) continue;
    credited.push(r);
    if (!r.usable) dormant.push(r);
    else {
      usable.push(r);
      (r.fires ? firing : starved).push(r);
    }
  }
  const split: RuleSplit = { credited, usable, dormant, firing, starved };
  return setBounded(byKey, key, split, MAX_SPLITS);
}

export const splitRecords = (split: RuleSplit, index: EvidenceIndex): EvidenceRule[] => (split.records ??= ruleRecords(split.credited, index.evidence.hasDataSourceInventory));
export const usableIds = (split: RuleSplit): string[] => (split.usableIds ??= [...new Set(split.usable.map((r) => r.rule.id))]);
export const usableFeeds = (split: RuleSplit, index: EvidenceIndex): Feeds => (split.usableFeeds ??= feedsOf(split.usable, index.evidence.hasDataSourceInventory));
export const dormantFeeds = (split: RuleSplit, index: EvidenceIndex): Feeds => (split.dormantFeeds ??= feedsOf(split.dormant, index.evidence.hasDataSourceInventory));
