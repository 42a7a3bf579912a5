import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { AttackCatalogueSchema } from '../../../schemas/evidence';
import type { AttackCatalogue } from '../../domain/evidence/evidence-types';
import { ConfigError, errorMessageOf } from '../../errors';
import { importAttackCatalogue } from './attack-catalogue';
import { fail, parseJson, zodReason, type Loaded } from './parse-text';

/** Reading the enterprise-attack bundle (plain or gzip) and reading / writing the compact catalogue. */

const isGzip = (bytes: Buffer): boolean => bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

/** The STIX bundle at `path`, gunzipped when it is gzip (by content, not by name). */
export async function readAttackBundle(path: string): Promise<unknown> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new ConfigError(`ATT&CK import: cannot read ${path}: ${errorMessageOf(err)}`, { cause: err });
  }
  try {
    return JSON.parse((isGzip(bytes) ? gunzipSync(bytes) : bytes).toString('utf8'));
  } catch (err) {
    throw new ConfigError(`ATT&CK import: ${path} is not JSON (or gzip JSON): ${errorMessageOf(err)}`, { cause: err });
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

/** The compact catalogue written by `attack import`, validated; a bad file is an issue, not a crash. */
export async function loadAttackCatalogue(path: string): Promise<Loaded<AttackCatalogue>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return fail(path, `catalogue: cannot read: ${(err as { code?: string }).code === 'ENOENT' ? 'not found' : errorMessageOf(err)}`);
  }
  const parsed = parseJson(text);
  if (!parsed.ok) return fail(path, `catalogue: ${parsed.reason}`);
  const valid = AttackCatalogueSchema.safeParse(parsed.value);
  if (!valid.success) return fail(path, `${zodReason('catalogue', valid.error)} (write it with \`coverage-connector attack import\`)`);
  return { ok: true, value: valid.data as AttackCatalogue };
}
