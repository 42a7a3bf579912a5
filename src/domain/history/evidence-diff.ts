import type { EvidenceRule, TechniqueEvidence } from '../assessment/assessment-types';
import type { ControlMode, RuleMaturity, ValidationOutcome } from '../evidence/evidence-types';
import type { Cause, CauseKind, ScoreName, TechniqueSnapshot } from './history-types';

/**
 * What changed in the evidence of one technique between two runs, as causes. Each kind says whether
 * it lowers or raises a score and which score it can move, so a DETECTION drop is explained by rule,
 * data-source, emulation or import changes and a PREVENTION drop by control or emulation changes.
 */

type Direction = 'worse' | 'better' | 'either';
const D: ScoreName[] = ['DETECTION'];
const P: ScoreName[] = ['PREVENTION'];
const DP: ScoreName[] = ['DETECTION', 'PREVENTION'];

export const CAUSE_KINDS: Readonly<Record<CauseKind, { direction: Direction; affects: ScoreName[] }>> = {
  'rule-removed': { direction: 'worse', affects: D },
  'rule-disabled': { direction: 'worse', affects: D },
  'rule-deprecated': { direction: 'worse', affects: D },
  'rule-downgraded': { direction: 'worse', affects: D },
  'rule-not-counted': { direction: 'worse', affects: D },
  'data-source-lost': { direction: 'worse', affects: D },
  'emulation-worse': { direction: 'worse', affects: DP },
  'control-removed': { direction: 'worse', affects: P },
  'control-disabled': { direction: 'worse', affects: P },
  'control-audit': { direction: 'worse', affects: P },
  'control-unvalidated': { direction: 'worse', affects: P },
  'import-lower': { direction: 'worse', affects: D },
  'technique-added': { direction: 'worse', affects: DP },
  'rule-added': { direction: 'better', affects: D },
  'rule-enabled': { direction: 'better', affects: D },
  'rule-upgraded': { direction: 'better', affects: D },
  'data-source-collected': { direction: 'better', affects: D },
  'emulation-better': { direction: 'better', affects: DP },
  'control-added': { direction: 'better', affects: P },
  'control-enforced': { direction: 'better', affects: P },
  'control-validated': { direction: 'better', affects: P },
  'import-higher': { direction: 'better', affects: D },
  'technique-removed': { direction: 'either', affects: DP },
  'backend-changed': { direction: 'either', affects: DP },
  unexplained: { direction: 'either', affects: DP },
};

/** Causes that can explain a move of `score` in direction `worse` (a drop) or `better` (a rise). */
export function causesFor(causes: Cause[], score: ScoreName, direction: 'worse' | 'better'): Cause[] {
  return causes.filter((c) => {
    const info = CAUSE_KINDS[c.kind];
    return info.affects.includes(score) && (info.direction === direction || info.direction === 'either');
  });
}

const MATURITY_RANK: Record<RuleMaturity, number> = { deprecated: 0, experimental: 1, test: 2, stable: 3 };
const OUTCOME_RANK: Record<ValidationOutcome, number> = { none: 0, logged: 1, detected: 2, prevented: 3 };
const MODE_RANK: Record<ControlMode, number> = { disabled: 0, audit: 1, block: 2 };

const ruleLabel = (r: { id: string; title?: string }): string => (r.title ? `rule "${r.title}"` : `rule ${r.id}`);

/** Rule states by id: from the evidence record, else only the counted ids the backend reported. */
function ruleView(t: TechniqueSnapshot): Map<string, Partial<EvidenceRule> & { id: string }> {
  const out = new Map<string, Partial<EvidenceRule> & { id: string }>();
  if (t.evidence) for (const r of t.evidence.rules) out.set(r.id, r);
  else for (const id of t.rules) out.set(id, { id, state: 'counted' });
  return out;
}

function ruleCauses(before: TechniqueSnapshot, after: TechniqueSnapshot, id: string): Cause[] {
  const out: Cause[] = [];
  const b = ruleView(before);
  const a = ruleView(after);
  const add = (kind: CauseKind, rule: { id: string; title?: string }, what: string): void => {
    out.push({ kind, techniqueId: id, subject: rule.id, text: `${ruleLabel(rule)} ${what}` });
  };
  for (const [ruleId, was] of b) {
    const now = a.get(ruleId);
    if (was.state !== 'counted') {
      if (now?.state === 'counted') add(was.state === 'disabled' ? 'rule-enabled' : 'rule-added', now, was.state === 'disabled' ? 'enabled again' : 'counted again');
      continue;
    }
    if (!now) {
      // Without an evidence record after the run we only know the rule stopped counting.
      if (after.evidence) add('rule-removed', was, 'removed from the rule set');
      else add('rule-not-counted', was, 'no longer counted (removed, disabled or deprecated)');
    } else if (now.state === 'disabled') add('rule-disabled', now, 'disabled');
    else if (now.state === 'deprecated') add('rule-deprecated', now, 'deprecated');
    else if (was.maturity && now.maturity && MATURITY_RANK[now.maturity] !== MATURITY_RANK[was.maturity]) {
      const worse = MATURITY_RANK[now.maturity] < MATURITY_RANK[was.maturity];
      add(worse ? 'rule-downgraded' : 'rule-upgraded', now, `maturity ${was.maturity} → ${now.maturity}`);
    }
  }
  for (const [ruleId, now] of a) {
    if (now.state === 'counted' && !b.has(ruleId)) add('rule-added', now, before.evidence ? 'added' : 'now counted');
  }
  return out;
}

function dataSourceCauses(before: TechniqueEvidence, after: TechniqueEvidence, id: string): Cause[] {
  const out: Cause[] = [];
  const now = new Map(after.dataSources.map((d) => [d.id, d]));
  const was = new Map(before.dataSources.map((d) => [d.id, d]));
  for (const d of before.dataSources) {
    const n = now.get(d.id);
    if (d.collected === true && n && n.collected !== true) {
      out.push({ kind: 'data-source-lost', techniqueId: id, subject: d.id, text: `data source ${d.id} ${n.collected === false ? 'no longer collected' : 'no longer in the data-source inventory'}` });
    }
  }
  for (const d of after.dataSources) {
    const w = was.get(d.id);
    if (d.collected === true && w && w.collected !== true) out.push({ kind: 'data-source-collected', techniqueId: id, subject: d.id, text: `data source ${d.id} collected again` });
  }
  return out;
}

function emulationCauses(before: TechniqueEvidence, after: TechniqueEvidence, id: string): Cause[] {
  const b = before.emulation;
  const a = after.emulation;
  if (!b && !a) return [];
  if (b && !a) return [{ kind: 'emulation-worse', techniqueId: id, subject: 'emulation', text: `emulation result of ${b.date} (${b.outcome}) no longer in the validation results` }];
  if (!b && a) return [{ kind: 'emulation-better', techniqueId: id, subject: 'emulation', text: `emulation on ${a.date}: ${a.outcome}` }];
  const rb = OUTCOME_RANK[b!.outcome];
  const ra = OUTCOME_RANK[a!.outcome];
  if (ra === rb) return [];
  const test = a!.test ? ` "${a!.test}"` : '';
  return [
    {
      kind: ra < rb ? 'emulation-worse' : 'emulation-better',
      techniqueId: id,
      subject: 'emulation',
      text: `emulation${test} outcome ${b!.outcome} (${b!.date}) → ${a!.outcome} (${a!.date})`,
    },
  ];
}

function controlCauses(before: TechniqueSnapshot, after: TechniqueSnapshot, id: string): Cause[] {
  const out: Cause[] = [];
  if (!before.evidence || !after.evidence) {
    const now = new Set(after.controls);
    for (const c of before.controls) if (!now.has(c)) out.push({ kind: 'control-removed', techniqueId: id, subject: c, text: `control ${c} no longer counted` });
    const was = new Set(before.controls);
    for (const c of after.controls) if (!was.has(c)) out.push({ kind: 'control-added', techniqueId: id, subject: c, text: `control ${c} added` });
    return out;
  }
  const now = new Map(after.evidence.controls.map((c) => [c.id, c]));
  const was = new Map(before.evidence.controls.map((c) => [c.id, c]));
  for (const c of before.evidence.controls) {
    const n = now.get(c.id);
    const label = `control "${c.name}"`;
    if (!n) {
      if (c.mode !== 'disabled') out.push({ kind: 'control-removed', techniqueId: id, subject: c.id, text: `${label} removed from the control inventory` });
    } else if (MODE_RANK[n.mode] < MODE_RANK[c.mode]) {
      out.push({ kind: n.mode === 'disabled' ? 'control-disabled' : 'control-audit', techniqueId: id, subject: c.id, text: `${label} ${n.mode === 'disabled' ? 'disabled' : 'switched to audit'} (was ${c.mode})` });
    } else if (MODE_RANK[n.mode] > MODE_RANK[c.mode]) {
      out.push({ kind: 'control-enforced', techniqueId: id, subject: c.id, text: `${label} ${c.mode} → ${n.mode}` });
    } else if (c.validated && !n.validated && n.mode === 'block') {
      out.push({ kind: 'control-unvalidated', techniqueId: id, subject: c.id, text: `${label} no longer validated` });
    } else if (!c.validated && n.validated && n.mode === 'block') {
      out.push({ kind: 'control-validated', techniqueId: id, subject: c.id, text: `${label} validated` });
    }
  }
  for (const c of after.evidence.controls) {
    if (!was.has(c.id) && c.mode !== 'disabled') out.push({ kind: 'control-added', techniqueId: id, subject: c.id, text: `control "${c.name}" added (${c.mode})` });
  }
  return out;
}

function importCauses(before: TechniqueEvidence, after: TechniqueEvidence, id: string): Cause[] {
  const out: Cause[] = [];
  const now = new Map((after.imported ?? []).map((s) => [s.origin, s]));
  for (const s of before.imported ?? []) {
    const n = now.get(s.origin);
    const b = Math.max(s.detection ?? 0, s.visibility ?? 0);
    const a = n ? Math.max(n.detection ?? 0, n.visibility ?? 0) : 0;
    if (a < b) out.push({ kind: 'import-lower', techniqueId: id, subject: s.origin, text: n ? `imported estimate ${s.origin} lowered ${b} → ${a}` : `imported estimate ${s.origin} no longer loaded` });
    else if (a > b) out.push({ kind: 'import-higher', techniqueId: id, subject: s.origin, text: `imported estimate ${s.origin} raised ${b} → ${a}` });
  }
  const was = new Set((before.imported ?? []).map((s) => s.origin));
  for (const s of after.imported ?? []) if (!was.has(s.origin)) out.push({ kind: 'import-higher', techniqueId: id, subject: s.origin, text: `imported estimate ${s.origin} loaded` });
  return out;
}

/** Detection parts as a last resort when a side has no evidence record (other backends, old baselines). */
function partCauses(before: TechniqueSnapshot, after: TechniqueSnapshot, id: string): Cause[] {
  const out: Cause[] = [];
  const b = before.parts;
  const a = after.parts;
  if (!b || !a) return out;
  if (a.dataSource < b.dataSource) out.push({ kind: 'data-source-lost', techniqueId: id, subject: 'data-source part', text: `data-source part ${b.dataSource} → ${a.dataSource}/25 (fewer rules fed by a collected source)` });
  if (a.validation < b.validation) out.push({ kind: 'emulation-worse', techniqueId: id, subject: 'validation part', text: `validation part ${b.validation} → ${a.validation}/25 (latest emulation worse)` });
  if (a.dataSource > b.dataSource) out.push({ kind: 'data-source-collected', techniqueId: id, subject: 'data-source part', text: `data-source part ${b.dataSource} → ${a.dataSource}/25` });
  if (a.validation > b.validation) out.push({ kind: 'emulation-better', techniqueId: id, subject: 'validation part', text: `validation part ${b.validation} → ${a.validation}/25` });
  return out;
}

/**
 * When the earlier run kept scores only (a result-bundle baseline), what is weak in the current
 * evidence is the best explanation there is: disabled or deprecated rules, sources not collected,
 * controls not blocking, an emulation that was not detected.
 */
function currentWeaknesses(t: TechniqueSnapshot): Cause[] {
  const e = t.evidence;
  if (!e) return [];
  const id = t.id;
  const out: Cause[] = [];
  for (const r of e.rules) {
    if (r.state === 'disabled') out.push({ kind: 'rule-disabled', techniqueId: id, subject: r.id, text: `${ruleLabel(r)} is disabled now` });
    else if (r.state === 'deprecated') out.push({ kind: 'rule-deprecated', techniqueId: id, subject: r.id, text: `${ruleLabel(r)} is deprecated now` });
  }
  for (const d of e.dataSources) {
    if (d.collected === false) out.push({ kind: 'data-source-lost', techniqueId: id, subject: d.id, text: `data source ${d.id} is not collected now` });
  }
  for (const c of e.controls) {
    if (c.mode !== 'block') out.push({ kind: c.mode === 'disabled' ? 'control-disabled' : 'control-audit', techniqueId: id, subject: c.id, text: `control "${c.name}" is ${c.mode === 'disabled' ? 'disabled' : 'in audit mode'} now` });
  }
  if (e.emulation && OUTCOME_RANK[e.emulation.outcome] < OUTCOME_RANK.detected) {
    out.push({ kind: 'emulation-worse', techniqueId: id, subject: 'emulation', text: `latest emulation (${e.emulation.date}) outcome is ${e.emulation.outcome}` });
  }
  return out;
}

const scoresOnly = (t: TechniqueSnapshot): boolean => !t.evidence && t.rules.length === 0 && t.controls.length === 0 && !t.parts;

/** Every evidence difference of one technique between two runs, worse and better. */
export function diffTechniqueEvidence(before: TechniqueSnapshot, after: TechniqueSnapshot): Cause[] {
  const id = after.id;
  if (scoresOnly(before)) return [...currentWeaknesses(after), ...backendChange(before, after)];
  // The same record on both sides (a run with the previous run's content): nothing changed.
  if (before === after) return [];
  const out: Cause[] = [...ruleCauses(before, after, id)];
  if (before.evidence && after.evidence) {
    out.push(...dataSourceCauses(before.evidence, after.evidence, id), ...emulationCauses(before.evidence, after.evidence, id), ...importCauses(before.evidence, after.evidence, id));
  } else {
    out.push(...partCauses(before, after, id));
  }
  out.push(...controlCauses(before, after, id), ...backendChange(before, after));
  return out;
}

function backendChange(before: TechniqueSnapshot, after: TechniqueSnapshot): Cause[] {
  if (!before.source || !after.source || before.source === after.source) return [];
  return [{ kind: 'backend-changed', techniqueId: after.id, subject: after.source, text: `scored by ${after.source} (was ${before.source})` }];
}
