import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { Config } from '../../schemas/config';
import { loadEvidence } from '../adapters/evidence';
import { readCoverageBundle } from '../adapters/opencti/operator-api';
import { createCoverageApi } from '../adapters/opencti/coverage-api';
import type { StoredHasCovered } from '../domain/coverage/write-plan';
import type { GraphQLClient } from '../adapters/opencti/graphql-client';
import { createAssessor } from '../app/assessors';
import { withOperatorContext } from '../app/operator/operator';
import type { Assessor } from '../domain/assessment/assessment-types';
import type { ScoreEntry } from '../domain/coverage/coverage-types';
import { sameCoverage } from '../domain/coverage/score-equality';
import { resolveCoverageRequest } from '../domain/coverage/technique-resolution';
import type { EvidenceSet } from '../domain/evidence/evidence-types';
import { embeddedFactoryOf, evidenceOptionsOf } from '../app/embedded-setup';
import { validityWindow } from '../domain/schedule/validity';
import { buildResultBundle } from '../domain/stix/result-bundle';
import type { StixBundle, StixObject } from '../domain/stix/stix-types';

/**
 * `assess --coverage <id> --dry-run`: assess a live coverage as the daemon would — read it from the
 * platform (§5.5 `toStixBundle`), score it, print the result bundle and what would change against
 * the stored scores — and push nothing. The embedded engine runs by default, since measured
 * backends have side effects (OpenAEV scenarios); `--configured-backends` runs ASSESSOR's chain.
 * Called from src/cli/assess-command.ts when --coverage is given.
 */

export interface LiveAssessFlags {
  coverage?: string;
  dryRun?: boolean;
  exportBundle?: string;
  config?: string;
  configuredBackends?: boolean;
  json?: boolean;
}

export interface LiveAssessIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
  /** Replaces the assessor (tests). */
  assessorFor?: (config: Readonly<Config>, evidence: EvidenceSet) => Assessor;
}

export function addLiveAssessOptions(command: Command): Command {
  return command
    .option('--coverage <id>', 'live mode: assess this coverage read from the platform (with --dry-run)')
    .option('--dry-run', 'live mode: print the result and the score diff, push nothing')
    .option('--export-bundle <file>', "live mode: also write the coverage's STIX bundle as the platform sends it (container and attack patterns), to assess offline")
    .option('-c, --config <file>', 'live mode: config.yml to read (default: CONFIG_FILE, else ./config.yml when present)')
    .option('--configured-backends', 'live mode: run the ASSESSOR backends (OpenAEV may create or update scenarios) instead of the embedded engine only');
}

export interface ScoreChange {
  /** `coverage` for the container-level scores, else the has-covered target (attack pattern id). */
  target: string;
  before: ScoreEntry[] | null;
  after: ScoreEntry[] | null;
}

const hasCoveredOf = (bundle: StixBundle): Map<string, ScoreEntry[]> => {
  const out = new Map<string, ScoreEntry[]>();
  for (const o of bundle.objects) {
    if (o.type === 'relationship' && o.relationship_type === 'has-covered') out.set(String(o.target_ref), Array.isArray(o.coverage) ? (o.coverage as ScoreEntry[]) : []);
  }
  return out;
};

/** What pushing `bundle` would change: the coverage's scores and each has-covered (new, changed, gone). */
export function scoreDiff(current: ScoreEntry[] | undefined, stored: StoredHasCovered[], bundle: StixBundle): ScoreChange[] {
  const changes: ScoreChange[] = [];
  const cov = bundle.objects.find((o) => o.type === 'security-coverage');
  const next = Array.isArray(cov?.coverage) ? (cov.coverage as ScoreEntry[]) : [];
  if (!sameCoverage(current, next)) changes.push({ target: 'coverage', before: current ?? null, after: next });
  const after = hasCoveredOf(bundle);
  const before = new Map(stored.map((s) => [s.targetId, s.scores]));
  for (const [target, scores] of after) {
    const old = before.get(target);
    if (!old || !sameCoverage(old, scores)) changes.push({ target, before: old ?? null, after: scores });
  }
  for (const [target, scores] of before) if (!after.has(target)) changes.push({ target, before: scores, after: null });
  return changes;
}

const scoresText = (s: ScoreEntry[] | null): string => (s === null ? '(none)' : s.length === 0 ? '(not covered)' : s.map((x) => `${x.name} ${x.score}`).join(', '));

export function formatDiff(changes: ScoreChange[], names: Map<string, string>): string {
  if (changes.length === 0) return 'no change: the daemon would push nothing (scores identical)\n';
  return `${changes.length} change(s) the daemon would push:\n${changes
    .map((c) => `  ${c.target === 'coverage' ? 'coverage' : (names.get(c.target) ?? c.target)}: ${scoresText(c.before)} -> ${scoresText(c.after)}`)
    .join('\n')}\n`;
}

/** The platform's bundle, pretty-printed, for `assess <file>` without the platform. */
async function exportBundle(file: string, bundleJson: string, io: LiveAssessIo): Promise<void> {
  const bundle = JSON.parse(bundleJson) as { objects?: unknown[] };
  await writeFile(file, `${JSON.stringify(bundle, null, 2)}\n`, 'utf8');
  io.stderr(`wrote ${file} (${bundle.objects?.length ?? 0} STIX objects): \`coverage-connector assess ${file} --rules <dir>\` assesses it offline\n`);
}

export async function runLiveAssess(flags: LiveAssessFlags, io: LiveAssessIo): Promise<void> {
  if (!flags.dryRun) {
    throw new Error('assess --coverage only runs with --dry-run (the daemon is what pushes; `coverage-connector retrigger <id>` runs it for real)');
  }
  const coverageId = flags.coverage as string;
  await withOperatorContext({ ...(flags.config ? { configFile: flags.config } : {}), ...(io.env ? { env: io.env } : {}) }, async (ctx) => {
    const { config } = ctx;
    const c = await readCoverageBundle(ctx.gql, coverageId);
    if (!c?.toStixBundle) throw new Error(`no coverage ${coverageId} in the platform`);
    if (flags.exportBundle) await exportBundle(flags.exportBundle, c.toStixBundle, io);
    const objects = (JSON.parse(c.toStixBundle) as { objects?: StixObject[] }).objects ?? [];
    const coverage = objects.find((o) => o.id === c.standard_id);
    let request = resolveCoverageRequest(
      { objects, ...(coverage ? { coverage } : {}), ...(typeof coverage?.covered_ref === 'string' ? { coveredId: coverage.covered_ref } : {}) },
      { rollupSubtechniques: config.coverage.rollup_subtechniques, maxTechniques: config.limits.max_techniques },
    );
    const current = c.coverage_information?.map((s) => ({ name: s.coverage_name, score: s.coverage_score }));
    if (current) request = { ...request, currentCoverage: current };

    const evidence = await loadEvidence(evidenceOptionsOf(config));
    const embedded = await embeddedFactoryOf(config, evidence.issues);
    for (const issue of evidence.issues) io.stderr(`warning: ${issue.path}: ${issue.reason}\n`);
    const assessor = io.assessorFor?.(config, evidence) ?? (flags.configuredBackends ? createAssessor(config, evidence, { createEmbedded: embedded }) : embedded(evidence));
    const now = (io.now ?? (() => new Date()))();
    const result = await assessor.assess(request, { now });
    const validity = validityWindow(now, request.periodicity, config.scheduler.timezone, config.scheduler.default_periodicity);
    const bundle = buildResultBundle(request, result, { now, validity, ...(result.externalUri ? { externalUri: result.externalUri } : {}) });
    const stored = await createCoverageApi({ gql: ctx.gql as GraphQLClient }).listHasCovered(c.standard_id);
    const changes = scoreDiff(current, stored, bundle);

    if (flags.json) {
      io.stdout(`${JSON.stringify({ coverage: { id: c.id, standard_id: c.standard_id, name: c.name }, backend: result.backend, changes, bundle, pushed: false }, null, 2)}\n`);
      return;
    }
    const names = new Map(request.techniques.filter((t) => t.stixId).map((t) => [t.stixId as string, `${t.techniqueId}${t.name ? ` ${t.name}` : ''}`]));
    io.stdout(`${c.name} (${c.standard_id}) — ${request.techniques.length} technique(s) assessed by ${result.backend}; dry run, nothing pushed\n`);
    io.stdout(formatDiff(changes, names));
    for (const w of result.warnings) io.stdout(`warning: ${w}\n`);
    io.stdout(`result bundle:\n${JSON.stringify(bundle, null, 2)}\n`);
  });
}
