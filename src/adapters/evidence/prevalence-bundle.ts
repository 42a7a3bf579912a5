import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { prevalenceFromUses, usesFromBundle, type PrevalenceTable } from '../../domain/gaps/prevalence';
import type { StixObject } from '../../domain/stix/stix-types';
import { ConfigError, errorMessageOf } from '../../errors';
import { parseBytes } from './attack-catalogue-file';

/**
 * Offline gap prevalence: a STIX bundle's own intelligence (plain or gzip JSON), e.g. the ATT&CK
 * enterprise bundle, whose `uses` relationships say which techniques most intrusion sets and campaigns
 * use, or an export of reports. `assess --prevalence-bundle`, `PREVALENCE_BUNDLE_FILE`.
 */
export async function loadPrevalenceBundle(path: string, options: { now: Date; windowDays: number }): Promise<PrevalenceTable> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`prevalence bundle ${path}: ${code === 'ENOENT' ? 'not found' : errorMessageOf(err)}`, { cause: err });
  }
  const parsed = parseBytes(bytes);
  if (!parsed.ok) throw new ConfigError(`prevalence bundle ${path}: not JSON (or gzip JSON): ${parsed.reason}`);
  const objects = (parsed.value as { objects?: unknown } | null)?.objects;
  if (!Array.isArray(objects)) throw new ConfigError(`prevalence bundle ${path}: not a STIX bundle (no "objects" array)`);
  const uses = usesFromBundle(objects as StixObject[]);
  return prevalenceFromUses(uses, { origin: 'bundle', label: basename(path), now: options.now, windowDays: options.windowDays });
}
