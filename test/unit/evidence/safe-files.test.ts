import { mapLimit, resolveWithinRoot } from '../../../src/adapters/evidence/safe-files';

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
});
