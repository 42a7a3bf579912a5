import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOnWorkers, workerEntry } from '../../../src/adapters/evidence/parse-pool';
import { loadFoundRuleFiles, loadRulesFromDirs } from '../../../src/adapters/evidence/rule-files';
import { walkRoot } from '../../../src/adapters/evidence/safe-files';

const sigma = (i: number): string =>
  `title: Rule ${i}\nid: rule-${i}\ntags: [attack.t${1000 + i}]\nlogsource: {product: windows}\ndetection: {sel: {a: ${i}}, condition: sel}\nlevel: high\n`;

describe('rule parsing on worker threads', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'parse-pool-'));
    for (let g = 0; g < 3; g += 1) {
      mkdirSync(join(dir, `g${g}`));
      for (let i = 0; i < 90; i += 1) writeFileSync(join(dir, `g${g}`, `r${i}.yml`), i === 7 ? 'title: [broken' : sigma(g * 100 + i));
      writeFileSync(join(dir, `g${g}`, 'rule.toml'), '[metadata]\nmaturity = "production"\n[rule]\nname = "E"\n[[rule.threat]]\nframework = "MITRE ATT&CK"\n[[rule.threat.technique]]\nid = "T1003"\n');
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds its worker script', () => {
    expect(workerEntry()?.file).toMatch(/parse-worker\.(js|ts)$/);
  });

  it('gives exactly the same rules and issues, in the same order, as parsing in this thread', async () => {
    const inThread = await loadRulesFromDirs([dir], { workers: 0 });
    const onWorkers = await loadRulesFromDirs([dir], { workers: 2 });
    expect(inThread.rules).toHaveLength(270);
    expect(inThread.issues).toHaveLength(3);
    expect(onWorkers).toEqual(inThread);
  }, 60_000);

  it('parses in this thread the batches of a worker that crashes, losing nothing', async () => {
    const crash = join(dir, 'crash-worker.js');
    writeFileSync(crash, 'throw new Error("worker boom");\n');
    const { files } = await walkRoot(dir, (n) => /\.(ya?ml|toml)$/.test(n));
    let fallbackBatches = 0;
    const results = await loadOnWorkers(files, 1024 * 1024, 2, (batch) => {
      fallbackBatches += 1;
      return loadFoundRuleFiles(batch, 1024 * 1024);
    }, { file: crash, execArgv: [] });
    expect(results).toEqual(await loadFoundRuleFiles(files, 1024 * 1024));
    expect(fallbackBatches).toBe(3);
  });
});
