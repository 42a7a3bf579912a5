import type { AttackCatalogue } from '../evidence/evidence-types';
import { isSubTechnique, parentOf } from './attack-ids';

/**
 * The same technique under the ids of different ATT&CK versions. Rules move to new ids before
 * intelligence does (SigmaHQ and Elastic already tag ATT&CK v19 ids such as T1685 while an OpenCTI
 * loaded with ATT&CK 18 still holds T1562.001), so a rule is credited for the technique the container
 * uses under either id.
 *
 * Two sources, merged: the catalogue's own `revoked-by` relationships (any version, chains followed),
 * and the table below for the ATT&CK v19 re-organisation, which a v18 catalogue cannot know about.
 */

/**
 * ATT&CK v18 → v19. v19 (April 2026) split the Defense Evasion tactic into Stealth (TA0005) and Defense
 * Impairment (TA0112); Impair Defenses (T1562) and the log-clearing sub-techniques of Indicator Removal
 * moved to new techniques, Impersonation and Email Spoofing were regrouped under T1684. Taken from
 * MITRE's v19 revocations (the `revoked-by` relationships of the v19 bundle) as published in the release
 * and mirrored by the rule repositories' own migration maps (e.g. elastic/detection-rules: T1562.001 →
 * T1685). Several v18 ids may share one v19 id (T1562, T1562.001 and T1562.006 all became T1685).
 */
export const ATTACK_V18_TO_V19: Readonly<Record<string, string>> = {
  T1562: 'T1685',
  'T1562.001': 'T1685',
  'T1562.002': 'T1685.001',
  'T1562.003': 'T1690',
  'T1562.004': 'T1686',
  'T1562.006': 'T1685',
  'T1562.007': 'T1686.001',
  'T1562.008': 'T1685.002',
  'T1562.009': 'T1688',
  'T1562.010': 'T1689',
  'T1562.011': 'T1685.003',
  'T1562.012': 'T1685.004',
  'T1562.013': 'T1686.002',
  'T1070.001': 'T1685.005',
  'T1070.002': 'T1685.006',
  T1656: 'T1684.001',
  T1672: 'T1684.002',
};

/** Names of the v19 ids above, for explanations when the catalogue is older than v19. */
export const ATTACK_V19_NAMES: Readonly<Record<string, string>> = {
  T1685: 'Disable or Modify Tools',
  'T1685.001': 'Disable or Modify Windows Event Log',
  'T1685.002': 'Disable or Modify Cloud Logs',
  'T1685.003': 'Spoof Security Alerting',
  'T1685.004': 'Disable or Modify Linux Audit System',
  'T1685.005': 'Clear Windows Event Logs',
  'T1685.006': 'Clear Linux or Mac System Logs',
  T1686: 'Disable or Modify System Firewall',
  'T1686.001': 'Disable or Modify Cloud Firewall',
  'T1686.002': 'Disable or Modify Network Device Firewall',
  T1688: 'Safe Mode Boot',
  T1689: 'Downgrade Attack',
  T1690: 'Prevent Command History Logging',
  'T1684.001': 'Impersonation',
  'T1684.002': 'Email Spoofing',
};

/** How one id relates to another across versions, for the `why` lines. */
export interface IdTranslation {
  /** The id it is the same technique as. */
  id: string;
  via: 'revoked-by' | 'v18-v19' | 'parent';
}

export interface AttackCrosswalk {
  /** Other ids of the same technique (never the id itself), with where the equivalence comes from. */
  equivalents(id: string): IdTranslation[];
  /**
   * The id a technique unknown to the catalogue is known under, trying its parent too (a new v19
   * sub-technique T1686.003 is a variant of T1686, itself T1562.004 in v18). Undefined when none.
   */
  placed(id: string): IdTranslation | undefined;
  /** Is the id a live (not revoked, not deprecated) technique of the catalogue? Always true without one. */
  known(id: string): boolean;
}

function addPair(map: Map<string, IdTranslation[]>, a: string, b: string, via: IdTranslation['via']): void {
  if (a === b) return;
  for (const [from, to] of [
    [a, b],
    [b, a],
  ]) {
    const list = map.get(from) ?? [];
    if (!list.some((t) => t.id === to)) list.push({ id: to, via });
    map.set(from, list);
  }
}

/**
 * Builds the crosswalk. Ids sharing one successor are each equivalent to the successor, not to each
 * other (T1562.001 and T1562.006 are both T1685, but a T1562.001 rule says nothing of T1562.006).
 */
export function buildAttackCrosswalk(catalogue?: AttackCatalogue): AttackCrosswalk {
  const pairs = new Map<string, IdTranslation[]>();
  for (const [old, next] of Object.entries(ATTACK_V18_TO_V19)) addPair(pairs, old, next, 'v18-v19');
  for (const t of Object.values(catalogue?.techniques ?? {})) {
    if (!t.revoked || !t.revokedBy) continue;
    let next = t.revokedBy;
    for (let hops = 0; hops < 10 && catalogue?.techniques[next]?.revoked && catalogue.techniques[next].revokedBy; hops++) next = catalogue.techniques[next].revokedBy as string;
    addPair(pairs, t.id, next, 'revoked-by');
  }
  const live = (id: string): boolean => {
    const entry = catalogue?.techniques[id];
    return !!entry && !entry.revoked && !entry.deprecated;
  };
  const equivalents = (id: string): IdTranslation[] => pairs.get(id) ?? [];
  return {
    equivalents,
    known: (id) => !catalogue || live(id),
    placed(id) {
      if (!catalogue) return undefined;
      const direct = equivalents(id).find((t) => live(t.id));
      if (direct) return direct;
      if (!isSubTechnique(id)) return undefined;
      const parent = parentOf(id);
      if (live(parent)) return { id: parent, via: 'parent' };
      const viaParent = equivalents(parent).find((t) => live(t.id));
      return viaParent ? { id: viaParent.id, via: 'parent' } : undefined;
    },
  };
}
