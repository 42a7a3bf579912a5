import type { Gap } from '../assessment/assessment-types';
import { GAP_THRESHOLD } from '../scoring/scoring-rubric';
import { impactOf, prevalenceOf, type PriorityTables } from './gap-priorities';

/** What the engine knows about one assessed technique that matters for closing its gap. */
export interface GapCandidate {
  techniqueId: string;
  name?: string;
  detection?: number;
  prevention?: number;
  tactics: string[];
  /** Disabled or deprecated rules whose data is collected (or cannot be checked): enabling / updating one is cheap. */
  dormantRules: number;
  /** Audit-only or disabled controls covering it (switching one to block is cheap). */
  weakControls: number;
  /** Data sources its detections need (rules' sources, else ATT&CK data components). */
  neededSources: string[];
  /** The needed sources the inventory says are not collected (all of them without an inventory). */
  missingSources: string[];
  /** Share (0-1) of the needed sources already collected; absent when no inventory can tell. */
  collectedShare?: number;
}

const isDetectionGap = (c: GapCandidate): boolean => c.detection !== undefined && c.detection < GAP_THRESHOLD;
const isPreventionGap = (c: GapCandidate): boolean => c.prevention !== undefined && c.prevention < GAP_THRESHOLD;

/**
 * How cheaply the gap closes, 0-10 (docs/scoring.md). Detection gap: 3 + 6 × the share of needed
 * data already collected (5 when unknown), 9 when a dormant rule with collected data exists.
 * Prevention gap: 8 when an audit-only or disabled control exists, else 4 (a control must be
 * deployed). A technique with both gaps takes the easier of the two.
 */
export function feasibilityOf(c: GapCandidate): number {
  let value = 0;
  if (isDetectionGap(c)) {
    const byData = c.collectedShare === undefined ? 5 : 3 + Math.round(6 * Math.min(1, Math.max(0, c.collectedShare)));
    value = Math.max(value, c.dormantRules > 0 ? 9 : byData);
  }
  if (isPreventionGap(c)) value = Math.max(value, c.weakControls > 0 ? 8 : 4);
  return value;
}

/** Techniques under the threshold for a measured type, ranked by priority (then lowest detection, then id). */
export function rankGaps(candidates: GapCandidate[], tables: PriorityTables): Gap[] {
  const gaps: Gap[] = [];
  for (const c of candidates) {
    if (!isDetectionGap(c) && !isPreventionGap(c)) continue;
    const prevalence = prevalenceOf(c.techniqueId, tables);
    const impact = impactOf(c.techniqueId, c.tactics, tables);
    const feasibility = feasibilityOf(c);
    const gap: Gap = {
      techniqueId: c.techniqueId,
      priority: Math.round(prevalence * impact * feasibility),
      prevalence,
      impact,
      feasibility,
      missingDataSources: [...c.missingSources],
    };
    if (c.name) gap.name = c.name;
    if (c.detection !== undefined) gap.detection = c.detection;
    if (c.prevention !== undefined) gap.prevention = c.prevention;
    gaps.push(gap);
  }
  return gaps.sort(
    (a, b) => b.priority - a.priority || (a.detection ?? 101) - (b.detection ?? 101) || (a.techniqueId < b.techniqueId ? -1 : a.techniqueId > b.techniqueId ? 1 : 0),
  );
}
