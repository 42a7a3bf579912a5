import { loadControls, loadDataSources, loadValidation, parseCsv } from '../../../src/adapters/evidence/inventory-loaders';
import { fixtureText } from './fixtures';

describe('controls inventory', () => {
  it('loads valid controls, normalises ids and reports each bad entry by index and field', () => {
    const { items, issues } = loadControls(fixtureText('inventories/controls.yml'), 'controls.yml');
    expect(items).toEqual([
      { id: 'asr-office-child', name: 'ASR - block Office apps creating child processes', mode: 'block', techniques: ['T1204.002', 'T1566.001'], mitigations: ['M1040'], validated: '2025-11-02' },
      { id: 'applocker', name: 'AppLocker scripts policy', mode: 'audit', techniques: [], mitigations: ['M1038'] },
    ]);
    expect(issues.map((i) => i.path)).toEqual(['controls.yml', 'controls.yml', 'controls.yml']);
    expect(issues[0].reason).toMatch(/^controls\[2\] \(id broken-mode\): mode: /);
    expect(issues[1].reason).toMatch(/^controls\[3\] \(id bad-technique\): techniques\[0\]: expected an ATT&CK technique id/);
    expect(issues[2].reason).toBe('controls[4] (id asr-office-child): duplicate id, the first one is kept');
  });

  it('reports a file without the controls list as one issue', () => {
    expect(loadControls('control: []\n', 'c.yml')).toEqual({ items: [], issues: [{ path: 'c.yml', reason: expect.stringMatching(/^inventory: controls: /) }] });
  });
});

describe('data-source inventory', () => {
  it('lower-cases ids and aliases and reports an entry without `collected`', () => {
    const { items, issues } = loadDataSources(fixtureText('inventories/data-sources.yml'), 'ds.yml');
    expect(items).toEqual([
      { id: 'windows/process_creation', name: 'Sysmon EID 1', collected: true, aliases: ['sysmon eventid 1', 'process creation'] },
      { id: 'logs-endpoint.events.process-*', collected: true, aliases: [] },
      { id: 'aws cloudtrail', collected: false, aliases: [] },
    ]);
    expect(issues).toEqual([{ path: 'ds.yml', reason: expect.stringMatching(/^data_sources\[3\] \(id no-collected-flag\): collected: /) }]);
  });
});

describe('validation results', () => {
  it('reads YAML results, normalising technique and outcome case, and rejects bad dates and outcomes', () => {
    const { items, issues } = loadValidation(fixtureText('inventories/validation.yml'), 'v.yml');
    expect(items).toEqual([
      { techniqueId: 'T1059.001', date: '2026-01-15', outcome: 'detected', test: 'atomic T1059.001-1' },
      { techniqueId: 'T1566.001', date: '2026-01-16T10:00:00Z', outcome: 'prevented' },
    ]);
    expect(issues.map((i) => i.reason)).toEqual([expect.stringMatching(/^results\[2\]: date: expected an ISO date/), expect.stringMatching(/^results\[3\]: outcome: /)]);
  });

  it('reads CSV with quoted fields and reports bad rows by line number', () => {
    const { items, issues } = loadValidation(fixtureText('inventories/validation.csv'), 'v.csv');
    expect(items).toEqual([
      { techniqueId: 'T1059.001', date: '2026-01-15', outcome: 'detected', test: 'atomic, PowerShell encoded' },
      { techniqueId: 'T1105', date: '2026-01-16', outcome: 'none' },
    ]);
    expect(issues).toEqual([{ path: 'v.csv', reason: expect.stringMatching(/^csv line 4: outcome: /) }]);
  });

  it('reports a CSV without the expected header', () => {
    expect(loadValidation(fixtureText('inventories/validation-bad-header.csv'), 'b.csv').issues).toEqual([
      { path: 'b.csv', reason: 'csv: header must be technique,date,outcome[,test]; missing technique, date, outcome' },
    ]);
  });

  it('splits CSV rows with CRLF, a BOM and doubled quotes', () => {
    expect(parseCsv('\uFEFFa,b\r\n"x ""y""",2\r\n')).toEqual([['a', 'b'], ['x "y"', '2']]);
  });
});
