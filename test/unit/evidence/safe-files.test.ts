import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mapLimit, readFileBoundedSync, readFilesInBatches, readTextBounded, resolveWithinRoot } from '../../../src/adapters/evidence/safe-files';

describe('safe file access', () => {
  it('rejects paths that climb out of the root with ..', () => {
    expect(resolveWithinRoot('/data/rules', '../secrets.yml')).toBeUndefined();
    expect(resolveWithinRoot('/data/rules', 'sigma/../../etc/passwd')).toBeUndefined();
    expect(resolveWithinRoot('/data/rules', '/etc/passwd')).toBeUndefined();
    expect(resolveWithinRoot('/data/rules', '/data/rules-other/x.yml')).toBeUndefined();
  });

  it('accepts paths that stay inside the root, even with a .. segment', () => {
    expect(resolveWithinRoot('/data/rules', 'sigma/../elastic/r.toml')).toBe('/data/rules/elastic/r.toml');
    expect(resolveWithinRoot('/data/rules', '..hidden/x.yml')).toBe('/data/rules/..hidden/x.yml');
    expect(resolveWithinRoot('/data/rules', '.')).toBe('/data/rules');
  });

  it('never runs more than the limit at once and keeps results in input order', async () => {
    let running = 0;
    let peak = 0;
    const gates: Array<() => void> = [];
    const done = mapLimit([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => gates.push(resolve));
      running -= 1;
      return n * 10;
    });
    // Release one waiting task at a time until all have run.
    for (let released = 0; released < 7; released += 1) {
      while (gates.length === 0) await Promise.resolve();
      gates.shift()?.();
      await Promise.resolve();
    }
    expect(await done).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(peak).toBe(3);
  });

  it('reads text with size, mtime and hash: BOM dropped, size limit, missing file, folder; in batches, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'read-bounded-'));
    try {
      writeFileSync(join(dir, 'bom.yml'), '\uFEFFtitle: x\n');
      writeFileSync(join(dir, 'big.yml'), 'x'.repeat(2048));
      const cases: Array<[string, object]> = [
        ['bom.yml', { ok: true, text: 'title: x\n' }],
        ['big.yml', { ok: false, reason: 'file too large: 2048 bytes, limit 1024 (LIMITS_MAX_RULE_FILE_BYTES)' }],
        ['none.yml', { ok: false, reason: 'not found' }],
        ['.', { ok: false, reason: 'not a regular file' }],
      ];
      for (const [name, expected] of cases) {
        expect(await readTextBounded(join(dir, name), 1024)).toEqual(expected);
      }
      const paths = cases.map(([name]) => join(dir, name));
      const batched: unknown[] = [];
      await readFilesInBatches(paths, 1024, (start, results) => results.forEach((r, i) => (batched[start + i] = r)));
      expect(batched).toEqual(paths.map((p) => readFileBoundedSync(p, 1024)));
      expect(batched[0]).toEqual(expect.objectContaining({ ok: true, size: 12, hash: expect.stringMatching(/^[0-9a-f]{40}$/) }));
      expect((batched[0] as { text: string }).text).toBe('title: x\n');
      // Several batches: every file once, in order.
      const many = Array.from({ length: 70 }, (_, i) => join(dir, `r${i}.yml`));
      many.forEach((p, i) => writeFileSync(p, `n: ${i}\n`));
      const texts: string[] = [];
      let batches = 0;
      await readFilesInBatches(many, 1024, (start, results) => {
        batches += 1;
        results.forEach((r, i) => (texts[start + i] = r.ok ? r.text : r.reason));
      });
      expect(batches).toBe(3);
      expect(texts).toEqual(many.map((_, i) => `n: ${i}\n`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

});
