import type { Gap } from '../assessment/assessment-types';
import { isSubTechnique, parentOf } from '../coverage/attack-ids';
import { GAP_THRESHOLD } from '../scoring/scoring-rubric';
import { impactOf, rankedPrevalence, type PriorityTables, type RankedPrevalence } from './gap-priorities';

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
  /** Enabled rules that count (on the weakest platform). */
  usableRules?: number;
  /** An emulation result exists for it. */
  validated?: boolean;
  /** A disabled rule whose data is collected: the first thing to try. */
  disabledRule?: string;
  /** An enabled but deprecated rule whose data is collected. */
  deprecatedRule?: string;
  /** An enabled rule that cannot fire, and the source it waits for. */
  starvedRule?: { title: string; source: string };
  /** The best audit-only or disabled control. */
  weakControl?: { name: string; mode: string };
  /** ATT&CK mitigations of the technique (catalogue). */
  mitigations?: string[];
  /** The coverage's platforms where detection / prevention is weakest, when it names several. */
  detectionPlatforms?: string[];
  preventionPlatforms?: string[];
}

type Dimension = 'detection' | 'prevention';

const isDetectionGap = (c: GapCandidate): boolean => c.detection !== undefined && c.detection < GAP_THRESHOLD;
const isPreventionGap = (c: GapCandidate): boolean => c.prevention !== undefined && c.prevention < GAP_THRESHOLD;

/** Detection gap: 3 + 6 × the share of needed data already collected (5 when unknown), 9 when a dormant rule with collected data exists. */
function detectionFeasibility(c: GapCandidate): number {
  const byData = c.collectedShare === undefined ? 5 : 3 + Math.round(6 * Math.min(1, Math.max(0, c.collectedShare)));
  return c.dormantRules > 0 ? 9 : byData;
}

/** Prevention gap: 8 when an audit-only or disabled control exists (switch it to block), else 4 (a control must be deployed). */
const preventionFeasibility = (c: GapCandidate): number => (c.weakControls > 0 ? 8 : 4);

/**
 * How cheaply the gap closes, 0-10 (docs/scoring.md §7). A technique with both gaps takes the easier of
 * the two, and that is the dimension it is listed under.
 */
export function feasibilityOf(c: GapCandidate): number {
  return Math.max(isDetectionGap(c) ? detectionFeasibility(c) : 0, isPreventionGap(c) ? preventionFeasibility(c) : 0);
}

/** The type to work on: the one under the threshold; when both are, the cheaper to close, then the lower score. */
export function dimensionOf(c: GapCandidate): Dimension {
  if (!isPreventionGap(c)) return 'detection';
  if (!isDetectionGap(c)) return 'prevention';
  const d = detectionFeasibility(c);
  const p = preventionFeasibility(c);
  if (d !== p) return d > p ? 'detection' : 'prevention';
  return (c.prevention as number) < (c.detection as number) ? 'prevention' : 'detection';
}

/**
 * 0-1, what neither type covers: (1 − detection/100) × (1 − prevention/100), reading each score as the
 * chance an attempt is seen / blocked; a type not measured covers nothing. A technique detected at 99
 * with an audit-only control is a gap, but a small one.
 */
export function exposureOf(c: GapCandidate): number {
  return (1 - (c.detection ?? 0) / 100) * (1 - (c.prevention ?? 0) / 100);
}

const onPlatforms = (platforms: string[] | undefined): string => (platforms && platforms.length > 0 ? ` on ${platforms.join(', ')}` : '');

/** What would close the gap, most specific first (docs/scoring.md §7). */
export function actionOf(c: GapCandidate, dimension: Dimension): string {
  if (dimension === 'prevention') {
    const where = onPlatforms(c.preventionPlatforms);
    if (c.weakControl) return c.weakControl.mode === 'audit' ? `switch control "${c.weakControl.name}" from audit to block${where}` : `enable control "${c.weakControl.name}" in block mode${where}`;
    const mitigations = (c.mitigations ?? []).slice(0, 3);
    return `add a prevention control${where}${mitigations.length > 0 ? ` (ATT&CK mitigations ${mitigations.join(', ')})` : ''}`;
  }
  const where = onPlatforms(c.detectionPlatforms);
  if (c.disabledRule) return `enable rule "${c.disabledRule}"${where}`;
  if (c.starvedRule) return `collect ${c.starvedRule.source} (rule "${c.starvedRule.title}" depends on it)${where}`;
  if (c.deprecatedRule) return `replace deprecated rule "${c.deprecatedRule}"${where}`;
  if ((c.usableRules ?? 0) === 0) {
    const missing = c.collectedShare !== undefined && c.collectedShare < 1 ? c.missingSources.slice(0, 2) : [];
    return `write or enable a detection rule${where}${missing.length > 0 ? `, collecting ${missing.join(', ')}` : ''}`;
  }
  if (!c.validated) return `validate the rules with an emulation${where}`;
  return `improve the rules${where} (maturity, severity, triage context)`;
}

export interface RankOptions {
  /** Prevalence per technique and its source; default: the tables alone. */
  prevalence?: (techniqueId: string) => RankedPrevalence;
}

/**
 * Techniques under the threshold for a measured type, ranked by priority (then lowest detection, then
 * id). A parent technique and its sub-techniques are not listed twice: when a sub-technique is a gap,
 * its parent's gap is folded into it (`covers`).
 */
export function rankGaps(candidates: GapCandidate[], tables: PriorityTables, options: RankOptions = {}): Gap[] {
  const prevalenceFor = options.prevalence ?? ((id: string) => rankedPrevalence(id, tables));
  const gaps: Gap[] = [];
  for (const c of candidates) {
    if (!isDetectionGap(c) && !isPreventionGap(c)) continue;
    const prevalence = prevalenceFor(c.techniqueId);
    const impact = impactOf(c.techniqueId, c.tactics, tables);
    const feasibility = feasibilityOf(c);
    const exposure = exposureOf(c);
    const dimension = dimensionOf(c);
    const gap: Gap = {
      techniqueId: c.techniqueId,
      priority: Math.round(prevalence.value * impact * feasibility * exposure),
      prevalence: prevalence.value,
      impact,
      feasibility,
      exposure: Math.round(exposure * 100) / 100,
      missingDataSources: [...c.missingSources],
      dimension,
      action: actionOf(c, dimension),
      prevalenceSource: prevalence.source,
    };
    if (c.name) gap.name = c.name;
    if (c.detection !== undefined) gap.detection = c.detection;
    if (c.prevention !== undefined) gap.prevention = c.prevention;
    const platforms = dimension === 'detection' ? c.detectionPlatforms : c.preventionPlatforms;
    if (platforms?.length) gap.platforms = [...platforms];
    gaps.push(gap);
  }
  gaps.sort((a, b) => b.priority - a.priority || (a.detection ?? 101) - (b.detection ?? 101) || (a.techniqueId < b.techniqueId ? -1 : a.techniqueId > b.techniqueId ? 1 : 0));
  const withSubGap = new Set(gaps.filter((g) => isSubTechnique(g.techniqueId)).map((g) => parentOf(g.techniqueId)));
  const out: Gap[] = [];
  for (const g of gaps) {
    if (withSubGap.has(g.techniqueId)) continue;
    if (isSubTechnique(g.techniqueId)) {
      const parent = parentOf(g.techniqueId);
      // The highest-ranked sub-technique gap stands for its parent's.
      if (gaps.some((p) => p.techniqueId === parent) && !out.some((o) => o.covers?.includes(parent))) g.covers = [parent];
    }
    out.push(g);
  }
  return out;
}
