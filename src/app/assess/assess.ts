import { readFile, stat, writeFile } from 'node:fs/promises';
import { renderReportHtml, reportInputOf } from '../../domain/report/report-html';
import { basename, isAbsolute, join } from 'node:path';
import { loadEvidence as defaultLoadEvidence, type LoadEvidenceOptions } from '../../adapters/evidence';
import type { AssessmentResult } from '../../domain/assessment/assessment-types';
import type { Aggregate } from '../../domain/assessment/combine';
import { COVERABLE_TYPES, type CoverageRequest } from '../../domain/coverage/coverage-types';
import { resolveCoverageRequest } from '../../domain/coverage/technique-resolution';
import type { AttackCatalogue, DetectionRule, EvidenceSet, LoadIssue, PreventionControl } from '../../domain/evidence/evidence-types';
import { createEmbeddedAssessor } from '../../domain/scoring/embedded-engine';
import { validityWindow } from '../../domain/schedule/validity';
import { buildNavigatorLayer, type NavigatorLayer } from '../../domain/stix/navigator-layer';
import { buildResultBundle } from '../../domain/stix/result-bundle';
import type { StixBundle, StixObject } from '../../domain/stix/stix-types';
import { errorMessageOf } from '../../errors';
import { parseBytes } from '../../adapters/evidence/attack-catalogue-file';
import { loadPrevalenceBundle } from '../../adapters/evidence/prevalence-bundle';
import { normalisePlatforms } from '../../domain/coverage/platforms';
import type { PrevalenceTable } from '../../domain/gaps/prevalence';

/** Recency window of prevalence intelligence when none is given: a year. */
export const DEFAULT_PREVALENCE_WINDOW_DAYS = 365;
import { readPriorities } from '../embedded-setup';

/**
 * `coverage-connector assess`: one offline run of the embedded engine over a STIX bundle file —
 * the connector's main job without a platform or a broker. Bad evidence files become issues and
 * the run goes on; what makes the whole run meaningless stops it (AssessInputError, exit code 2): an
 * unusable bundle, a container without attack patterns, a --rules path that does not exist, or no
 * rule loaded at all (unless allowEmpty).
 */

/** The evidence files (LoadEvidenceOptions), the bundle to assess and what to write. */
export interface AssessOptions extends LoadEvidenceOptions {
  bundleFile: string;
  /** Id (or exact name) of the container to assess when the bundle holds several. */
  container?: string;
  /** Run even when no detection rule (nor imported score) was loaded. */
  allowEmpty?: boolean;
  prioritiesFile?: string;
  outBundle?: string;
  outLayer?: string;
  /** The coverage report page, self-contained HTML (the page the daemon serves). */
  outHtml?: string;
  outPreventionLayer?: string;
  /** The platforms to assess for (windows, linux…); replaces the coverage's `platforms_affinity`. */
  platforms?: string[];
  /** A STIX bundle whose `uses` relationships and reports rank the gaps (e.g. enterprise-attack.json.gz). */
  prevalenceBundle?: string;
  /** Recency window of that intelligence, days (default 365). */
  prevalenceWindowDays?: number;
  rollupSubtechniques?: boolean;
  aggregate?: Aggregate;
  maxTechniques?: number;
  externalUri?: string;
  /** Run time (default: now); fixed in tests for reproducible files. */
  now?: Date;
}

export type LoadEvidence = typeof defaultLoadEvidence;

/** A container of the bundle: the one assessed and the others `--container` could pick. */
export interface ContainerSummary {
  id: string;
  type: string;
  name?: string;
  /** ATT&CK techniques it links to (what assessing it would score). */
  techniques: number;
}

export interface AssessRun {
  request: CoverageRequest;
  /** The container assessed, and the bundle's other containers (most techniques first). */
  container: ContainerSummary;
  otherContainers: ContainerSummary[];
  /** The loaded rules and controls by id, so output can name what each id is. */
  rulesById: Map<string, DetectionRule[]>;
  controlsById: Map<string, PreventionControl>;
  result: AssessmentResult;
  bundle: StixBundle;
  layers: { detection: NavigatorLayer; prevention?: NavigatorLayer };
  /** Evidence files (and the priorities file) that could not be used, one per problem. */
  issues: LoadIssue[];
  /** Notes about the evidence as a whole (e.g. mitigation mappings without a catalogue). */
  notes: string[];
  /** What ranked the gaps: the prevalence bundle read, when one was given. */
  prevalence?: PrevalenceTable;
  /** Files written. */
  written: string[];
}

/** The inputs cannot give a meaningful assessment: one line for the user, exit code 2. */
export class AssessInputError extends Error {
  readonly exitCode = 2;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AssessInputError';
  }
}

async function readBundle(path: string): Promise<StixObject[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AssessInputError(code === 'ENOENT' ? `bundle file not found: ${path}` : `cannot read bundle file ${path}: ${errorMessageOf(err)}`, { cause: err });
  }
  // Plain or gzip JSON: the enterprise-attack bundle itself can be assessed (--container G0016).
  const read = parseBytes(bytes);
  if (!read.ok) throw new AssessInputError(`bundle file ${path} is not JSON: ${read.reason}`);
  const parsed = read.value;
  const objects = (parsed as { objects?: unknown } | null)?.objects;
  if (!Array.isArray(objects)) throw new AssessInputError(`bundle file ${path} is not a STIX bundle (no "objects" array)`);
  return objects as StixObject[];
}

async function writeJson(path: string, value: unknown, written: string[]): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`, 'utf8');
  written.push(path);
}

const COVERABLE = new Set<string>(COVERABLE_TYPES);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);

/** The container named by `--container`: its id, else a unique exact name (case-insensitive). */
function findContainer(objects: StixObject[], wanted: string, file: string): StixObject {
  const containers = objects.filter((o) => o && COVERABLE.has(o.type));
  const listed = containers.map((c) => `${c.id}${str(c.name) ? ` (${String(c.name)})` : ''}`).join(', ') || 'none';
  const byId = objects.find((o) => o?.id === wanted) ?? attackContainer(containers, wanted);
  if (byId) {
    if (COVERABLE.has(byId.type)) return byId;
    throw new AssessInputError(`--container ${wanted} is a ${byId.type}, not a container (${COVERABLE_TYPES.join(', ')}); containers in ${file}: ${listed}`);
  }
  const byName = containers.filter((c) => str(c.name)?.toLowerCase() === wanted.toLowerCase());
  if (byName.length === 1) return byName[0];
  if (byName.length > 1) throw new AssessInputError(`--container "${wanted}" names ${byName.length} containers in ${file}; give one id: ${byName.map((c) => c.id).join(', ')}`);
  throw new AssessInputError(`--container ${wanted}: no such container in ${file}; containers: ${listed}`);
}

/** A container by its ATT&CK id (G0016, C0024): intrusion sets and campaigns of an ATT&CK bundle. */
function attackContainer(containers: StixObject[], wanted: string): StixObject | undefined {
  if (!/^[GC]\d{4}$/i.test(wanted)) return undefined;
  const refs = (c: StixObject): Array<Record<string, unknown>> => (Array.isArray(c.external_references) ? (c.external_references as Array<Record<string, unknown>>) : []);
  return containers.find((c) => c.revoked !== true && refs(c).some((r) => String(r?.source_name ?? '').startsWith('mitre-') && String(r?.external_id ?? '').toUpperCase() === wanted.toUpperCase()));
}

/** Every container of the bundle with the number of techniques assessing it would score. */
function containersOf(objects: StixObject[]): ContainerSummary[] {
  // Without the bundle's own coverage object, which would pin every resolution to its covered_ref.
  const plain = objects.filter((o) => o?.type !== 'security-coverage');
  const out: ContainerSummary[] = [];
  for (const c of plain) {
    if (!c || !COVERABLE.has(c.type) || out.some((o) => o.id === c.id)) continue;
    let techniques = 0;
    try {
      techniques = resolveCoverageRequest({ objects: plain, coveredId: c.id }).techniques.length;
    } catch {
      techniques = 0;
    }
    out.push({ id: c.id, type: c.type, ...(str(c.name) ? { name: String(c.name) } : {}), techniques });
  }
  return out;
}

/** A rules folder that does not exist is a typo, never an empty inventory. */
async function checkRuleDirs(dirs: readonly string[]): Promise<void> {
  for (const dir of dirs) {
    try {
      await stat(dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new AssessInputError(code === 'ENOENT' ? `--rules ${dir}: no such file or folder` : `--rules ${dir}: ${errorMessageOf(err)}`, { cause: err });
    }
  }
}

/** A rule's root-relative path as the user can open it: joined to the --rules folder that holds it. */
async function pathFromRoots(relative: string, roots: readonly string[]): Promise<string> {
  if (isAbsolute(relative)) return relative;
  for (const root of roots) {
    const info = await stat(root).catch(() => undefined);
    if (!info) continue;
    // A root that is a rule file itself: the relative path is its base name.
    if (info.isFile()) {
      if (basename(root) === relative) return root;
      continue;
    }
    const candidate = join(root, relative);
    if (roots.length === 1 || (await stat(candidate).catch(() => undefined))) return candidate;
  }
  return relative;
}

/** No rule and no imported score: every technique would be "not tested", which is never what was meant. */
function checkDetectionEvidence(options: AssessOptions, evidence: EvidenceSet): void {
  if (options.allowEmpty || evidence.rules.length > 0 || evidence.imported.length > 0) return;
  if (options.rulesDirs.length === 0) throw new AssessInputError('no detection rules: give --rules <dir> (or --allow-empty to score prevention only)');
  const where = options.rulesDirs.join(' ');
  const unusable = evidence.issues.filter((i) => options.rulesDirs.some((d) => i.path === d || i.path.startsWith(`${d.replace(/\/+$/, '')}/`)));
  const why = unusable.length > 0 ? `${unusable.length} file(s) could not be used, first ${unusable[0].path}: ${unusable[0].reason}` : 'no .yml, .yaml or .toml rule file found';
  throw new AssessInputError(`no detection rule loaded from --rules ${where} (${why}); --allow-empty runs anyway`);
}

/** Revoked technique → its replacement, as far as the catalogue knows (chains followed). */
export function replacementsOf(catalogue: AttackCatalogue | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!catalogue) return out;
  for (const t of Object.values(catalogue.techniques)) {
    if (!t.revoked || !t.revokedBy) continue;
    let next = t.revokedBy;
    for (let hops = 0; hops < 10 && catalogue.techniques[next]?.revoked && catalogue.techniques[next]?.revokedBy; hops++) next = catalogue.techniques[next].revokedBy as string;
    out[t.id] = next;
  }
  return out;
}

export async function runAssess(options: AssessOptions, deps: { loadEvidence?: LoadEvidence } = {}): Promise<AssessRun> {
  let objects = await readBundle(options.bundleFile);
  const containers = containersOf(objects);
  let coveredId: string | undefined;
  if (options.container) {
    const chosen = findContainer(objects, options.container, options.bundleFile);
    coveredId = chosen.id;
    // A coverage object in the bundle names its own container; the explicit choice wins.
    objects = objects.filter((o) => o?.type !== 'security-coverage' || o.covered_ref === chosen.id);
  }
  let request: CoverageRequest;
  try {
    request = resolveCoverageRequest({ objects, ...(coveredId ? { coveredId } : {}) }, { ...(options.maxTechniques ? { maxTechniques: options.maxTechniques } : {}) });
  } catch (err) {
    throw new AssessInputError(`bundle file ${options.bundleFile}: ${errorMessageOf(err)}`, { cause: err });
  }
  const container = containers.find((c) => c.id === request.coveredRef) ?? {
    id: request.coveredRef,
    type: request.coveredType ?? request.coveredRef.split('--')[0],
    ...(request.coveredName ? { name: request.coveredName } : {}),
    techniques: request.techniques.length,
  };
  const otherContainers = containers.filter((c) => c.id !== container.id).sort((a, b) => b.techniques - a.techniques);
  if (request.techniques.length === 0) {
    const label = `${container.type} ${container.id}${container.name ? ` ("${container.name}")` : ''}`;
    const unmatched = request.unmatched.length > 0 ? ` (${request.unmatched.length} attack pattern(s) without a usable ATT&CK id)` : '';
    const better = otherContainers.find((c) => c.techniques > 0);
    throw new AssessInputError(`${label} has no ATT&CK attack pattern to assess${unmatched}${better ? `; --container ${better.id} has ${better.techniques}` : ''}`);
  }

  await checkRuleDirs(options.rulesDirs);
  const evidence: EvidenceSet = await (deps.loadEvidence ?? defaultLoadEvidence)({
    rulesDirs: options.rulesDirs,
    ...(options.controlsFile ? { controlsFile: options.controlsFile } : {}),
    ...(options.dataSourcesFile ? { dataSourcesFile: options.dataSourcesFile } : {}),
    ...(options.validationFile ? { validationFile: options.validationFile } : {}),
    ...(options.layers?.length ? { layers: options.layers } : {}),
    ...(options.attackCatalogue ? { attackCatalogue: options.attackCatalogue } : {}),
    ...(options.maxRuleFileBytes ? { maxRuleFileBytes: options.maxRuleFileBytes } : {}),
  });
  checkDetectionEvidence(options, evidence);
  const issues: LoadIssue[] = [...evidence.issues];
  const priorities = options.prioritiesFile ? await readPriorities(options.prioritiesFile, issues) : undefined;
  const now = options.now ?? new Date();
  if (options.platforms) request.platformsAffinity = normalisePlatforms(options.platforms);
  let prevalence: PrevalenceTable | undefined;
  if (options.prevalenceBundle) {
    try {
      prevalence = await loadPrevalenceBundle(options.prevalenceBundle, { now, windowDays: options.prevalenceWindowDays ?? DEFAULT_PREVALENCE_WINDOW_DAYS });
    } catch (err) {
      throw new AssessInputError(`--prevalence-bundle: ${errorMessageOf(err)}`, { cause: err });
    }
  }

  const assessor = createEmbeddedAssessor(evidence, {
    ...(prevalence ? { prevalence: () => prevalence } : {}),
    rollupSubtechniques: options.rollupSubtechniques ?? true,
    ...(options.aggregate ? { aggregate: options.aggregate } : {}),
    ...(priorities ? { priorities } : {}),
    ...(options.externalUri ? { externalUri: options.externalUri } : {}),
  });
  const result = await assessor.assess(request, { now });
  const validity = validityWindow(now, request.periodicity, 'UTC', 'P1D');
  const bundle = buildResultBundle(request, result, { now, validity, explanations: true, ...(options.externalUri ? { externalUri: options.externalUri } : {}) });
  const layerOptions = {
    ...(evidence.catalogue?.version ? { attackVersion: evidence.catalogue.version.replace(/^v/i, '').split('.')[0] } : {}),
    ...(options.externalUri ? { externalUri: options.externalUri } : {}),
    ...(options.aggregate ? { aggregate: options.aggregate } : {}),
    replacements: replacementsOf(evidence.catalogue),
  };
  const layers: AssessRun['layers'] = { detection: buildNavigatorLayer(request, result, 'DETECTION', layerOptions) };
  if (result.overall.some((s) => s.name === 'PREVENTION')) layers.prevention = buildNavigatorLayer(request, result, 'PREVENTION', layerOptions);

  const written: string[] = [];
  if (options.outBundle) await writeJson(options.outBundle, bundle, written);
  if (options.outLayer) await writeJson(options.outLayer, layers.detection, written);
  if (options.outHtml) {
    await writeFile(options.outHtml, renderReportHtml(reportInputOf(request, result)), 'utf8');
    written.push(options.outHtml);
  }
  if (options.outPreventionLayer) {
    if (layers.prevention) await writeJson(options.outPreventionLayer, layers.prevention, written);
    else issues.push({ path: options.outPreventionLayer, reason: 'not written: prevention was not measured (no control inventory or emulation result)' });
  }
  const rulesById = new Map<string, DetectionRule[]>();
  for (const rule of evidence.rules) {
    const shown = { ...rule, path: await pathFromRoots(rule.path, options.rulesDirs) };
    rulesById.set(rule.id, [...(rulesById.get(rule.id) ?? []), shown]);
  }
  const controlsById = new Map(evidence.controls.map((c) => [c.id, c]));
  return { request, container, otherContainers, rulesById, controlsById, result, bundle, layers, issues, notes: assessor.notes, written, ...(prevalence ? { prevalence } : {}) };
}
