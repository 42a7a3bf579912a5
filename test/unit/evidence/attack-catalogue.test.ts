import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { catalogueStats, importAttackCatalogue } from '../../../src/adapters/evidence/attack-catalogue';
import { importAttackCatalogueFile, loadAttackCatalogue, readAttackBundle, versionFromFileName } from '../../../src/adapters/evidence/attack-catalogue-file';
import type { AttackCatalogue } from '../../../src/domain/evidence/evidence-types';
import { registerAttackCommand } from '../../../src/cli/attack-command';
import { describeWithShared, sharedPath } from '../../support/env';
import { fixturePath, fixtureText } from './fixtures';

describe('ATT&CK catalogue import (hand-made ATT&CK 15-style bundle)', () => {
  const catalogue = importAttackCatalogue(JSON.parse(fixtureText('attack/mini-attack-v15.json')));

  it('records the collection version and every technique with tactics, platforms and parent', () => {
    expect(catalogue.version).toBe('15.1');
    expect(Object.keys(catalogue.techniques).sort()).toEqual(['T1059', 'T1059.001', 'T1086', 'T1500']);
    expect(catalogue.techniques['T1059.001']).toMatchObject({ name: 'PowerShell', parent: 'T1059', tactics: ['execution'], platforms: ['Windows'] });
    expect(catalogue.techniques.T1059.parent).toBeUndefined();
  });

  it('takes data components from x_mitre_data_sources and from data-component detects relationships', () => {
    expect(catalogue.techniques['T1059.001'].dataComponents).toEqual(['Module: Module Load', 'Script: Script Execution']);
    expect(catalogue.techniques.T1059.dataComponents).toEqual(['Command: Command Execution', 'Process: Process Creation']);
  });

  it('maps M-id mitigations only, ignoring deprecated mitigations and relationships', () => {
    expect(catalogue.mitigations).toEqual({ M1038: { id: 'M1038', name: 'Execution Prevention' } });
    expect(catalogue.techniques['T1059.001'].mitigations).toEqual(['M1038']);
    expect(catalogue.techniques.T1059.mitigations).toEqual([]);
  });

  it('flags revoked techniques with their replacement and deprecated ones', () => {
    expect(catalogue.techniques.T1086).toMatchObject({ revoked: true, revokedBy: 'T1059.001', deprecated: false });
    expect(catalogue.techniques.T1500).toMatchObject({ revoked: false, deprecated: true });
  });

  it('refuses input that is not a STIX bundle', () => {
    expect(() => importAttackCatalogue({ type: 'report' })).toThrow(/not a STIX bundle/);
    expect(() => importAttackCatalogue({ type: 'bundle', objects: [] })).toThrow(/no attack-pattern/);
  });

  it('reads the version from a file name', () => {
    expect(versionFromFileName('/x/enterprise-attack-18.1.json.gz')).toBe('18.1');
    expect(versionFromFileName('enterprise-attack.json')).toBeUndefined();
  });
});

describe('compact catalogue file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'catalogue-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips: import writes compact JSON that loadAttackCatalogue validates and reads back', async () => {
    const out = join(dir, 'sub', 'catalogue.json');
    let t = 1000;
    const report = await importAttackCatalogueFile(fixturePath('attack/mini-attack-v15.json'), out, { now: () => (t += 5) });
    expect(report.durationMs).toBe(5);
    const text = readFileSync(out, 'utf8');
    expect(text).not.toContain('\n');
    expect(report.bytesWritten).toBe(Buffer.byteLength(text));
    const loaded = await loadAttackCatalogue(out);
    expect(loaded).toEqual({ ok: true, value: report.catalogue });
  });

  it('reports a missing or malformed catalogue as an issue', async () => {
    expect(await loadAttackCatalogue(join(dir, 'none.json'))).toEqual({ ok: false, issue: { path: join(dir, 'none.json'), reason: 'catalogue: cannot read: not found' } });
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ version: '1', techniques: { T1: {} }, mitigations: {} }));
    const bad = await loadAttackCatalogue(join(dir, 'bad.json'));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.issue.reason).toMatch(/^catalogue: techniques\.T1\.id: .*attack import/);
  });

  it('`attack import` writes the catalogue and prints its counts and size', async () => {
    const out = join(dir, 'c.json');
    let printed = '';
    const program = new Command().exitOverride();
    registerAttackCommand(program, { write: (s) => (printed += s) });
    await program.parseAsync(['node', 'cli', 'attack', 'import', fixturePath('attack/mini-attack-v15.json'), '--out', out, '--attack-version', '15.1-fixture']);
    const written = JSON.parse(readFileSync(out, 'utf8')) as AttackCatalogue;
    expect(written.version).toBe('15.1-fixture');
    expect(printed).toMatch(/^ATT&CK 15\.1-fixture: 4 techniques \(2 active, 1 sub-techniques, 1 revoked, 1 deprecated\), 1 mitigations\nwrote .*c\.json \(\d+ bytes\) in \d+ ms\n$/);
  });
});

describeWithShared('ATT&CK catalogue import (real enterprise-attack 18.1)', () => {
  let catalogue: AttackCatalogue;
  beforeAll(async () => {
    const path = sharedPath('attack/enterprise-attack-18.1.json.gz');
    catalogue = importAttackCatalogue(await readAttackBundle(path), { version: versionFromFileName(path) });
  });

  it('holds all 835 attack-patterns: 691 active, 132 revoked, 12 deprecated', () => {
    expect(catalogue.version).toBe('18.1');
    expect(catalogueStats(catalogue)).toMatchObject({ techniques: 835, active: 691, revoked: 132, deprecated: 12 });
  });

  it('gives T1059.001 its parent, tactic, platform, ATT&CK 18 data components and mitigations', () => {
    const t = catalogue.techniques['T1059.001'];
    expect(t).toMatchObject({ name: 'PowerShell', parent: 'T1059', tactics: ['execution'], platforms: ['Windows'], revoked: false, deprecated: false });
    expect(t.dataComponents).toEqual(expect.arrayContaining(['Command Execution', 'Process Creation', 'Module Load']));
    expect(t.mitigations).toEqual(expect.arrayContaining(['M1038', 'M1042', 'M1045']));
    expect(catalogue.mitigations.M1038.name).toBe('Execution Prevention');
  });

  it('flags T1574.002 (DLL Side-Loading) revoked by T1574.001 and T1086 by T1059.001', () => {
    expect(catalogue.techniques['T1574.002']).toMatchObject({ name: 'DLL Side-Loading', revoked: true, revokedBy: 'T1574.001' });
    expect(catalogue.techniques.T1086).toMatchObject({ revoked: true, revokedBy: 'T1059.001' });
  });

  it('keeps only M-id mitigations, each a live course-of-action', () => {
    const ids = Object.keys(catalogue.mitigations);
    expect(ids.length).toBeGreaterThan(40);
    expect(ids.every((id) => /^M\d{4}$/.test(id))).toBe(true);
  });
});
