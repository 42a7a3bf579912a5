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
  /** Disabled or deprecated rules for the technique (enabling / updating one is cheap). */
  dormantRules: number;
  /** Audit-only or disabled controls covering it (switching one to block is cheap). */
  weakControls: number;
  /** Data sources its detections need (rules' sources, else ATT&CK data components). */
  neededSources: string[];
  /** The needed sources the inventory says are not collected (all of them without an inventory). */
  missingSources: string[];
  /** A data-source inventory was loaded, so `missingSources` is known rather than assumed. */
  inventoryKnown: boolean;
}

const isDetectionGap = (c: GapCandidate): boolean => c.detection !== undefined && c.detection < GAP_THRESHOLD;
const isPreventionGap = (c: GapCandidate): boolean => c.prevention !== undefined && c.prevention < GAP_THRESHOLD;

/**
 * How cheaply the gap closes, 0-10 (docs/scoring.md): from the share of needed data already
 * collected (3 + 6 × share; 5 when unknown), raised to 9 when a dormant rule exists for a detection
 * gap and to 8 when an audit-only or disabled control exists for a prevention gap.
 */
export function feasibilityOf(c: GapCandidate): number {
  let value = 5;
  if (c.inventoryKnown && c.neededSources.length > 0) {
    const collected = c.neededSources.length - c.missingSources.length;
    value = 3 + Math.round((6 * collected) / c.neededSources.length);
  }
  if (isDetectionGap(c) && c.dormantRules > 0) value = Math.max(value, 9);
  if (isPreventionGap(c) && c.weakControls > 0) value = Math.max(value, 8);
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
