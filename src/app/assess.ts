import { readFile, writeFile } from 'node:fs/promises';
import { loadEvidence as defaultLoadEvidence, type LoadEvidenceOptions } from '../adapters/evidence';
import type { AssessmentResult } from '../domain/assessment/assessment-types';
import type { Aggregate } from '../domain/assessment/combine';
import type { CoverageRequest } from '../domain/coverage/coverage-types';
import { resolveCoverageRequest } from '../domain/coverage/technique-resolution';
import type { EvidenceSet, LoadIssue } from '../domain/evidence/evidence-types';
import { createEmbeddedAssessor } from '../domain/scoring/embedded-engine';
import { validityWindow } from '../domain/schedule/validity';
import { buildNavigatorLayer, type NavigatorLayer } from '../domain/stix/navigator-layer';
import { buildResultBundle } from '../domain/stix/result-bundle';
import type { StixBundle, StixObject } from '../domain/stix/stix-types';
import { errorMessageOf } from '../errors';
import { readPriorities } from './embedded-setup';

/**
 * `coverage-connector assess`: one offline run of the embedded engine over a STIX bundle file —
 * the connector's main job without a platform or a broker. Bad evidence files become issues and
 * the run goes on; only an unusable bundle stops it (AssessInputError, exit code 2).
 */

/** The evidence files (LoadEvidenceOptions), the bundle to assess and what to write. */
export interface AssessOptions extends LoadEvidenceOptions {
  bundleFile: string;
  prioritiesFile?: string;
  outBundle?: string;
  outLayer?: string;
  outPreventionLayer?: string;
  rollupSubtechniques?: boolean;
  aggregate?: Aggregate;
  maxTechniques?: number;
  externalUri?: string;
  /** Run time (default: now); fixed in tests for reproducible files. */
  now?: Date;
}

export type LoadEvidence = typeof defaultLoadEvidence;

export interface AssessRun {
  request: CoverageRequest;
  result: AssessmentResult;
  bundle: StixBundle;
  layers: { detection: NavigatorLayer; prevention?: NavigatorLayer };
  /** Evidence files (and the priorities file) that could not be used, one per problem. */
  issues: LoadIssue[];
  /** Notes about the evidence as a whole (e.g. mitigation mappings without a catalogue). */
  notes: string[];
  /** Files written. */
  written: string[];
}

/** The bundle file is missing or unusable: nothing can be assessed. */
export class AssessInputError extends Error {
  readonly exitCode = 2;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AssessInputError';
  }
}

async function readBundle(path: string): Promise<StixObject[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AssessInputError(code === 'ENOENT' ? `bundle file not found: ${path}` : `cannot read bundle file ${path}: ${errorMessageOf(err)}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new AssessInputError(`bundle file ${path} is not JSON: ${errorMessageOf(err)}`, { cause: err });
  }
  const objects = (parsed as { objects?: unknown } | null)?.objects;
  if (!Array.isArray(objects)) throw new AssessInputError(`bundle file ${path} is not a STIX bundle (no "objects" array)`);
  return objects as StixObject[];
}

async function writeJson(path: string, value: unknown, written: string[]): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`, 'utf8');
  written.push(path);
}

export async function runAssess(options: AssessOptions, deps: { loadEvidence?: LoadEvidence } = {}): Promise<AssessRun> {
  const objects = await readBundle(options.bundleFile);
  let request: CoverageRequest;
  try {
    request = resolveCoverageRequest({ objects }, { ...(options.maxTechniques ? { maxTechniques: options.maxTechniques } : {}) });
  } catch (err) {
    throw new AssessInputError(`bundle file ${options.bundleFile}: ${errorMessageOf(err)}`, { cause: err });
  }

  const evidence: EvidenceSet = await (deps.loadEvidence ?? defaultLoadEvidence)({
    rulesDirs: options.rulesDirs,
    ...(options.controlsFile ? { controlsFile: options.controlsFile } : {}),
    ...(options.dataSourcesFile ? { dataSourcesFile: options.dataSourcesFile } : {}),
    ...(options.validationFile ? { validationFile: options.validationFile } : {}),
    ...(options.layers?.length ? { layers: options.layers } : {}),
    ...(options.attackCatalogue ? { attackCatalogue: options.attackCatalogue } : {}),
    ...(options.maxRuleFileBytes ? { maxRuleFileBytes: options.maxRuleFileBytes } : {}),
  });
  const issues: LoadIssue[] = [...evidence.issues];
  const priorities = options.prioritiesFile ? await readPriorities(options.prioritiesFile, issues) : undefined;

  const assessor = createEmbeddedAssessor(evidence, {
    rollupSubtechniques: options.rollupSubtechniques ?? true,
    ...(options.aggregate ? { aggregate: options.aggregate } : {}),
    ...(priorities ? { priorities } : {}),
    ...(options.externalUri ? { externalUri: options.externalUri } : {}),
  });
  const now = options.now ?? new Date();
  const result = await assessor.assess(request, { now });
  const validity = validityWindow(now, request.periodicity, 'UTC', 'P1D');
  const bundle = buildResultBundle(request, result, { now, validity, ...(options.externalUri ? { externalUri: options.externalUri } : {}) });
  const layerOptions = {
    ...(evidence.catalogue?.version ? { attackVersion: evidence.catalogue.version.replace(/^v/i, '').split('.')[0] } : {}),
    ...(options.externalUri ? { externalUri: options.externalUri } : {}),
    ...(options.aggregate ? { aggregate: options.aggregate } : {}),
  };
  const layers: AssessRun['layers'] = { detection: buildNavigatorLayer(request, result, 'DETECTION', layerOptions) };
  if (result.overall.some((s) => s.name === 'PREVENTION')) layers.prevention = buildNavigatorLayer(request, result, 'PREVENTION', layerOptions);

  const written: string[] = [];
  if (options.outBundle) await writeJson(options.outBundle, bundle, written);
  if (options.outLayer) await writeJson(options.outLayer, layers.detection, written);
  if (options.outPreventionLayer) {
    if (layers.prevention) await writeJson(options.outPreventionLayer, layers.prevention, written);
    else issues.push({ path: options.outPreventionLayer, reason: 'not written: prevention was not measured (no control inventory or emulation result)' });
  }
  return { request, result, bundle, layers, issues, notes: assessor.notes, written };
}
