import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PROJECT_DIR } from '../../support/env';

/** Readers for the deployment files, so the tests check them statically (there is no container engine). */

export const projectFile = (name: string): string => join(PROJECT_DIR, name);
export const readProjectFile = (name: string): string => readFileSync(projectFile(name), 'utf8');

// ---------- Dockerfile ----------

export interface DockerInstruction {
  /** Upper-case keyword: FROM, RUN, COPY, … */
  op: string;
  args: string;
  /** Index of the build stage (0-based). */
  stage: number;
}

export interface DockerStage {
  index: number;
  name?: string;
  image: string;
  instructions: DockerInstruction[];
}

/** Parses a Dockerfile: comments dropped, `\` continuations joined, instructions grouped by stage. */
export function parseDockerfile(text: string): DockerStage[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue; // comment inside a continuation
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logical.push(`${pending}${line}`.trim());
    pending = '';
  }
  const stages: DockerStage[] = [];
  for (const line of logical) {
    const m = /^(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const op = m[1].toUpperCase();
    const args = m[2];
    if (op === 'FROM') {
      const parts = args.split(/\s+/).filter((p) => !p.startsWith('--'));
      const asIndex = parts.findIndex((p) => p.toUpperCase() === 'AS');
      stages.push({ index: stages.length, image: parts[0], ...(asIndex > 0 ? { name: parts[asIndex + 1] } : {}), instructions: [] });
    }
    const stage = stages[stages.length - 1];
    if (stage) stage.instructions.push({ op, args, stage: stage.index });
  }
  return stages;
}

/** JSON (exec) form of CMD/ENTRYPOINT/HEALTHCHECK CMD, or undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  const start = args.indexOf('[');
  if (start < 0) return undefined;
  try {
    const parsed: unknown = JSON.parse(args.slice(start));
    return Array.isArray(parsed) && parsed.every((p) => typeof p === 'string') ? (parsed as string[]) : undefined;
  } catch {
    return undefined;
  }
}

/** `ENV A=1 B=2` → { A: '1', B: '2' } (the key=value form only). */
export function envOf(instruction: DockerInstruction): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of instruction.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) out[m[1]] = m[2].replace(/^"|"$/g, '');
  return out;
}

export interface CopyInstruction {
  from?: string;
  chown?: string;
  sources: string[];
  dest: string;
}

export function copyOf(instruction: DockerInstruction): CopyInstruction {
  const words = instruction.args.split(/\s+/).filter(Boolean);
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  const flag = (name: string): string | undefined => flags.find((f) => f.startsWith(`--${name}=`))?.split('=')[1];
  const from = flag('from');
  const chown = flag('chown');
  return { ...(from ? { from } : {}), ...(chown ? { chown } : {}), sources: paths.slice(0, -1), dest: paths[paths.length - 1] };
}

// ---------- docker-compose ----------

export type ComposeEnv = Record<string, string>;

export interface ComposeService {
  image?: string;
  build?: unknown;
  environment?: string[] | Record<string, string | number | boolean | null>;
  volumes?: Array<string | { type?: string; source?: string; target?: string; read_only?: boolean }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: string[] | Record<string, { condition?: string; required?: boolean }>;
  ports?: string[];
  container_name?: string;
  stop_grace_period?: string;
  configs?: Array<string | { source: string; target?: string }>;
  [key: string]: unknown;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  configs?: Record<string, unknown>;
}

export function readCompose(name: string): ComposeFile {
  return parseYaml(readProjectFile(name)) as ComposeFile;
}

/** The service's environment as a map (list form `KEY=VALUE` or mapping form). */
export function serviceEnv(service: ComposeService): ComposeEnv {
  const env: ComposeEnv = {};
  if (Array.isArray(service.environment)) {
    for (const entry of service.environment) {
      const eq = entry.indexOf('=');
      if (eq < 0) env[entry] = '';
      else env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
  } else if (service.environment) {
    for (const [k, v] of Object.entries(service.environment)) env[k] = v === null ? '' : String(v);
  }
  return env;
}

const INTERPOLATION = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}/g;

/** Every `${VAR…}` name used in a compose file's text (`$$` escapes ignored). */
export function interpolatedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.replace(/\$\$/g, '').matchAll(INTERPOLATION)) names.add(m[1]);
  return names;
}

/** Compose interpolation of one value with the given variables (`${A}`, `${A:-d}`, `${A-d}`). */
export function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(INTERPOLATION, (_all, name: string, op: string | undefined, arg: string | undefined) => {
    const v = vars[name];
    if (op === ':-') return v === undefined || v === '' ? (arg ?? '') : v;
    if (op === '-') return v === undefined ? (arg ?? '') : v;
    return v ?? '';
  });
}

/** True when the value is nothing but interpolations (no literal text that could be a secret). */
export function onlyInterpolations(value: string): boolean {
  return value.replace(INTERPOLATION, '').trim() === '' && value.trim() !== '';
}

/** Volume mounts as {source, target, readOnly}; short syntax `src:dst[:ro]` included. */
export function mountsOf(service: ComposeService): Array<{ source: string; target: string; readOnly: boolean; type: string }> {
  return (service.volumes ?? []).map((v) => {
    if (typeof v === 'string') {
      const [source, target, mode] = v.split(':');
      const isPath = /^[./~$]/.test(source);
      return { source, target, readOnly: mode === 'ro', type: isPath ? 'bind' : 'volume' };
    }
    return { source: v.source ?? '', target: v.target ?? '', readOnly: v.read_only === true, type: v.type ?? 'volume' };
  });
}

export function dependsOn(service: ComposeService): Record<string, { condition?: string }> {
  if (!service.depends_on) return {};
  if (Array.isArray(service.depends_on)) return Object.fromEntries(service.depends_on.map((d) => [d, {}]));
  return service.depends_on;
}

// ---------- .env.sample ----------

/** KEY=VALUE lines of a dotenv file (comments and blank lines skipped). */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`.env.sample: not KEY=VALUE: ${line}`);
    out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

/** Names that hold credentials (compose variables and container env alike). */
export const SECRET_NAME = /(PASS|PASSWORD|TOKEN|SECRET|SECRET_KEY|ACCESS_KEY|API_KEY|PRIVATE_KEY)$/i;
