import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEvidenceDetailed } from '../../../src/adapters/evidence';
import { loadRulesFromDirs } from '../../../src/adapters/evidence/rule-files';

const sigma = (id: string, technique: string, level = 'high'): string =>
  `title: Rule ${id}\nid: ${id}\ntags: [attack.${technique}]\nlogsource: {product: windows}\ndetection: {sel: {a: 1}, condition: sel}\nlevel: ${level}\n`;

describe('parsed-inventory cache (coverage.cache_file)', () => {
  let dir: string;
  let rules: string;
  let cacheFile: string;
  const load = () => loadEvidenceDetailed({ rulesDirs: [rules], cacheFile });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'inventory-cache-'));
    rules = join(dir, 'rules');
    cacheFile = join(dir, 'state', 'cache.json');
    mkdirSync(join(rules, 'win'), { recursive: true });
    for (let i = 0; i < 5; i += 1) writeFileSync(join(rules, 'win', `r${i}.yml`), sigma(`r${i}`, `t100${i}`));
    writeFileSync(join(rules, 'win', 'broken.yml'), 'title: [broken');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a warm start parses nothing and gives exactly the rules and issues of a cold one', async () => {
    const cold = await load();
    expect(cold).toEqual(expect.objectContaining({ files: 6, cached: 0 }));
    expect(JSON.parse(readFileSync(cacheFile, 'utf8')).entries).toHaveLength(6);
    const warm = await load();
    expect(warm.cached).toBe(6);
    expect(warm.evidence).toEqual(cold.evidence);
    expect(warm.evidence).toEqual(await loadEvidenceDetailed({ rulesDirs: [rules] }).then((r) => r.evidence));
  });

  it('re-parses a file whose content changed even when its size and mtime did not', async () => {
    await load();
    const file = join(rules, 'win', 'r1.yml');
    const { atime, mtime, size } = statSync(file);
    writeFileSync(file, sigma('r1', 't1009')); // same length as t1001
    utimesSync(file, atime, mtime);
    expect(statSync(file).size).toBe(size);
    const warm = await load();
    expect(warm.cached).toBe(5);
    expect(warm.evidence.rules.find((r) => r.id === 'r1')?.techniques).toEqual(['T1009']);
  });

  it('re-reads a touched file but does not re-parse it, forgets deleted ones and picks up new ones', async () => {
    await load();
    const later = new Date(Date.now() + 5000);
    utimesSync(join(rules, 'win', 'r2.yml'), later, later);
    unlinkSync(join(rules, 'win', 'r3.yml'));
    writeFileSync(join(rules, 'win', 'r9.yml'), sigma('r9', 't1059'));
    const warm = await load();
    expect(warm).toEqual(expect.objectContaining({ files: 6, cached: 5 }));
    expect(warm.evidence.rules.map((r) => r.id).sort()).toEqual(['r0', 'r1', 'r2', 'r4', 'r9']);
    expect(JSON.parse(readFileSync(cacheFile, 'utf8')).entries.map((e: { relative: string }) => e.relative)).not.toContain(join('win', 'r3.yml'));
  });

  it('does not even read files whose size, mtime, ctime and inode are unchanged, unless they were hashed right after a change', async () => {
    const first = await load();
    // Just written: hashed within the racy window, so the next load still reads them.
    expect(first.unread).toBe(0);
    expect((await load()).unread).toBe(0);
    const old = new Date(Date.now() - 3600_000);
    for (const name of ['r0', 'r1', 'r2', 'r3', 'r4', 'broken']) utimesSync(join(rules, 'win', `${name}.yml`), old, old);
    // utimes moved the ctime to now: read and hashed once more (content unchanged: not parsed)…
    expect(await load()).toEqual(expect.objectContaining({ cached: 6, unread: 0 }));
    // …and trusted from metadata once the ctime is outside the racy window: the clock (Date only) moved
    // 2.1 s on instead of waiting for it; the files' ctimes stay where the filesystem put them.
    jest.useFakeTimers({ now: Date.now() + 2100, doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
    try {
      await load();
      const fourth = await load();
      expect(fourth).toEqual(expect.objectContaining({ cached: 6, unread: 6 }));
      expect(fourth.evidence).toEqual((await loadEvidenceDetailed({ rulesDirs: [rules] })).evidence);
    } finally {
      jest.useRealTimers();
    }
  });

  it('ignores a corrupt or foreign cache file, says why, and rewrites it', async () => {
    mkdirSync(join(dir, 'state'));
    writeFileSync(cacheFile, '{"format": 2, "fingerprint": "someone else", "entries": []}');
    const first = await load();
    expect(first.cacheIgnored).toMatch(/other loader code or parser versions/);
    expect(first.cached).toBe(0);
    expect((await load()).cached).toBe(6);
    writeFileSync(cacheFile, '{not json');
    const third = await load();
    expect(third.cacheIgnored).toMatch(/unreadable/);
    expect(third.evidence.rules).toHaveLength(5);
  });

  it('does not reuse an entry for the same content under another path (the path is part of the rule)', async () => {
    await load();
    mkdirSync(join(rules, 'deprecated'));
    writeFileSync(join(rules, 'deprecated', 'r0.yml'), readFileSync(join(rules, 'win', 'r0.yml')));
    const warm = await load();
    expect(warm.cached).toBe(6);
    expect(warm.evidence.rules.filter((r) => r.id === 'r0').map((r) => [r.path, r.maturity]).sort()).toEqual([
      [join('deprecated', 'r0.yml'), 'deprecated'],
      [join('win', 'r0.yml'), 'experimental'],
    ]);
  });
});

describe('a broken rule file on reload', () => {
  it('keeps the previous rule of that file and says so; a new broken file is only an issue', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keep-previous-'));
    try {
      writeFileSync(join(dir, 'a.yml'), sigma('a', 't1001'));
      const first = await loadRulesFromDirs([dir]);
      writeFileSync(join(dir, 'a.yml'), 'title: [half written');
      writeFileSync(join(dir, 'b.yml'), 'title: [broken');
      const second = await loadRulesFromDirs([dir], { previous: first.byFile });
      expect(second.rules).toEqual(first.rules);
      expect(second.issues).toEqual([
        { path: join(dir, 'a.yml'), reason: expect.stringMatching(/^yaml: invalid at line 1: .*; the previous version of this rule is kept until the file is fixed$/) },
        { path: join(dir, 'b.yml'), reason: expect.stringMatching(/^yaml: invalid at line 1/) },
      ]);
      expect(second.issues[1].reason).not.toMatch(/previous version/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
