import type { z } from 'zod';
import {
  ControlEntrySchema,
  ControlsFileSchema,
  DataSourceEntrySchema,
  DataSourcesFileSchema,
  ValidationEntrySchema,
  ValidationFileSchema,
} from '../../../schemas/evidence';
import type { DataSourceEntry, LoadIssue, PreventionControl, ValidationResult } from '../../domain/evidence/evidence-types';
import { normalisePlatforms } from '../../domain/coverage/platforms';
import { isRecord, parseYaml, zodReason } from './parse-text';

/**
 * The operator's own inventories: prevention controls, collected data sources, emulation results.
 * The list key must be there (else one issue for the file); each bad entry is one issue naming its
 * index and field, and the other entries still load.
 */

export interface InventoryResult<T> {
  items: T[];
  issues: LoadIssue[];
}

function entriesOf(text: string, path: string, schema: z.ZodType<Record<string, unknown[]>>, key: string): { entries: unknown[] } | { issue: LoadIssue } {
  const parsed = parseYaml(text);
  if (!parsed.ok) return { issue: { path, reason: parsed.reason } };
  const top = schema.safeParse(parsed.value);
  if (!top.success) return { issue: { path, reason: zodReason('inventory', top.error) } };
  return { entries: top.data[key] };
}

const labelOf = (key: string, index: number, raw: unknown): string => {
  const id = isRecord(raw) && (typeof raw.id === 'string' || typeof raw.id === 'number') ? ` (id ${raw.id})` : '';
  return `${key}[${index}]${id}`;
};

function loadEntries<S extends z.ZodType, T>(
  text: string,
  path: string,
  fileSchema: z.ZodType<Record<string, unknown[]>>,
  key: string,
  entrySchema: S,
  toItem: (entry: z.infer<S>) => T,
  idOf?: (item: T) => string,
): InventoryResult<T> {
  const found = entriesOf(text, path, fileSchema, key);
  if ('issue' in found) return { items: [], issues: [found.issue] };
  const items: T[] = [];
  const issues: LoadIssue[] = [];
  const ids = new Set<string>();
  found.entries.forEach((raw, index) => {
    const parsed = entrySchema.safeParse(raw);
    if (!parsed.success) {
      issues.push({ path, reason: zodReason(labelOf(key, index, raw), parsed.error) });
      return;
    }
    const item = toItem(parsed.data);
    const id = idOf?.(item);
    if (id !== undefined) {
      if (ids.has(id)) {
        issues.push({ path, reason: `${labelOf(key, index, raw)}: duplicate id, the first one is kept` });
        return;
      }
      ids.add(id);
    }
    items.push(item);
  });
  return { items, issues };
}

/** controls.yml: `controls: [{id, name, mode, techniques, mitigations, validated?, platforms?}]`. */
export function loadControls(text: string, path: string): InventoryResult<PreventionControl> {
  return loadEntries(text, path, ControlsFileSchema, 'controls', ControlEntrySchema, (c) => ({
    id: c.id,
    name: c.name,
    mode: c.mode,
    techniques: [...new Set(c.techniques)],
    mitigations: [...new Set(c.mitigations)],
    ...(c.validated ? { validated: c.validated } : {}),
    ...(c.platforms?.length ? { platforms: normalisePlatforms(c.platforms) } : {}),
  }), (c) => c.id);
}

/** data-sources.yml: `data_sources: [{id, name?, collected, aliases?}]`, ids and aliases lower-cased. */
export function loadDataSources(text: string, path: string): InventoryResult<DataSourceEntry> {
  return loadEntries(text, path, DataSourcesFileSchema, 'data_sources', DataSourceEntrySchema, (d) => ({
    id: d.id,
    ...(d.name ? { name: d.name } : {}),
    collected: d.collected,
    aliases: [...new Set(d.aliases)],
  }), (d) => d.id);
}

const toValidation = (v: z.infer<typeof ValidationEntrySchema>): ValidationResult => ({
  techniqueId: v.technique,
  date: v.date,
  outcome: v.outcome,
  ...(v.test !== undefined ? { test: v.test } : {}),
});

/** Splits CSV text into rows: quoted fields ("a, b", doubled "" quotes), CRLF, a leading BOM. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const src = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < src.length; i += 1) {
    const ch = src[i];
    if (quoted) {
      if (ch === '"' && src[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && src[i + 1] === '\n') i += 1;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

function loadValidationCsv(text: string, path: string): InventoryResult<ValidationResult> {
  const rows = parseCsv(text);
  const header = (rows[0] ?? []).map((h) => h.trim().toLowerCase());
  const missing = ['technique', 'date', 'outcome'].filter((h) => !header.includes(h));
  if (missing.length > 0) return { items: [], issues: [{ path, reason: `csv: header must be technique,date,outcome[,test]; missing ${missing.join(', ')}` }] };
  const items: ValidationResult[] = [];
  const issues: LoadIssue[] = [];
  rows.slice(1).forEach((cells, index) => {
    if (cells.every((c) => c.trim() === '')) return;
    const record: Record<string, string> = {};
    header.forEach((h, i) => {
      if (cells[i] !== undefined && cells[i].trim() !== '') record[h] = cells[i];
    });
    const parsed = ValidationEntrySchema.safeParse(record);
    if (parsed.success) items.push(toValidation(parsed.data));
    else issues.push({ path, reason: zodReason(`csv line ${index + 2}`, parsed.error) });
  });
  return { items, issues };
}

/** Validation results: CSV (`technique,date,outcome[,test]`) or YAML/JSON `results: [...]`. */
export function loadValidation(text: string, path: string): InventoryResult<ValidationResult> {
  if (/\.csv$/i.test(path)) return loadValidationCsv(text, path);
  return loadEntries(text, path, ValidationFileSchema, 'results', ValidationEntrySchema, toValidation);
}
