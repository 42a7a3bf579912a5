import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createExecutionLog, parseCsv, parseExecutionLog } from '../../../src/adapters/siem/execution-log';
import { createMemoryStore } from '../../../src/adapters/store/json-file-store';
import { BackendError } from '../../../src/errors';

// The header and quoting Invoke-AtomicRedTeam's Default-ExecutionLogger writes (Export-Csv).
const ART_CSV = [
  '"Execution Time (UTC)","Execution Time (Local)","Technique","Test Number","Test Name","Hostname","Username","GUID"',
  '"2026-02-12T09:00:00Z","2026-02-12T10:00:00","T1059.001","1","Mimikatz, via PowerShell","WIN-01","lab\\alice","f3132740-55bc-48c4-bcc0-758a459cd027"',
  '"2026-02-12T09:30:00Z","2026-02-12T10:30:00","T1003","2","Dump ""LSASS""","WIN-01","lab\\alice","0be2230c-9ab3-4ac2-8826-3199b9a0ebf8"',
].join('\r\n');

describe('execution log parsing', () => {
  it('reads the Invoke-AtomicRedTeam CSV log, quoted commas and quotes included', () => {
    const { executions, issues } = parseExecutionLog(ART_CSV, 'art.csv');
    expect(issues).toEqual([]);
    expect(executions).toEqual([
      { techniqueId: 'T1059.001', executedAt: '2026-02-12T09:00:00.000Z', host: 'WIN-01', test: 'Mimikatz, via PowerShell', origin: 'art.csv' },
      { techniqueId: 'T1003', executedAt: '2026-02-12T09:30:00.000Z', host: 'WIN-01', test: 'Dump "LSASS"', origin: 'art.csv' },
    ]);
  });

  it('reads an ATTiRe JSON log (host from execution-data, time from the first step)', () => {
    const attire = {
      'attire-version': '1.1',
      'execution-data': { 'execution-source': 'Invoke-Atomicredteam', target: { host: 'ubuntu-2', user: 'root' } },
      procedures: [{ 'mitre-technique-id': 'T1053.003', 'procedure-name': 'Cron - Replace crontab', order: 1, steps: [{ order: 1, 'time-start': '2026-02-12T11:00:00.000Z', 'time-stop': '2026-02-12T11:00:02.000Z' }] }],
    };
    expect(parseExecutionLog(JSON.stringify(attire), 'attire.json').executions).toEqual([
      { techniqueId: 'T1053.003', executedAt: '2026-02-12T11:00:00.000Z', host: 'ubuntu-2', test: 'Cron - Replace crontab', origin: 'attire.json' },
    ]);
  });

  it('reads our own JSON list and CSV, lower-casing nothing but upper-casing technique ids', () => {
    const json = parseExecutionLog(JSON.stringify([{ technique_id: 't1531', executed_at: '2026-02-12T12:00:00+01:00' }]), 'runs.json');
    expect(json.executions).toEqual([{ techniqueId: 'T1531', executedAt: '2026-02-12T11:00:00.000Z', origin: 'runs.json' }]);
    const csv = parseExecutionLog('technique_id,executed_at,host\nT1531,2026-02-12T12:00:00Z,srv-1\n', 'runs.csv');
    expect(csv.executions).toEqual([{ techniqueId: 'T1531', executedAt: '2026-02-12T12:00:00.000Z', host: 'srv-1', origin: 'runs.csv' }]);
  });

  it('skips bad rows with a reason and keeps the good ones', () => {
    const { executions, issues } = parseExecutionLog('technique_id,executed_at\nT1059,yesterday\nexecution,2026-02-12T12:00:00Z\nT1003,2026-02-12T12:00:00Z\n', 'x.csv');
    expect(executions.map((e) => e.techniqueId)).toEqual(['T1003']);
    expect(issues).toEqual([expect.stringMatching(/x\.csv entry 1: no valid execution time/), expect.stringMatching(/x\.csv entry 2: no ATT&CK technique id/)]);
  });

  it('rejects a file it cannot understand with EXECUTION_LOG_INVALID', () => {
    const err = (() => {
      try {
        parseExecutionLog('{"foo": 1}', 'odd.json');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(BackendError);
    expect(err).toMatchObject({ code: 'EXECUTION_LOG_INVALID', retryable: false });
    expect(() => parseExecutionLog('a,b\n1,2', 'odd.csv')).toThrow(/header names no known column/);
    expect(() => parseExecutionLog('[oops', 'bad.json')).toThrow(/not valid JSON/);
  });

  it('parses RFC 4180 CSV', () => {
    expect(parseCsv('a,"b,c","d""e"\r\n\r\n1,2,3')).toEqual([
      ['a', 'b,c', 'd"e'],
      ['1', '2', '3'],
    ]);
  });
});

describe('execution log', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'exec-log-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('merges files and API-recorded executions, de-duplicated and sorted by time', async () => {
    const file = join(dir, 'art.csv');
    await writeFile(file, ART_CSV);
    const log = createExecutionLog({ files: [file], store: createMemoryStore() });
    expect(await log.record([{ techniqueId: 'T1531', executedAt: '2026-02-12T08:00:00Z' }, { techniqueId: 'T1059.001', executedAt: '2026-02-12T09:00:00Z', host: 'WIN-01' }])).toBe(2);
    expect(await log.record([{ techniqueId: 'T1531', executedAt: '2026-02-12T08:00:00Z' }])).toBe(0); // recording twice adds nothing
    const { executions } = await log.list();
    expect(executions.map((e) => `${e.techniqueId}@${e.executedAt}`)).toEqual(['T1531@2026-02-12T08:00:00.000Z', 'T1059.001@2026-02-12T09:00:00.000Z', 'T1003@2026-02-12T09:30:00.000Z']);
  });

  it('records nothing when one execution of a batch is invalid', async () => {
    const store = createMemoryStore();
    const log = createExecutionLog({ files: [], store });
    await expect(log.record([{ techniqueId: 'T1531', executedAt: '2026-02-12T08:00:00Z' }, { techniqueId: 'nope', executedAt: 'x' }])).rejects.toMatchObject({ code: 'EXECUTION_LOG_INVALID' });
    expect((await log.list()).executions).toEqual([]);
  });

  it('fails with EXECUTION_LOG_INVALID naming a missing file', async () => {
    const log = createExecutionLog({ files: [join(dir, 'missing.csv')], store: createMemoryStore() });
    await expect(log.list()).rejects.toMatchObject({ code: 'EXECUTION_LOG_INVALID', message: expect.stringContaining('missing.csv') });
  });
});
