import { createDueIndex } from '../../../src/domain/schedule/due-index';

const at = (minutes: number): Date => new Date(Date.UTC(2026, 0, 1, 0, minutes));

describe('due index', () => {
  it('returns the due keys earliest first and keeps the others', () => {
    const index = createDueIndex();
    index.set('c', at(30));
    index.set('a', at(10));
    index.set('b', at(20));
    expect(index.takeDue(at(20))).toEqual(['a', 'b']);
    expect(index.size).toBe(1);
    expect(index.peek()).toEqual({ key: 'c', at: at(30) });
  });

  it('moves a key when it is set again (no stale duplicate comes out)', () => {
    const index = createDueIndex();
    index.set('a', at(10));
    index.set('a', at(50));
    expect(index.takeDue(at(20))).toEqual([]);
    expect(index.takeDue(at(60))).toEqual(['a']);
    expect(index.takeDue(at(60))).toEqual([]);
  });

  it('forgets a removed key', () => {
    const index = createDueIndex();
    index.set('a', at(10));
    index.remove('a');
    expect(index.takeDue(at(60))).toEqual([]);
    expect(index.get('a')).toBeUndefined();
  });

  it('takes at most `limit` keys and leaves the rest due', () => {
    const index = createDueIndex();
    for (let i = 0; i < 5; i += 1) index.set(`k${i}`, at(i));
    expect(index.takeDue(at(10), 2)).toEqual(['k0', 'k1']);
    expect(index.takeDue(at(10))).toEqual(['k2', 'k3', 'k4']);
  });

  it('stays ordered through many random updates (heap invariant)', () => {
    const index = createDueIndex();
    const expected = new Map<string, number>();
    let seed = 42;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 5000; i += 1) {
      const key = `k${Math.floor(rand() * 300)}`;
      if (rand() < 0.1) {
        index.remove(key);
        expected.delete(key);
      } else {
        const m = Math.floor(rand() * 10000);
        index.set(key, at(m));
        expected.set(key, at(m).getTime());
      }
    }
    const out = index.takeDue(at(100000));
    const sorted = [...expected.entries()].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0])).map(([k]) => k);
    expect(out).toEqual(sorted);
    expect(index.size).toBe(0);
  });
});
