import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importAttackCatalogueFile, loadEvidence } from '../../../src/adapters/evidence';
import { fixturePath } from './fixtures';

describe('loadEvidence', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'evidence-set-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('assembles rules, imported scores, inventories and the catalogue, collecting every issue', async () => {
    const catalogue = join(dir, 'catalogue.json');
    await importAttackCatalogueFile(fixturePath('attack/mini-attack-v15.json'), catalogue);
    const evidence = await loadEvidence({
      rulesDirs: [fixturePath('rules')],
      controlsFile: fixturePath('inventories/controls.yml'),
      dataSourcesFile: fixturePath('inventories/data-sources.yml'),
      validationFile: fixturePath('inventories/validation.csv'),
      layers: [fixturePath('layers/detection-layer.json'), fixturePath('layers/dettect-small.yaml')],
      attackCatalogue: catalogue,
    });
    expect(evidence.rules).toHaveLength(4);
    expect(evidence.imported).toHaveLength(7);
    expect(evidence.controls.map((c) => c.id)).toEqual(['asr-office-child', 'applocker']);
    expect(evidence.dataSources).toHaveLength(3);
    expect(evidence.hasDataSourceInventory).toBe(true);
    expect(evidence.validation).toHaveLength(2);
    expect(evidence.catalogue?.version).toBe('15.1');
    // 7 rule files + 1 layer entry + 1 DeTT&CT entry + 3 controls + 1 data source + 1 CSV row.
    expect(evidence.issues).toHaveLength(14);
    expect(evidence.issues.every((i) => i.path.startsWith(fixturePath()) && i.reason.length > 0)).toBe(true);
  });

  it('without a data-source inventory says so, and reports configured files that are missing', async () => {
    const evidence = await loadEvidence({
      rulesDirs: [],
      dataSourcesFile: join(dir, 'missing.yml'),
      controlsFile: join(dir, 'missing-controls.yml'),
      attackCatalogue: join(dir, 'missing.json'),
    });
    expect(evidence.hasDataSourceInventory).toBe(false);
    expect(evidence.catalogue).toBeUndefined();
    expect(evidence.issues).toEqual([
      { path: join(dir, 'missing-controls.yml'), reason: 'not found' },
      { path: join(dir, 'missing.yml'), reason: 'not found' },
      { path: join(dir, 'missing.json'), reason: 'catalogue: cannot read: not found' },
    ]);
  });

  it('applies maxRuleFileBytes to inventories and layers too', async () => {
    const big = join(dir, 'controls.yml');
    writeFileSync(big, `controls:\n${'  - {id: c, name: n, mode: block}\n'.repeat(100)}`);
    const layer = join(dir, 'layer.json');
    const techniques = Array.from({ length: 100 }, (_, i) => ({ techniqueID: `T${1000 + i}`, score: 50 }));
    writeFileSync(layer, JSON.stringify({ name: 'L', domain: 'enterprise-attack', techniques }));
    const evidence = await loadEvidence({ rulesDirs: [], controlsFile: big, layers: [layer], maxRuleFileBytes: 1024 });
    expect(evidence.controls).toEqual([]);
    expect(evidence.imported).toEqual([]);
    expect(evidence.issues.map((i) => i.reason)).toEqual([expect.stringMatching(/^file too large/), expect.stringMatching(/^file too large/)]);
  });

  it('reports a configured layer that is neither a Navigator .json nor a DeTT&CT .yaml', async () => {
    const notes = join(dir, 'notes.txt');
    writeFileSync(notes, 'T1059 is covered');
    const evidence = await loadEvidence({ rulesDirs: [], layers: [notes] });
    expect(evidence.imported).toEqual([]);
    expect(evidence.issues).toEqual([{ path: notes, reason: 'not a file type read here (see docs/evidence-formats.md)' }]);
  });
});
