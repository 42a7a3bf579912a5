import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFiles } from '../../../src/adapters/evidence/reader-thread';
import { mapLimit, readFileBoundedSync, readTextBounded, resolveWithinRoot, textOf } from '../../../src/adapters/evidence/safe-files';

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

  it('reads text the same way on the event loop and on the reader thread: BOM dropped, size limit, missing file, folder', async () => {
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
      const onThread: unknown[] = [];
      await readFiles(paths, { maxBytes: 1024, thread: true }, (start, results) => results.forEach((r, i) => (onThread[start + i] = r)));
      expect(onThread).toEqual(paths.map((p) => readFileBoundedSync(p, 1024)));
      expect(onThread[0]).toEqual(expect.objectContaining({ ok: true, size: 12, hash: expect.stringMatching(/^[0-9a-f]{40}$/) }));
      expect(textOf((onThread[0] as { bytes: Buffer }).bytes)).toBe('title: x\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads here whatever the reader thread did not deliver when it dies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'read-thread-dies-'));
    try {
      const paths = Array.from({ length: 150 }, (_, i) => join(dir, `r${i}.yml`));
      paths.forEach((p, i) => writeFileSync(p, `n: ${i}\n`));
      const dying = "require('node:worker_threads').parentPort.on('message', () => { throw new Error('reader boom'); });";
      const got: Array<{ ok: boolean; bytes?: Buffer }> = [];
      let batches = 0;
      await readFiles(paths, { maxBytes: 1024, thread: true, threadSource: dying }, (start, results) => {
        batches += 1;
        results.forEach((r, i) => (got[start + i] = r));
      });
      expect(batches).toBe(5); // 150 files in batches of 32
      expect(got.map((r) => r.bytes && textOf(r.bytes))).toEqual(paths.map((_, i) => `n: ${i}\n`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
