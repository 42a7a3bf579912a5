import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { AttackCatalogueSchema } from '../../../schemas/evidence';
import type { AttackCatalogue } from '../../domain/evidence/evidence-types';
import { ConfigError, errorMessageOf } from '../../errors';
import { importAttackCatalogue } from './attack-catalogue';
import { fail, zodReason, type Loaded } from './parse-text';

/** Reading the enterprise-attack bundle (plain or gzip) and reading / writing the compact catalogue. */

/** Where users get the bundle (docs/getting-inputs.md). */
export const ATTACK_DOWNLOAD_HINT =
  'download enterprise-attack-18.1.json from https://github.com/mitre-attack/attack-stix-data (folder enterprise-attack/; docs/getting-inputs.md)';

const isGzip = (bytes: Buffer): boolean => bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
/** Text that cannot be JSON: echoing it would print binary bytes to the terminal. */
const looksBinary = (text: string): boolean => /[\u0000-\u0008\u000e-\u001f\ufffd]/.test(text.slice(0, 4096));

/** The STIX bundle at `path`, gunzipped when it is gzip (by content, not by name). */
export async function readAttackBundle(path: string): Promise<unknown> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ConfigError(`ATT&CK import: ${path} not found; ${ATTACK_DOWNLOAD_HINT}`, { cause: err });
    throw new ConfigError(`ATT&CK import: cannot read ${path}: ${errorMessageOf(err)}`, { cause: err });
  }
  const parsed = parseBytes(bytes);
  if (!parsed.ok) throw new ConfigError(`ATT&CK import: ${path} is not JSON (or gzip JSON): ${parsed.reason}`);
  return parsed.value;
}

/** JSON from plain or gzip bytes; a reason that never echoes binary content. */
export function parseBytes(bytes: Buffer): { ok: true; value: unknown } | { ok: false; reason: string } {
  let text: string;
  try {
    text = (isGzip(bytes) ? gunzipSync(bytes) : bytes).toString('utf8');
  } catch (err) {
    return { ok: false, reason: `gzip: ${errorMessageOf(err)}` };
  }
  if (looksBinary(text)) return { ok: false, reason: 'binary content (neither JSON nor gzip JSON)' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, reason: errorMessageOf(err).split('\n', 1)[0] };
  }
}

/** "enterprise-attack-18.1.json.gz" → "18.1". */
export function versionFromFileName(path: string): string | undefined {
  return /(\d+\.\d+(?:\.\d+)?)/.exec(basename(path))?.[1];
}

export interface ImportReport {
  catalogue: AttackCatalogue;
  bytesWritten: number;
  durationMs: number;
}

/** Bundle file → compact JSON catalogue file. `now` is injected so the report is testable. */
export async function importAttackCatalogueFile(
  bundlePath: string,
  outPath: string,
  options: { version?: string; now?: () => number } = {},
): Promise<ImportReport> {
  const now = options.now ?? Date.now;
  const started = now();
  const bundle = await readAttackBundle(bundlePath);
  const version = options.version ?? versionFromFileName(bundlePath);
  const catalogue = importAttackCatalogue(bundle, version ? { version } : {});
  const json = JSON.stringify(catalogue);
  await mkdir(dirname(outPath), { recursive: true });
  await writeFile(outPath, json);
  return { catalogue, bytesWritten: Buffer.byteLength(json), durationMs: now() - started };
}

/**
 * The catalogue for the engine: the compact file written by `attack import`, or directly the
 * enterprise-attack STIX bundle (plain or .gz, imported on the fly), validated; a bad file is an
 * issue, not a crash.
 */
export async function loadAttackCatalogue(path: string): Promise<Loaded<AttackCatalogue>> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    return fail(path, `catalogue: cannot read: ${(err as { code?: string }).code === 'ENOENT' ? 'not found' : errorMessageOf(err)}`);
  }
  const parsed = parseBytes(bytes);
  if (!parsed.ok) return fail(path, `catalogue: not JSON: ${parsed.reason} (expected the file written by \`coverage-connector attack import\`, or enterprise-attack.json[.gz])`);
  if ((parsed.value as { type?: unknown } | null)?.type === 'bundle') {
    try {
      const version = versionFromFileName(path);
      return { ok: true, value: importAttackCatalogue(parsed.value, version ? { version } : {}) };
    } catch (err) {
      return fail(path, `catalogue: ${errorMessageOf(err)}`);
    }
  }
  const valid = AttackCatalogueSchema.safeParse(parsed.value);
  if (!valid.success) return fail(path, `${zodReason('catalogue', valid.error)} (write it with \`coverage-connector attack import\`)`);
  return { ok: true, value: valid.data as AttackCatalogue };
}
