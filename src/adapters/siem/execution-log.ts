import { readFile } from 'node:fs/promises';
import { BackendError } from '../../errors';
import type { KeyValueStore } from '../store/json-file-store';
import type { Execution, ExecutionLog } from './siem-types';

/**
 * Which technique ran when, read from execution logs and/or recorded through the API. Formats:
 *  - Invoke-AtomicRedTeam's default CSV log ("Execution Time (UTC)", "Technique", "Test Name", "Hostname", "GUID");
 *  - ATTiRe JSON (Invoke-AtomicRedTeam's Attire logger, VECTR): procedures[].mitre-technique-id, steps[].time-start;
 *  - our own CSV or JSON list with technique_id, executed_at, host, test.
 * Bad rows are reported as issues and skipped; a file that cannot be read or parsed at all is an
 * EXECUTION_LOG_INVALID error (not retried: the file must be fixed).
 */

const TECHNIQUE = /^T\d{4}(\.\d{3})?$/;
const RECORDED_KEY = 'siem:executions';
const MAX_RECORDED = 10000;

const COLUMN_ALIASES: Record<keyof Omit<Execution, 'origin'>, string[]> = {
  techniqueId: ['technique_id', 'technique', 'techniqueid', 'mitre_technique_id', 'mitre-technique-id', 'attack_technique'],
  executedAt: ['executed_at', 'execution time (utc)', 'timestamp', 'time', 'start_time', 'time-start', 'executedat'],
  host: ['host', 'hostname', 'target_host', 'host.name'],
  test: ['test', 'test_name', 'test name', 'procedure-name', 'guid'],
};

/** RFC 4180 CSV (quoted fields, doubled quotes, CRLF). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      if (row.some((f) => f.trim() !== '')) rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  row.push(field);
  if (row.some((f) => f.trim() !== '')) rows.push(row);
  return rows;
}

function pick(record: Record<string, unknown>, aliases: string[]): string | undefined {
  const lowered = new Map(Object.entries(record).map(([k, v]) => [k.trim().toLowerCase(), v]));
  for (const alias of aliases) {
    const v = lowered.get(alias);
    if (typeof v === 'string' && v.trim() !== '') return v.trim();
    if (typeof v === 'number') return String(v);
  }
  return undefined;
}

/** Validates one loose record; returns an issue string instead when it is unusable. */
export function toExecution(record: Record<string, unknown>, origin: string, where: string): Execution | string {
  const techniqueId = pick(record, COLUMN_ALIASES.techniqueId)?.toUpperCase();
  const when = pick(record, COLUMN_ALIASES.executedAt);
  if (!techniqueId || !TECHNIQUE.test(techniqueId)) return `${where}: no ATT&CK technique id (got ${JSON.stringify(techniqueId ?? null)})`;
  const ms = when ? Date.parse(when) : NaN;
  if (Number.isNaN(ms)) return `${where}: no valid execution time (got ${JSON.stringify(when ?? null)})`;
  const execution: Execution = { techniqueId, executedAt: new Date(ms).toISOString(), origin };
  const host = pick(record, COLUMN_ALIASES.host);
  const test = pick(record, COLUMN_ALIASES.test);
  if (host) execution.host = host;
  if (test) execution.test = test;
  return execution;
}

function fromAttire(doc: Record<string, unknown>): Array<Record<string, unknown>> {
  const target = ((doc['execution-data'] as Record<string, unknown> | undefined)?.target ?? {}) as Record<string, unknown>;
  const procedures = Array.isArray(doc.procedures) ? (doc.procedures as Array<Record<string, unknown>>) : [];
  return procedures.map((p) => {
    const steps = Array.isArray(p.steps) ? (p.steps as Array<Record<string, unknown>>) : [];
    const first = steps.find((s) => typeof s['time-start'] === 'string');
    return { technique_id: p['mitre-technique-id'], executed_at: first?.['time-start'], host: target.host, test: p['procedure-name'] };
  });
}

/** Parses one log file's text (format detected from the content). */
export function parseExecutionLog(text: string, origin: string): { executions: Execution[]; issues: string[] } {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  let records: Array<Record<string, unknown>>;
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let doc: unknown;
    try {
      doc = JSON.parse(trimmed);
    } catch (err) {
      throw new BackendError('EXECUTION_LOG_INVALID', `execution log ${origin} is not valid JSON: ${(err as Error).message}`, false);
    }
    if (Array.isArray(doc)) records = doc as Array<Record<string, unknown>>;
    else if (doc && typeof doc === 'object' && Array.isArray((doc as Record<string, unknown>).procedures)) records = fromAttire(doc as Record<string, unknown>);
    else if (doc && typeof doc === 'object' && Array.isArray((doc as Record<string, unknown>).executions)) records = (doc as { executions: Array<Record<string, unknown>> }).executions;
    else throw new BackendError('EXECUTION_LOG_INVALID', `execution log ${origin}: expected a list, an ATTiRe document or {"executions": [...]}`, false);
  } else {
    const rows = parseCsv(trimmed);
    if (rows.length < 1) return { executions: [], issues: [] };
    const header = rows[0].map((h) => h.trim());
    const known = Object.values(COLUMN_ALIASES).flat();
    if (!header.some((h) => known.includes(h.toLowerCase()))) {
      throw new BackendError('EXECUTION_LOG_INVALID', `execution log ${origin}: the CSV header names no known column (technique_id, executed_at, Technique, "Execution Time (UTC)"…)`, false);
    }
    records = rows.slice(1).map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
  }
  const executions: Execution[] = [];
  const issues: string[] = [];
  records.forEach((record, i) => {
    const parsed = record && typeof record === 'object' ? toExecution(record, origin, `${origin} entry ${i + 1}`) : `${origin} entry ${i + 1}: not an object`;
    if (typeof parsed === 'string') issues.push(parsed);
    else executions.push(parsed);
  });
  return { executions, issues };
}

const keyOf = (e: Execution) => `${e.techniqueId}|${e.executedAt}|${e.host ?? ''}`;

export interface ExecutionLogOptions {
  files: string[];
  store: KeyValueStore;
  /** Injected for tests. */
  readText?: (path: string) => Promise<string>;
}

export function createExecutionLog(options: ExecutionLogOptions): ExecutionLog {
  const readText = options.readText ?? ((p: string) => readFile(p, 'utf8'));
  return {
    async list() {
      const executions: Execution[] = [];
      const issues: string[] = [];
      for (const file of options.files) {
        let text: string;
        try {
          text = await readText(file);
        } catch (err) {
          throw new BackendError('EXECUTION_LOG_INVALID', `execution log ${file} cannot be read: ${(err as Error).message}`, false, { cause: err });
        }
        const parsed = parseExecutionLog(text, file);
        executions.push(...parsed.executions);
        issues.push(...parsed.issues);
      }
      executions.push(...((await options.store.get<Execution[]>(RECORDED_KEY)) ?? []));
      const unique = new Map(executions.map((e) => [keyOf(e), e]));
      return { executions: [...unique.values()].sort((a, b) => a.executedAt.localeCompare(b.executedAt)), issues };
    },
    async record(input) {
      const valid: Execution[] = [];
      const problems: string[] = [];
      input.forEach((raw, i) => {
        const parsed = toExecution({ technique_id: raw.techniqueId, executed_at: raw.executedAt, host: raw.host, test: raw.test }, raw.origin ?? 'api', `execution ${i + 1}`);
        if (typeof parsed === 'string') problems.push(parsed);
        else valid.push(parsed);
      });
      if (problems.length > 0) throw new BackendError('EXECUTION_LOG_INVALID', `invalid executions, none recorded: ${problems.join('; ')}`, false);
      const existing = (await options.store.get<Execution[]>(RECORDED_KEY)) ?? [];
      const known = new Set(existing.map(keyOf));
      const fresh = valid.filter((e) => !known.has(keyOf(e)) && known.add(keyOf(e)));
      if (fresh.length > 0) await options.store.set(RECORDED_KEY, [...existing, ...fresh].slice(-MAX_RECORDED));
      return fresh.length;
    },
  };
}
