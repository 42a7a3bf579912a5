import { existsSync, readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { ConfigSchema, type Config } from '../../schemas/config';
import type { FieldMeta } from '../../schemas/config-fields';
import { ConfigError } from '../errors';

/** One leaf option of the schema, for docs, the sample file and the env mapping. */
export interface OptionDoc {
  /** Dotted config.yml path, e.g. `connector.log_level`. */
  path: string;
  /** Environment variable, e.g. `CONNECTOR_LOG_LEVEL`. */
  env: string;
  default: unknown;
  description: string;
  secret: boolean;
  example?: string;
}

export function envNameOf(path: ReadonlyArray<PropertyKey>): string {
  return path.map(String).join('_').toUpperCase();
}

function unwrapObject(schema: z.ZodType): z.ZodObject | undefined {
  let s: z.ZodType = schema;
  for (let i = 0; i < 5; i++) {
    if (s instanceof z.ZodObject) return s;
    const inner = (s.def as { innerType?: z.ZodType }).innerType;
    if (!inner) return undefined;
    s = inner;
  }
  return undefined;
}

/** Walks the schema: every leaf option with its env name, default and description. */
export function describeOptions(schema: z.ZodObject = ConfigSchema, prefix: string[] = []): OptionDoc[] {
  const out: OptionDoc[] = [];
  for (const [key, child] of Object.entries(schema.shape)) {
    const path = [...prefix, key];
    const nested = unwrapObject(child as z.ZodType);
    if (nested) {
      out.push(...describeOptions(nested, path));
      continue;
    }
    const meta = (z.globalRegistry.get(child as z.ZodType) ?? {}) as Partial<FieldMeta>;
    const def = child instanceof z.ZodDefault ? (child.def.defaultValue as unknown) : undefined;
    out.push({
      path: path.join('.'),
      env: envNameOf(path),
      default: def,
      description: meta.description ?? '',
      secret: meta.secret === true,
      example: meta.example,
    });
  }
  return out;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (!next || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

/** Short env names accepted besides SECTION_KEY (the section name wins when both are set). */
export const ENV_ALIASES: Readonly<Record<string, string>> = { ASSESSOR: 'assessor.backends' };

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** config.yml path; default: CONFIG_FILE env, else ./config.yml when it exists. */
  file?: string;
}

/** Reads config.yml (if any), applies env overrides, validates. Throws ConfigError naming each bad variable. */
export function loadConfig(options: LoadConfigOptions = {}): Readonly<Config> {
  const env = options.env ?? process.env;
  const file = options.file ?? env.CONFIG_FILE ?? (existsSync('config.yml') ? 'config.yml' : undefined);
  let raw: Record<string, unknown> = {};
  if (file) {
    if (!existsSync(file)) throw new ConfigError(`CONFIG_FILE: ${file} does not exist`);
    try {
      const parsed: unknown = parseYaml(readFileSync(file, 'utf8'), { maxAliasCount: 100 });
      if (parsed !== null && parsed !== undefined) {
        if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('top level must be a mapping');
        raw = parsed as Record<string, unknown>;
      }
    } catch (err) {
      // First line only: the yaml library appends the offending source line, which may hold a token.
      throw new ConfigError(`CONFIG_FILE: ${file} is not valid YAML: ${String((err as Error).message).split('\n', 1)[0].trim()}`);
    }
  }
  for (const [alias, path] of Object.entries(ENV_ALIASES)) {
    const value = env[alias];
    if (value !== undefined) setPath(raw, path.split('.'), value);
  }
  for (const option of describeOptions()) {
    const value = env[option.env];
    if (value !== undefined) setPath(raw, option.path.split('.'), value);
  }
  return parseConfig(raw);
}

/** Validates an already-merged raw object (used by loadConfig and tests). */
export function parseConfig(raw: unknown): Readonly<Config> {
  const parsed = ConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${envNameOf(i.path)} (${i.path.join('.')}): ${i.message}`);
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  return deepFreeze(parsed.data);
}

/** `run` needs the platform URL, token and connector id; `assess` does not. */
export function assertDaemonConfig(config: Config): void {
  const missing: string[] = [];
  if (!config.opencti.url) missing.push('OPENCTI_URL (opencti.url)');
  if (!config.opencti.token) missing.push('OPENCTI_TOKEN (opencti.token)');
  if (!config.connector.id) missing.push('CONNECTOR_ID (connector.id)');
  if (missing.length > 0) throw new ConfigError(`missing required setting: ${missing.join(', ')}`);
  // The coverage link must open in a browser and pass the platform's URL check (never a urn:).
  for (const [env, key, value] of [['HTTP_PUBLIC_URL', 'http.public_url', config.http.public_url], ['OPENCTI_PUBLIC_URL', 'opencti.public_url', config.opencti.public_url]] as const) {
    if (value !== undefined && !/^https?:\/\/[^/\s]+/i.test(value)) throw new ConfigError(`${env} (${key}): expected an absolute http(s) URL, got ${JSON.stringify(value)}`);
  }
  const problems: string[] = [];
  for (const [env, key, file] of [['OPENCTI_CA_FILE', 'opencti.ca_file', config.opencti.ca_file], ['MQ_CA_FILE', 'mq.ca_file', config.mq.ca_file]] as const) {
    const problem = file === undefined ? undefined : pemProblem(file);
    if (problem) problems.push(`${env} (${key}): ${problem}`);
  }
  if (config.opencti.breaker_probe_base_ms > config.opencti.breaker_probe_max_ms) {
    problems.push('OPENCTI_BREAKER_PROBE_BASE_MS (opencti.breaker_probe_base_ms): must not exceed OPENCTI_BREAKER_PROBE_MAX_MS');
  }
  if (config.prevalence.source === 'bundle' && !config.prevalence.bundle_file) {
    problems.push('PREVALENCE_SOURCE (prevalence.source) is bundle but PREVALENCE_BUNDLE_FILE (prevalence.bundle_file) is not set');
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
}

/** Why a CA file cannot serve (unreadable, not PEM), checked at start rather than at the first call. */
function pemProblem(file: string): string | undefined {
  let text: string;
  try {
    if (!statSync(file).isFile()) return `${file} is not a regular file`;
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
  }
  return text.includes('-----BEGIN CERTIFICATE-----') ? undefined : `${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`;
}

/** A copy of the config safe to print: every secret replaced. */
export function maskConfig(config: Config): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
  for (const option of describeOptions()) {
    if (!option.secret) continue;
    const parts = option.path.split('.');
    let node: Record<string, unknown> | undefined = copy;
    for (const p of parts.slice(0, -1)) node = node?.[p] as Record<string, unknown> | undefined;
    const last = parts[parts.length - 1];
    if (node && node[last] !== undefined) node[last] = '[Redacted]';
  }
  return copy;
}

/**
 * Every configured secret value (schema fields marked `secret`, plus the password inside MQ_URL), for
 * the logger to scrub from free text.
 */
export function secretValues(config: Config): string[] {
  const out: string[] = [];
  for (const option of describeOptions()) {
    if (!option.secret) continue;
    let node: unknown = config;
    for (const p of option.path.split('.')) node = (node as Record<string, unknown> | undefined)?.[p];
    if (typeof node === 'string' && node !== '') out.push(node);
  }
  if (config.mq.url) {
    try {
      const pass = decodeURIComponent(new URL(config.mq.url).password);
      if (pass) out.push(pass);
    } catch {
      /* not a URL: the whole value is already listed */
    }
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
