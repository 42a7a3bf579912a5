import { normaliseTechniqueId, parentOf, techniqueIdOf, isSubTechnique } from '../coverage/attack-ids';
import type { StixObject } from '../stix/stix-types';

/**
 * Gap prevalence from intelligence instead of the shipped table: how many intrusion sets, campaigns and
 * reports use each technique — in the user's own OpenCTI (src/adapters/opencti/technique-prevalence-api.ts)
 * or in a STIX bundle such as ATT&CK itself (its `uses` relationships). Pure: the clock is an argument.
 *
 * One number per technique, 0-10 (docs/scoring.md §7):
 *   weight of one user (an intrusion set, a campaign or a report) = 1 when its use of the technique is
 *     dated within the window, then halving every further window (a use two windows old weighs 0.5);
 *     an undated use weighs 0.5;
 *   score = sum of the weights of the distinct users (a parent technique counts the users of any of its
 *     sub-techniques once);
 *   prevalence = round(10 × ln(1 + score) / ln(1 + highest score)), at least 1 — a logarithmic scale,
 *     because usage is heavy-tailed (in ATT&CK 18.1, T1105 has 300+ users, most techniques under 20).
 */

export type UserKind = 'intrusion-set' | 'campaign' | 'report';

/** One user of one technique: an intrusion set's or campaign's `uses`, or a report listing the pattern. */
export interface TechniqueUse {
  techniqueId: string;
  /** Id of the intrusion set, campaign or report. */
  user: string;
  kind: UserKind;
  /** When this use was last stated (relationship modified/created, report published); ISO. */
  date?: string;
}

export interface TechniqueUsers {
  intrusionSets: number;
  campaigns: number;
  reports: number;
  /** Users whose use falls within the window. */
  recent: number;
}

export interface PrevalenceTable {
  /** Where the uses came from. */
  origin: 'opencti' | 'bundle';
  /** What it was built from, for the explanation ("OpenCTI, 12 intrusion sets…"; "enterprise-attack-18.1.json.gz"). */
  label: string;
  /** ISO time the uses were read. */
  asOf: string;
  /** The recency window, days. */
  windowDays: number;
  /** Technique uses read (before de-duplication). */
  uses: number;
  /** 0-10 per technique id that any user uses (absent: used by none of them). */
  values: Record<string, number>;
  users: Record<string, TechniqueUsers>;
  /** The reading stopped at a page limit: the table covers only part of the intelligence. */
  truncated?: boolean;
}

/** Fewer uses than this and the intelligence says too little to rank by: the shipped table is used. */
export const MIN_USES = 20;

const DAY_MS = 86_400_000;

export function useWeight(date: string | undefined, now: Date, windowDays: number): number {
  const t = date ? Date.parse(date) : Number.NaN;
  if (Number.isNaN(t)) return 0.5;
  const age = Math.max(0, now.getTime() - t) / DAY_MS;
  return age <= windowDays ? 1 : 2 ** (-(age - windowDays) / windowDays);
}

export interface PrevalenceOptions {
  origin: PrevalenceTable['origin'];
  label: string;
  now: Date;
  windowDays: number;
  truncated?: boolean;
}

export function prevalenceFromUses(uses: readonly TechniqueUse[], options: PrevalenceOptions): PrevalenceTable {
  // technique → user → {kind, best weight}; a sub-technique's users also count for its parent.
  const byTechnique = new Map<string, Map<string, { kind: UserKind; weight: number }>>();
  const note = (id: string, use: TechniqueUse, weight: number): void => {
    let users = byTechnique.get(id);
    if (!users) byTechnique.set(id, (users = new Map()));
    const seen = users.get(use.user);
    if (!seen || seen.weight < weight) users.set(use.user, { kind: use.kind, weight });
  };
  for (const use of uses) {
    const id = normaliseTechniqueId(use.techniqueId);
    if (!id) continue;
    const weight = useWeight(use.date, options.now, options.windowDays);
    note(id, use, weight);
    if (isSubTechnique(id)) note(parentOf(id), use, weight);
  }
  const scores = new Map<string, number>();
  const users: Record<string, TechniqueUsers> = {};
  for (const [id, map] of byTechnique) {
    let score = 0;
    const u: TechniqueUsers = { intrusionSets: 0, campaigns: 0, reports: 0, recent: 0 };
    for (const { kind, weight } of map.values()) {
      score += weight;
      if (weight >= 1) u.recent += 1;
      if (kind === 'intrusion-set') u.intrusionSets += 1;
      else if (kind === 'campaign') u.campaigns += 1;
      else u.reports += 1;
    }
    scores.set(id, score);
    users[id] = u;
  }
  const top = Math.max(0, ...scores.values());
  const values: Record<string, number> = {};
  for (const [id, score] of scores) values[id] = top > 0 ? Math.max(1, Math.round((10 * Math.log1p(score)) / Math.log1p(top))) : 1;
  return {
    origin: options.origin,
    label: options.label,
    asOf: options.now.toISOString(),
    windowDays: options.windowDays,
    uses: uses.length,
    values,
    users,
    ...(options.truncated ? { truncated: true } : {}),
  };
}

const USER_KINDS: Record<string, UserKind> = { 'intrusion-set': 'intrusion-set', campaign: 'campaign' };
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const retired = (o: StixObject | undefined): boolean => o?.revoked === true || o?.x_mitre_deprecated === true;

/**
 * The uses a STIX bundle states: `uses` relationships from an intrusion set or campaign to an attack
 * pattern, and reports listing attack patterns in `object_refs`. Revoked or deprecated objects and
 * relationships are skipped (ATT&CK keeps them for history).
 */
export function usesFromBundle(objects: readonly StixObject[]): TechniqueUse[] {
  const byId = new Map<string, StixObject>();
  for (const o of objects) if (o && typeof o.id === 'string' && typeof o.type === 'string') byId.set(o.id, o);
  const techniqueOf = (id: unknown): string | undefined => {
    const pattern = typeof id === 'string' ? byId.get(id) : undefined;
    return pattern?.type === 'attack-pattern' && !retired(pattern) ? techniqueIdOf(pattern)?.id : undefined;
  };
  const out: TechniqueUse[] = [];
  for (const o of byId.values()) {
    if (o.type === 'relationship' && o.relationship_type === 'uses' && !retired(o)) {
      const source = typeof o.source_ref === 'string' ? byId.get(o.source_ref) : undefined;
      const kind = source ? USER_KINDS[source.type] : undefined;
      const techniqueId = techniqueOf(o.target_ref);
      if (!kind || !techniqueId || retired(source)) continue;
      const date = str(o.modified) ?? str(o.created);
      out.push({ techniqueId, user: source?.id as string, kind, ...(date ? { date } : {}) });
    } else if (o.type === 'report' && Array.isArray(o.object_refs)) {
      const date = str(o.published) ?? str(o.modified) ?? str(o.created);
      for (const ref of o.object_refs) {
        const techniqueId = techniqueOf(ref);
        if (techniqueId) out.push({ techniqueId, user: o.id, kind: 'report', ...(date ? { date } : {}) });
      }
    }
  }
  return out;
}

/** "14 intrusion sets, 2 campaigns, 31 reports (9 within the window)". */
export function describeUsers(u: TechniqueUsers | undefined): string {
  if (!u) return 'used by none of them';
  const parts = [
    u.intrusionSets > 0 ? `${u.intrusionSets} intrusion set${u.intrusionSets === 1 ? '' : 's'}` : '',
    u.campaigns > 0 ? `${u.campaigns} campaign${u.campaigns === 1 ? '' : 's'}` : '',
    u.reports > 0 ? `${u.reports} report${u.reports === 1 ? '' : 's'}` : '',
  ].filter(Boolean);
  return `used by ${parts.join(', ')} (${u.recent} within the window)`;
}
